"""Uploads whose colour is signalled without (or besides) an ICC profile, made in Python:
AVIF with a rewritten nclx property, 10/12-bit HDR HEIF through pillow-heif, PNG with
gAMA/cHRM/cICP chunks, and TIFFs stored rotated under an Orientation tag."""

from __future__ import annotations

import array
import io
import struct
import sys

from PIL import Image, PngImagePlugin, TiffImagePlugin

from tests.support.images import encode

STRIPE = 100  # each flat patch is this many pixels square, so its centre survives chroma


def stripes(colours, mode: str = "RGB") -> Image.Image:
    """Flat patches side by side, left to right."""
    image = Image.new(mode, (STRIPE * len(colours), STRIPE))
    for i, colour in enumerate(colours):
        image.paste(colour, (i * STRIPE, 0, (i + 1) * STRIPE, STRIPE))
    return image


def stripe_centres(image: Image.Image, count: int) -> list[tuple[int, ...]]:
    """The colour at the centre of each of `count` equal patches of a rendered variant."""
    rgb = image.convert("RGB")
    return [rgb.getpixel((int((i + 0.5) * rgb.width / count), rgb.height // 2))
            for i in range(count)]


def avif_with_nclx(image: Image.Image, primaries: int, transfer: int,
                   icc_profile: bytes | None = None) -> bytes:
    """A lossless-quality AVIF from Pillow (libavif) whose `colr`/`nclx` property is rewritten
    to say `primaries`/`transfer` (H.273). The pixels and the matrix coefficients are left as
    encoded: decoded RGB is the same, only its meaning changes."""
    options = {"quality": 100, "subsampling": "4:4:4"}
    if icc_profile:
        options["icc_profile"] = icc_profile
    data = encode(image, "AVIF", **options)
    at = data.index(b"colrnclx") + 8
    assert data.count(b"colrnclx") == 1
    return data[:at] + struct.pack(">HH", primaries, transfer) + data[at + 4:]


def hdr_heif(signals: list[tuple[float, float, float]], bits: int, primaries: int = 9,
             transfer: int = 16) -> bytes:
    """A `bits`-bit HEIF (HEVC, 4:4:4, BT.2020 non-constant-luminance matrix) of flat patches
    whose R'G'B' signals (0..1) are given, with an nclx saying `primaries`/`transfer`."""
    import pillow_heif

    width, height = STRIPE * len(signals), STRIPE
    samples = array.array("H")
    row = array.array("H")
    for rgb in signals:
        # pillow-heif takes 16-bit samples and keeps the top `bits` of them
        codes = [round(v * (2**bits - 1)) << (16 - bits) for v in rgb]
        row.extend(codes * STRIPE)
    for _ in range(height):
        samples.extend(row)
    if sys.byteorder == "big":
        samples.byteswap()
    previous = pillow_heif.options.SAVE_HDR_TO_12_BIT
    pillow_heif.options.SAVE_HDR_TO_12_BIT = bits == 12
    try:
        heif = pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=samples.tobytes())
        buffer = io.BytesIO()
        heif.save(buffer, quality=-1, chroma=444, color_primaries=primaries,
                  transfer_characteristics=transfer, matrix_coefficients=9, full_range_flag=1)
    finally:
        pillow_heif.options.SAVE_HDR_TO_12_BIT = previous
    return buffer.getvalue()


def png_with_chunks(image: Image.Image, *chunks: tuple[bytes, bytes], **options) -> bytes:
    """A PNG with extra chunks (type, payload) written before the image data."""
    info = PngImagePlugin.PngInfo()
    for kind, payload in chunks:
        info.add(kind, payload)
    return encode(image, "PNG", pnginfo=info, **options)


def gama(gamma: float) -> tuple[bytes, bytes]:
    return b"gAMA", struct.pack(">I", round(gamma * 100000))


def chrm(white, red, green, blue) -> tuple[bytes, bytes]:
    values = [*white, *red, *green, *blue]
    return b"cHRM", struct.pack(">8I", *(round(v * 100000) for v in values))


def cicp(primaries: int, transfer: int) -> tuple[bytes, bytes]:
    return b"cICP", bytes([primaries, transfer, 0, 1])


def tiff_with_orientation(stored: Image.Image, orientation: int, compression: str) -> bytes:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[0x0112] = orientation
    return encode(stored, "TIFF", compression=compression, tiffinfo=tags)
