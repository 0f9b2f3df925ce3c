"""What a page shows before the picture: a blurred 20 px JPEG, a ThumbHash, a dominant colour.

All three come from the upright sRGB picture, so a placeholder is never sideways.
"""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageFilter

from .flatten import flatten
from .thumbhash import rgba_to_thumbhash

PLACEHOLDER_BOX = 20
THUMBHASH_BOX = 32  # ThumbHash keeps only low frequencies; 32 px gives the same hash as 100 px


def placeholder_data_url(image: Image.Image, background: str) -> str:
    small = _fit(image, PLACEHOLDER_BOX)
    small = flatten(small, "jpeg", background).filter(ImageFilter.GaussianBlur(2))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=50, optimize=True)  # optimal Huffman tables: half the bytes
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbhash_of(image: Image.Image) -> str:
    small = _fit(image, THUMBHASH_BOX).convert("RGBA")
    return base64.b64encode(rgba_to_thumbhash(small.width, small.height, small.tobytes())).decode()


def dominant_colour(image: Image.Image, background: str) -> str:
    """The most common of a few representative colours (a median cut of a 64 px copy)."""
    small = flatten(_fit(image, 64), "jpeg", background)
    palette_image = small.quantize(colors=5, method=Image.Quantize.MEDIANCUT)
    _count, index = max(palette_image.getcolors())
    palette = palette_image.getpalette()
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _fit(image: Image.Image, box: int) -> Image.Image:
    scale = min(1.0, box / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX) if size != image.size else image
