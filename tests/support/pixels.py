"""Pixel assertions that survive encoder changes: colours within a tolerance, not bytes."""

from __future__ import annotations

from PIL import Image


def colour_at(image: Image.Image, fx: float, fy: float) -> tuple[int, ...]:
    """The pixel at a fraction of the width and height (0.25, 0.25 is the top-left quadrant)."""
    x = min(image.width - 1, int(image.width * fx))
    y = min(image.height - 1, int(image.height * fy))
    return image.convert("RGBA" if "A" in image.getbands() else "RGB").getpixel((x, y))


def close(actual, expected, tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def dominant_channel(pixel) -> str:
    return "RGB"[max(range(3), key=lambda i: pixel[i])]
