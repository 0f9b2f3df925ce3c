"""JPEG has no transparency: composite onto the configured background instead of black."""

from __future__ import annotations

from PIL import Image, ImageColor

from ..formats import format_named


def flatten(image: Image.Image, fmt: str, background: str) -> Image.Image:
    if image.mode != "RGBA" or format_named(fmt).alpha:
        return image
    canvas = Image.new("RGB", image.size, ImageColor.getrgb(background))
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas
