"""Turn the stored pixels upright, as the EXIF orientation says a viewer would show them.

The resampler works on the picture as stored and turns only its results upright (libvips'
`autorot` on a few hundred thousand pixels), so a rotated photo never costs a full-size
transposed copy of the decoded picture. `stored_box` says where an upright region lies in
the stored pixels.
"""

from __future__ import annotations


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The displayed size: orientations 5-8 swap width and height."""
    return (size[1], size[0]) if orientation >= 5 else size


def stored_box(box: tuple[float, float, float, float], size: tuple[int, int],
               orientation: int) -> tuple[float, float, float, float]:
    """`box` of the upright picture (`size`, as displayed), in the stored picture's pixels."""
    width, height = size
    corners = [_to_stored(orientation, x, y, width, height)
               for x in (box[0], box[2]) for y in (box[1], box[3])]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _to_stored(orientation: int, x: float, y: float, w: int, h: int) -> tuple[float, float]:
    """Where the upright point (x, y) of a w×h displayed picture is in the stored one."""
    return {2: (w - x, y), 3: (w - x, h - y), 4: (x, h - y), 5: (y, x), 6: (y, w - x),
            7: (h - y, w - x), 8: (h - y, x)}.get(orientation, (x, y))


def upright(vimage, orientation: int):
    """A libvips image of stored pixels, turned as EXIF `orientation` (1-8) says."""
    if not 2 <= orientation <= 8:
        return vimage
    import pyvips

    tagged = vimage.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return tagged.autorot()
