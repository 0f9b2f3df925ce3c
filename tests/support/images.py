"""Small synthetic uploads, each built to make one correctness property visible in pixels."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw, ImageFilter

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)

# How each EXIF orientation stores an upright picture: the inverse of what a viewer applies.
_STORE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright_marked(width: int = 600, height: int = 400) -> Image.Image:
    """Blue picture whose top-left quadrant is red and top-right quadrant green."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    return image


def jpeg_with_orientation(orientation: int, width: int = 600, height: int = 400) -> bytes:
    """The upright marked picture, stored so that applying `orientation` restores it."""
    upright = upright_marked(width, height)
    method = _STORE[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def transparent_png(width: int = 300, height: int = 200) -> bytes:
    """Left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (width // 2, 0, width, height))
    return encode(image, "PNG")


def palette_trns_png() -> bytes:
    """A palette PNG whose index 0 is transparent via tRNS; the rest is palette green."""
    image = Image.new("P", (200, 100), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (100, 0, 200, 100))
    return encode(image, "PNG", transparency=0)


def png16(width: int, height: int, rgb16: tuple[int, int, int] | None = None,
          gray16: int | None = None) -> bytes:
    """A 16-bit PNG (RGB or grayscale) written chunk by chunk, as cameras and editors do."""
    if gray16 is not None:
        colour_type, pixel = 0, struct.pack(">H", gray16)
    else:
        colour_type, pixel = 2, struct.pack(">HHH", *rgb16)
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def cmyk_jpeg(cmyk: tuple[int, int, int, int], icc_profile: bytes | None = None) -> bytes:
    image = Image.new("CMYK", (64, 64), cmyk)
    options = {"icc_profile": icc_profile} if icc_profile else {}
    return encode(image, "JPEG", quality=100, **options)


def tagged(image: Image.Image, icc_profile: bytes, fmt: str = "PNG") -> bytes:
    return encode(image, fmt, icc_profile=icc_profile)


def jpeg_with_gps_and_serial() -> bytes:
    """A camera-like JPEG carrying GPS coordinates and a body serial number."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 450D"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:05:01 12:34:56"
    exif_ifd[0x829A] = 0.004
    exif_ifd[0xA431] = "SERIAL-0123456789"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 12.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 31.0)
    return encode(upright_marked(800, 600), "JPEG", quality=90, exif=exif.tobytes())


def decompression_bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header declares width×height pixels (IDAT holds only one row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b""))


def heavy_png(width: int = 10000, height: int = 10000) -> bytes:
    """A real width×height grey PNG that compresses to almost nothing: small to upload,
    slow and memory-hungry to decode (100 MP by default, the pixel limit)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row = b"\x00" + b"\x80" * width  # filter byte, then mid-grey
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def plain_jpeg(width: int = 640, height: int = 480, colour=(120, 160, 200)) -> bytes:
    return encode(Image.new("RGB", (width, height), colour), "JPEG", quality=90)


def open_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def with_subject(width: int, height: int, at: tuple[float, float], radius: int = 60,
                 seed: int = 7) -> Image.Image:
    """A muted, softly textured grey-green scene with one saturated red-orange subject (a
    disc whose centre is at `at`, fractions of the width and height)."""
    import random

    rng = random.Random(seed)
    scene = Image.new("RGB", (width, height), (112, 122, 108))
    noise = Image.frombytes("L", (width, height),
                            bytes(rng.randrange(100, 124) for _ in range(width * height)))
    scene = Image.merge("RGB", [noise, noise.point(lambda v: v + 8), noise])
    draw = ImageDraw.Draw(scene)
    cx, cy = at[0] * width, at[1] * height
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=SUBJECT)
    draw.ellipse((cx - radius / 3, cy - radius / 3, cx + radius / 3, cy + radius / 3),
                 fill=(250, 220, 60))
    return scene


SUBJECT = (225, 60, 30)


def subject_share(image: Image.Image) -> float:
    """The fraction of `image` that is the subject's red-orange."""
    data = image.convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    hits = sum(1 for r, g, b in pixels if r > 170 and g < 120 and b < 90)
    return hits / (image.width * image.height)


def photo_like(width: int = 1600, height: int = 1200) -> Image.Image:
    """Smooth blobs, gradients and fine grain: what JPEG encoders are tuned for."""
    channels = []
    for turn in range(3):
        blobs = Image.effect_noise((width // 16, height // 16), 64).resize(
            (width, height), Image.Resampling.BICUBIC)
        grain = Image.effect_noise((width, height), 24).filter(ImageFilter.GaussianBlur(1))
        gradient = Image.linear_gradient("L").resize((width, height)).rotate(90 * turn)
        channels.append(Image.blend(Image.blend(blobs, gradient, 0.4), grain, 0.3))
    return Image.merge("RGB", channels)
