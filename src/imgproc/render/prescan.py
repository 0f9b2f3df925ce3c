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


# Start-of-frame markers: C0-C3, C5-C7, C9-CB, CD-CF (C4 DHT, C8 JPG, CC DAC are not frames).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7, SOI: no length field


def jpeg_frame(data: bytes) -> tuple[int, int] | None:
    """(SOF marker, sample precision in bits) of a JPEG's first frame header, read by walking
    the marker segments; None when there is none before the scan data (Pillow says why)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image
            return None
        if marker in _SOF:
            return (marker, data[pos + 4]) if pos + 4 < len(data) else None
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return None
