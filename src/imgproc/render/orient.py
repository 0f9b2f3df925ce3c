"""Turn the stored pixels upright, as the EXIF orientation says a viewer would show them.

libvips does it (`autorot`), lazily: the rotation happens as the resampler reads the pixels,
so a rotated photo costs what an upright one of the same size does, never a full-size
transposed copy of the decoded picture.
"""

from __future__ import annotations


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The displayed size: orientations 5-8 swap width and height."""
    return (size[1], size[0]) if orientation >= 5 else size


def upright(vimage, orientation: int):
    """A libvips image of stored pixels, turned as EXIF `orientation` (1-8) says."""
    if not 2 <= orientation <= 8:
        return vimage
    import pyvips

    tagged = vimage.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return tagged.autorot()
