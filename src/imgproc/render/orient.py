"""Turn the stored pixels upright, as the EXIF orientation says a viewer would show them."""

from __future__ import annotations

from PIL import Image

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The displayed size: orientations 5-8 swap width and height."""
    return (size[1], size[0]) if orientation >= 5 else size


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image
