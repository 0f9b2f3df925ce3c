"""Small, valid seed files for every accepted format, built in memory and reproducibly.

Every seed is at most 64×64 and exercises one feature the render path has to handle: EXIF
orientation, an embedded ICC profile, 16-bit samples, palettes with tRNS, transparency,
animation, multi-page TIFF, CMYK. The mutators (`mutators.py`) start from these.

The `unread-*` seeds are image formats imgproc does not read (BMP, ICO, SVG, PPM, PSD,
JPEG XL, TGA), each uploaded under its own extension (`upload_name`): the upload must end
FAILED UnsupportedFormat with a sentence naming the format. Two of them hold a supported
format under such a name (a JPEG named .bmp, a HEIF named .heics): those must render.

    python -m tests.fuzz.seeds DIR     # write them out, e.g. to seed another fuzzer
"""

from __future__ import annotations

import functools
import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw

from tests.support.icc import D65_XY, cmyk_lut_profile, rgb_matrix_profile

P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _picture(size: tuple[int, int] = (48, 32), mode: str = "RGB") -> Image.Image:
    """A few flat blocks and a diagonal: compressible, yet not trivially uniform."""
    image = Image.new("RGB", size, (30, 90, 200))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((0, 0, w // 2, h // 2), fill=(220, 30, 30))
    draw.rectangle((w // 2, 0, w, h // 2), fill=(30, 200, 60))
    draw.line((0, h - 1, w - 1, 0), fill=(250, 250, 250), width=2)
    return image.convert(mode) if mode != "RGB" else image


def _rgba(size: tuple[int, int] = (40, 40)) -> Image.Image:
    image = _picture(size).convert("RGBA")
    alpha = Image.linear_gradient("L").resize(size)
    image.putalpha(alpha)
    return image


def _frames(count: int = 3, size: tuple[int, int] = (32, 24)) -> list[Image.Image]:
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]
    frames = []
    for index in range(count):
        frame = _picture(size)
        ImageDraw.Draw(frame).rectangle((index * 4, 4, index * 4 + 8, 12),
                                        fill=colours[index % 4])
        frames.append(frame)
    return frames


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FuzzCam"
    exif[0x0110] = "Seed 1"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2024:05:01 12:34:56"
    ifd[0x829A] = 0.004
    ifd[0x8827] = 200
    return exif.tobytes()


@functools.cache
def srgb_profile() -> bytes:
    """LittleCMS's sRGB, made reproducible: its header's creation date (bytes 24-35) is fixed
    and the profile ID (an MD5 over it, bytes 84-99) cleared, which means "not computed"."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile[:24] + struct.pack(">6H", 2001, 4, 1, 0, 0, 0) + profile[36:84] \
        + b"\0" * 16 + profile[100:]


@functools.cache
def p3_profile() -> bytes:
    return rgb_matrix_profile("Fuzz Display P3", P3_PRIMARIES, D65_XY, 2.2)


@functools.cache
def cmyk_profile() -> bytes:
    return cmyk_lut_profile("Fuzz CMYK")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_rgb16(width: int = 24, height: int = 16) -> bytes:
    """16-bit RGB PNG (Pillow cannot write one), a gradient so the low byte matters."""
    rows = []
    for y in range(height):
        row = b"".join(struct.pack(">HHH", x * 2700, y * 4000, 65535 - x * 2700)
                       for x in range(width))
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"".join(rows))) + _png_chunk(b"IEND", b""))


def _palette_trns() -> bytes:
    image = Image.new("P", (40, 24), 0)
    image.putpalette([0, 0, 0, 0, 200, 0, 200, 0, 0] + [0] * (253 * 3))
    image.paste(1, (20, 0, 40, 24))
    image.paste(2, (0, 12, 20, 24))
    return _save(image, "PNG", transparency=0)


def _tiff_multipage() -> bytes:
    first, *rest = _frames(3)
    return _save(first, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate")


def _heif() -> bytes | None:
    try:
        from pillow_heif import from_pillow
    except ImportError:
        return None
    try:
        heif = from_pillow(_picture((32, 32)))
        buffer = io.BytesIO()
        heif.save(buffer, quality=60)
        return buffer.getvalue()
    except Exception:  # no HEVC encoder in this build of libheif
        return None


def _psd(width: int = 24, height: int = 16) -> bytes:
    """A Photoshop file (Pillow reads PSD but cannot write it): header (signature, version 1,
    6 reserved bytes, 3 channels, height, width, 8 bits, RGB), empty colour-mode, resource
    and layer sections, then raw (uncompressed) planes."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    planes = _picture((width, height)).tobytes("raw", "RGB")
    planar = b"".join(planes[channel::3] for channel in range(3))
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + planar


def _jxl() -> bytes:
    """A JPEG XL container: its signature box, an `ftyp` box of brand `jxl `, and a `jxlc`
    box holding a codestream (FF 0A, then a size header and made-up bits)."""
    codestream = b"\xff\x0a" + bytes((0x05, 0x88, 0x00, 0x12)) + bytes(range(40))
    return (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00\x00\x00\x14ftypjxl \x00\x00\x00\x00jxl "
            + struct.pack(">I", 8 + len(codestream)) + b"jxlc" + codestream)


def _svg() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            b'width="48" height="32" viewBox="0 0 48 32"><rect width="24" height="16" '
            b'fill="#dc1e1e"/><path d="M0 31 L47 0" stroke="#fafafa" stroke-width="2"/></svg>\n')


# seed name -> the extension it is uploaded under (every other seed: input.jpg; its content
# decides). Formats imgproc does not read, and two supported ones under such names.
UNREAD_SEED_EXTENSIONS: dict[str, str] = {
    "unread-bmp": "bmp", "unread-ico": "ico", "unread-svg": "svg", "unread-ppm": "ppm",
    "unread-psd": "psd", "unread-jxl": "jxl", "unread-tga": "tga",
    "unread-name-jpeg-as-bmp": "bmp", "unread-name-heif-as-heics": "heics",
}


def upload_name(seed_name: str) -> str:
    """The file name an input made from this seed is uploaded under."""
    return f"input.{UNREAD_SEED_EXTENSIONS.get(seed_name, 'jpg')}"


def _unread_seeds(seeds: dict[str, bytes]) -> dict[str, bytes]:
    unread = {
        "unread-bmp": _save(_picture(), "BMP"),
        "unread-ico": _save(_rgba((32, 32)), "ICO", sizes=[(32, 32), (16, 16)]),
        "unread-svg": _svg(),
        "unread-ppm": _save(_picture((24, 16)), "PPM"),
        "unread-psd": _psd(),
        "unread-jxl": _jxl(),
        "unread-tga": _save(_picture((24, 16)), "TGA"),
        "unread-name-jpeg-as-bmp": seeds["jpeg-baseline-exif6-p3icc"],
    }
    if "heif" in seeds:
        unread["unread-name-heif-as-heics"] = seeds["heif"]
    return unread


@functools.cache
def build_seeds() -> dict[str, bytes]:
    """name → bytes; the name says format and feature (`jpeg-progressive-exif6-icc`)."""
    animated = _frames(3)
    seeds = {
        "jpeg-baseline-exif6-p3icc": _save(_picture(), "JPEG", quality=80, exif=_exif(6),
                                           icc_profile=p3_profile()),
        "jpeg-progressive-exif3-srgbicc": _save(_picture((40, 56)), "JPEG", quality=75,
                                                progressive=True, exif=_exif(3),
                                                icc_profile=srgb_profile()),
        "jpeg-gray": _save(_picture(mode="L"), "JPEG", quality=70),
        "jpeg-cmyk-icc": _save(_picture((24, 24), "CMYK"), "JPEG", quality=80,
                               icc_profile=cmyk_profile()),
        "jpeg-444-restart": _save(_picture((64, 16)), "JPEG", quality=85, subsampling=0,
                                  restart_marker_blocks=1),
        "png-rgba": _save(_rgba(), "PNG"),
        "png-rgb16": png_rgb16(),
        "png-gray16": _save(_picture((24, 24), "L").convert("I;16"), "PNG"),
        "png-palette-trns": _palette_trns(),
        "png-interlaced-icc": _save(_picture((20, 20)), "PNG", interlace=1,
                                    icc_profile=p3_profile()),
        "png-exif8": _save(_picture((30, 20)), "PNG", exif=_exif(8)),
        "png-1bit": _save(_picture((33, 17), "1"), "PNG"),
        "apng": _save(animated[0], "PNG", save_all=True, append_images=animated[1:],
                      duration=50),
        "gif-animated": _save(animated[0], "GIF", save_all=True, append_images=animated[1:],
                              duration=50, loop=0),
        "gif-transparent": _save(_palette_trns_image(), "GIF", transparency=0),
        "webp-lossy": _save(_picture(), "WEBP", quality=60),
        "webp-lossless-rgba": _save(_rgba((24, 24)), "WEBP", lossless=True),
        "webp-animated": _save(animated[0], "WEBP", save_all=True,
                               append_images=animated[1:], duration=50),
        "webp-icc-exif": _save(_picture((20, 20)), "WEBP", quality=50,
                               icc_profile=p3_profile(), exif=_exif(5)),
        "tiff-multipage": _tiff_multipage(),
        "tiff-gray16": _save(_picture((16, 16), "L").convert("I;16"), "TIFF"),
        "tiff-cmyk-lzw": _save(_picture((16, 16), "CMYK"), "TIFF", compression="tiff_lzw"),
        "tiff-rgba-exif7": _save(_rgba((16, 16)), "TIFF", exif=_exif(7)),
        "avif": _save(_picture((32, 24)), "AVIF", quality=50),
        "avif-rgba": _save(_rgba((16, 16)), "AVIF", quality=50),
    }
    heif = _heif()
    if heif is not None:
        seeds["heif"] = heif
    seeds.update(_unread_seeds(seeds))
    return seeds


def _palette_trns_image() -> Image.Image:
    image = Image.new("P", (24, 24), 0)
    image.putpalette([0, 0, 0, 250, 120, 0] + [0] * (254 * 3))
    image.paste(1, (6, 6, 18, 18))
    return image


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz-seeds")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in build_seeds().items():
        (out / name).write_bytes(data)  # no extension: the content is what a fuzzer mutates
        print(f"{name:34} {len(data):6} bytes")


if __name__ == "__main__":
    main()
