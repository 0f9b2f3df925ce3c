"""Sizes read from the raw bytes, for formats whose Pillow reader allocates while opening.

Pillow's GIF reader grows the canvas to the first frame's extent and fills a frame-sized
disposal buffer inside `Image.open`, before imgproc can check any size: a 161-byte GIF whose
first frame claims 91647×93695 pixels peaked at 1.8 GB just being opened. Reading the
logical screen and the first image descriptor here lets the pixel limit refuse it first.
"""

from __future__ import annotations

import struct

_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B


def declared_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """The size Pillow will allocate on open, where that can exceed the header's; else None."""
    if fmt == "gif":
        return gif_canvas_size(data)
    return None


def gif_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Logical screen grown to the first frame's extent, as Pillow's reader grows it.

    Walks the blocks the way Pillow does: extensions are skipped sub-block by sub-block and
    stray bytes one at a time, up to the first image descriptor. None when even the logical
    screen is missing (Pillow refuses that file itself).
    """
    if len(data) < 13:
        return None
    width, height = struct.unpack_from("<HH", data, 6)
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data):
        introducer = data[pos]
        if introducer == _TRAILER:
            break
        if introducer == _EXTENSION:
            pos += 2  # introducer and label
            while pos < len(data) and data[pos]:
                pos += data[pos] + 1
            pos += 1
        elif introducer == _IMAGE:
            if pos + 9 > len(data):
                break
            left, top, frame_width, frame_height = struct.unpack_from("<HHHH", data, pos + 1)
            return max(width, left + frame_width), max(height, top + frame_height)
        else:
            pos += 1
    return width, height
