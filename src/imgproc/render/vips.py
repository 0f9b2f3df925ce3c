"""libvips (pyvips, with the libvips of pyvips-binary) for the steps where it beats Pillow.

- Resampling: libvips' Lanczos-3 is vectorised, about five times faster than Pillow's on the
  same pixels (bench/run.py).
- WebP decoding: Pillow decodes every WebP through libwebp's animation decoder, two
  canvases besides its own copy, about 16 bytes a pixel: a 100 MP WebP peaked at 1.6 GB.
  libvips asks libwebp to scale while decoding (shrink-on-load, as for JPEG), so a still
  WebP costs only what the variants need, and an animation's first frame one canvas.

Everything else stays in Pillow, which opens every upload (header, EXIF, ICC), decodes every
other format, and carries the colour, orientation and limit handling the tests pin down. Of
libvips' loaders only WebP's is allowed, for bytes already identified as WebP and within the
limits; it is the same libwebp Pillow would use.

pyvips is imported on first use, so commands that never render do not pay for it.
"""

from __future__ import annotations

import functools
import os

from PIL import Image

from ..errors import CorruptImage, library_words

# Bands of the two modes that reach resampling and encoding (colour.to_working_mode).
_BANDS = {"RGB": 3, "RGBA": 4}
STRIP_BYTES = 1 << 20


@functools.cache
def _pyvips():
    """pyvips, set up once: no operation cache, loaders blocked, one thread unless told.

    The cache only holds memory (every picture is new). One worker thread: a Lambda at the
    stack's memory size has one vCPU, and parallelism comes from concurrent invocations and
    `--workers`; VIPS_CONCURRENCY overrides it.
    """
    import pyvips

    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    pyvips.operation_block_set("VipsForeignLoad", True)
    pyvips.operation_block_set("VipsForeignLoadWebpBuffer", False)
    if "VIPS_CONCURRENCY" not in os.environ:
        pyvips.concurrency_set(1)
    return pyvips


def to_vips(image: Image.Image):
    """An RGB or RGBA Pillow picture as a libvips image over a packed copy of its pixels."""
    pyvips = _pyvips()
    bands = _BANDS[image.mode]
    data = packed_pixels(image)  # pyvips keeps a reference for as long as the image lives
    return pyvips.Image.new_from_memory(data, image.width, image.height, bands, "uchar").copy(
        interpretation="srgb")


def packed_pixels(image: Image.Image, strip_bytes: int = STRIP_BYTES) -> bytearray:
    """`image.tobytes()`, strip by strip into one buffer.

    `tobytes` gathers chunks and then joins them, holding two packed copies at once: for a
    decoded 6 MP photo that is 36 MB on top of the picture. Strips keep the extra to one strip.
    """
    row = image.width * _BANDS[image.mode]
    rows = max(1, strip_bytes // row)
    data = bytearray(row * image.height)
    for top in range(0, image.height, rows):
        bottom = min(image.height, top + rows)
        data[top * row:bottom * row] = image.crop((0, top, image.width, bottom)).tobytes()
    return data


def to_pillow(vimage, mode: str) -> Image.Image:
    """Evaluate a libvips pipeline into a Pillow picture of `mode` (RGB or RGBA)."""
    return Image.frombytes(mode, (vimage.width, vimage.height), vimage.write_to_memory())


def resample(vimage, size: tuple[int, int], box: tuple[float, float, float, float],
             gap: float):
    """`box` of a libvips image scaled to exactly `size` with Lanczos-3 (lazily evaluated).

    The box is rounded to whole pixels (it is a centre crop's: half a source pixel is
    invisible). RGBA is premultiplied around the resampling, so transparent pixels never bleed
    their hidden colour into visible ones. `gap` is Pillow's reducing_gap: while the ratio is
    at least that large, a box filter does the integer part of the reduction first.
    """
    left, top = round(box[0]), round(box[1])
    width = max(1, min(vimage.width - left, round(box[2] - box[0])))
    height = max(1, min(vimage.height - top, round(box[3] - box[1])))
    if (left, top, width, height) != (0, 0, vimage.width, vimage.height):
        vimage = vimage.crop(left, top, width, height)
    alpha = vimage.bands == 4
    if alpha:
        vimage = vimage.premultiply()
    vimage = vimage.resize(size[0] / width, vscale=size[1] / height, kernel="lanczos3",
                           gap=gap)
    if alpha:
        vimage = vimage.unpremultiply().cast("uchar")
    return vimage


def decode_webp(data: bytes, scale: float) -> Image.Image:
    """The first frame of a WebP, scaled by libwebp while decoding, as RGB or RGBA."""
    pyvips = _pyvips()
    try:
        vimage = pyvips.Image.webpload_buffer(data, scale=scale, access="sequential")
        return to_pillow(vimage, "RGBA" if vimage.bands == 4 else "RGB")
    except pyvips.Error as exc:
        words = library_words(exc)
        raise CorruptImage(f"The WebP data is truncated or corrupt ({words}).") from None
