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


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _children(data: bytes):
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        yield kind, data[pos + 8:pos + size]
        pos += size


def with_nclx_property(data: bytes, primaries: int, transfer: int, matrix: int = 6) -> bytes:
    """A HEIF/AVIF without any `colr` (as libvips writes them) given an nclx property on its
    primary item: the colr box is appended to ipco, associated in ipma, and the iloc offsets
    into mdat are moved by the bytes the meta box grew. Handles the layout libheif writes
    (meta before mdat, iloc version 0-2 with file offsets), which is all the tests need."""
    top = list(_children(data))
    colr = _box(b"colr", b"nclx" + struct.pack(">HHHB", primaries, transfer, matrix, 0x80))
    meta_body = dict(_children(next(body for kind, body in top if kind == b"meta")[4:]))
    primary = struct.unpack_from(">H", meta_body[b"pitm"], 4)[0]
    iprp = dict(_children(meta_body[b"iprp"]))
    ipco = iprp[b"ipco"] + colr
    index = len(list(_children(ipco)))
    ipma = bytearray(iprp[b"ipma"])
    assert ipma[0] == 0 and not ipma[3] & 1  # version 0, one-byte associations
    count, pos = struct.unpack_from(">I", ipma, 4)[0], 8
    for _ in range(count):
        item, n = struct.unpack_from(">HB", ipma, pos)
        if item == primary:
            ipma[pos + 2] = n + 1
            ipma[pos + 3 + n:pos + 3 + n] = bytes([0x80 | index])
            break
        pos += 3 + n
    new_iprp = _box(b"ipco", ipco) + _box(b"ipma", bytes(ipma))
    grow = len(new_iprp) - len(meta_body[b"iprp"])
    out, shift_from = [], None
    for kind, body in top:
        if kind == b"meta":
            parts = [body[:4]]
            for child, child_body in _children(body[4:]):
                if child == b"iprp":
                    child_body = new_iprp
                elif child == b"iloc":
                    child_body = _shift_iloc(child_body, grow)
                parts.append(_box(child, child_body))
            out.append(_box(b"meta", b"".join(parts)))
            shift_from = True
        else:
            out.append(_box(kind, body))
    assert shift_from
    return b"".join(out)


def _shift_iloc(body: bytes, grow: int) -> bytes:
    body = bytearray(body)
    version = body[0]
    offset_size, length_size = body[4] >> 4, body[4] & 15
    base_size, index_size = body[5] >> 4, (body[5] & 15 if version else 0)
    fmt = {0: None, 4: ">I", 8: ">Q"}
    pos = 6
    count = struct.unpack_from(">H" if version < 2 else ">I", body, pos)[0]
    pos += 2 if version < 2 else 4
    for _ in range(count):
        pos += 2 if version < 2 else 4
        method = struct.unpack_from(">H", body, pos)[0] & 15 if version else 0
        pos += (2 if version else 0) + 2
        base_at = pos
        pos += base_size
        extents = struct.unpack_from(">H", body, pos)[0]
        pos += 2
        for _ in range(extents):
            pos += index_size
            if method == 0 and base_size == 0:
                value = struct.unpack_from(fmt[offset_size], body, pos)[0]
                struct.pack_into(fmt[offset_size], body, pos, value + grow)
            pos += offset_size + length_size
        if method == 0 and base_size:
            value = struct.unpack_from(fmt[base_size], body, base_at)[0]
            struct.pack_into(fmt[base_size], body, base_at, value + grow)
    return bytes(body)


def vips_avif(signals: list[tuple[float, float, float]], bits: int) -> bytes:
    """A `bits`-bit AVIF (AV1 through libvips' libheif) of flat patches with R'G'B' signals."""
    import pyvips

    width = STRIPE * len(signals)
    row = array.array("H")
    for rgb in signals:
        row.extend([round(v * 65535) for v in rgb] * STRIPE)
    samples = row * STRIPE
    if sys.byteorder == "big":
        samples.byteswap()
    image = pyvips.Image.new_from_memory(samples.tobytes(), width, STRIPE, 3, "ushort")
    image = image.copy(interpretation="rgb16")
    return image.heifsave_buffer(compression="av1", bitdepth=bits, lossless=False, Q=100,
                                 subsample_mode="off")
