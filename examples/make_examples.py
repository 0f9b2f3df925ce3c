"""Regenerate the example uploads in this folder (they are committed; this shows how).

Each one exercises something pipelines often get wrong: a phone photo stored sideways with
GPS in its EXIF, a transparent logo, a CMYK print file, a 16-bit scan and an animated GIF.

    python examples/make_examples.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def sunset(width: int = 900, height: int = 600) -> Image.Image:
    sky = Image.linear_gradient("L").resize((width, height))
    bands = (sky.point(lambda v: 255 - v // 3), sky.point(lambda v: 120 + v // 4),
             sky.point(lambda v: 90 + v // 2))
    image = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.6, height * 0.25, width * 0.8, height * 0.55), fill=(255, 214, 90))
    for i in range(12):
        y = height * 0.62 + i * 16
        draw.line((0, y, width, y + 20 * math.sin(i)), fill=(30, 60 + i * 8, 90 + i * 6), width=9)
    draw.polygon([(0, height), (width * 0.35, height * 0.55), (width * 0.7, height)],
                 fill=(40, 45, 60))
    return image


def phone_photo() -> None:
    """Stored rotated, EXIF orientation 6 ("rotate 90° clockwise to view"), with GPS."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "ExampleCam"
    exif[0x0110] = "Model 1"
    exif.get_ifd(0x8769)[0x9003] = "2026:06:21 21:04:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 30.0), "E", (2.0, 17.0, 40.0)
    stored = sunset().transpose(Image.Transpose.ROTATE_90)
    stored.save(HERE / "phone-photo-rotated.jpg", quality=80, exif=exif.tobytes())


def logo() -> None:
    image = Image.new("RGBA", (480, 480), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 440, 440), fill=(220, 40, 90, 255))
    draw.ellipse((150, 150, 330, 330), fill=(0, 0, 0, 0))
    draw.rectangle((215, 0, 265, 480), fill=(30, 120, 220, 200))
    image.save(HERE / "logo-transparent.png", optimize=True)


def print_file() -> None:
    image = sunset(600, 400).convert("CMYK")
    image.save(HERE / "print-cmyk.jpg", quality=80)


def scan_16bit(width: int = 500, height: int = 320) -> None:
    """16-bit grayscale PNG, written chunk by chunk (Pillow saves 16-bit gray as I;16)."""
    rows = b"".join(
        b"\x00" + b"".join(struct.pack(">H", (x * 65535 // (width - 1)) ^ (y % 32) * 40)
                           for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
           + chunk(b"IEND", b""))
    (HERE / "scan-16bit.png").write_bytes(png)


def animation() -> None:
    frames = []
    for i in range(4):
        frame = Image.new("P", (320, 200), 0)
        frame.putpalette([250, 250, 250, 40, 140, 220, 240, 180, 30] + [0] * 759)
        ImageDraw.Draw(frame).ellipse((20 + i * 60, 60, 100 + i * 60, 140), fill=1 + i % 2)
        frames.append(frame)
    frames[0].save(HERE / "bouncing.gif", save_all=True, append_images=frames[1:], duration=120,
                   loop=0)


if __name__ == "__main__":
    phone_photo()
    logo()
    print_file()
    scan_16bit()
    animation()
    for path in sorted(HERE.iterdir()):
        if path.suffix != ".py":
            print(f"{path.name}: {path.stat().st_size:,} bytes")
