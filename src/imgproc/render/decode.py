"""Open an upload header-first, then decode it exactly once, as small as the variants allow."""

from __future__ import annotations

import io
import math
import warnings

from PIL import Image, ImageFile

from ..errors import CorruptImage, UnsupportedFormat, library_words
from ..formats import format_named
from .plugins import load_plugin
from .prescan import jpeg_frame
from .vips import decode_webp

# imgproc checks the pixel count itself from the header (limits.check_pixels) before any
# decode, with the configured limit; Pillow's own guard would refuse or warn by another number.
Image.MAX_IMAGE_PIXELS = None

def open_image(data: bytes, fmt: str) -> Image.Image:
    """Parse the header only; no pixel data is decoded yet."""
    if fmt == "jpeg":
        refuse_wide_jpeg(data)
    load_plugin(fmt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data), formats=[format_named(fmt).pillow])
    except Exception as exc:  # Pillow raises many types for bad headers
        raise CorruptImage(
            f"The {format_named(fmt).label} file is truncated or corrupt: its header cannot be "
            f"read ({library_words(exc)})."
        ) from None


def refuse_wide_jpeg(data: bytes) -> None:
    """A JPEG with more than 8 bits a sample (12-bit from cameras and medical or scientific
    software, up to 16-bit lossless) is valid but unreadable here: Pillow identifies only
    8-bit frames and libvips' libjpeg (mozjpeg) is built for 8 bits, so both would call the
    file corrupt. Say what it is instead; browsers do not display such files either."""
    frame = jpeg_frame(data)
    if frame is None or frame[1] == 8:
        return
    marker, bits = frame
    kind = "lossless JPEG" if marker in (0xC3, 0xC7, 0xCB, 0xCF) else "JPEG"
    raise UnsupportedFormat(
        f"The file is a {bits}-bit {kind}, as some cameras and medical or scientific software "
        f"write; imgproc reads only 8-bit JPEG, as browsers do. Save it as an 8-bit JPEG, or "
        f"as a 16-bit PNG or TIFF."
    )


def decode(image: Image.Image, data: bytes, fmt: str, scale: float) -> Image.Image:
    """Load the first frame, shrunk on load to at least `scale` of full size where the format
    allows it (JPEG in the DCT domain, WebP in libwebp's decoder).

    Shrink-on-load makes the decoder skip most of the work for big photos: a 12 MP upload
    whose largest variant is 1200 px wide is decoded at 3/8 scale (1512 px), never smaller
    than the largest variant needs.
    """
    if fmt == "webp":
        return decode_webp(data, min(1.0, scale))
    if fmt == "jpeg" and scale < 1:
        shrink_on_load(image, scale)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except Exception as exc:  # truncated data, bad chunks, decoder errors
        raise CorruptImage(
            f"The {format_named(fmt).label} data is truncated or corrupt ({library_words(exc)})."
        ) from None
    return image


def shrink_on_load(image: Image.Image, scale: float) -> None:
    """Ask libjpeg for the smallest of 1/8, 1/4, 3/8 or 1/2 that is still ≥ `scale`.

    Pillow's `draft` offers powers of two only; libjpeg-turbo scales in eighths. 3/8 matters:
    a 4032 px photo for 1200 px variants decodes to 1512 px instead of 2016 px, so every
    later step touches 44 % fewer pixels. libjpeg turns a requested 1/3 into 3/8.
    """
    width, height = image.size
    needed = (math.ceil(width * scale), math.ceil(height * scale))
    three_eighths = (math.ceil(width * 3 / 8), math.ceil(height * 3 / 8))
    quarter = (math.ceil(width / 4), math.ceil(height / 4))
    fits = three_eighths[0] >= needed[0] and three_eighths[1] >= needed[1]
    if fits and not (quarter[0] >= needed[0] and quarter[1] >= needed[1]) \
            and _draft_three_eighths(image, three_eighths):
        return
    image.draft(image.mode, needed)


def _draft_three_eighths(image: Image.Image, size: tuple[int, int]) -> bool:
    """What `JpegImageFile.draft` does for 1/2, with libjpeg's denominator 3 (→ 3/8)."""
    if len(image.tile) != 1 or image.decoderconfig or image.tile[0].extents is None:
        return False
    tile = image.tile[0]
    left, top = tile.extents[:2]
    image.tile = [ImageFile._Tile(tile.codec_name, (left, top, left + size[0], top + size[1]),
                                  tile.offset, tile.args)]
    image._size = size
    image.decoderconfig = (3, 0)
    return True




