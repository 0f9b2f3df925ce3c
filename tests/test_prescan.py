"""The GIF canvas read from raw bytes is exactly the size Pillow allocates while opening."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from imgproc.render.prescan import declared_size, gif_canvas_size


def _gif(size=(40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("P", size, 3).save(out, "GIF", **save)
    return out.getvalue()


def _grow_first_frame(data: bytes, left: int, top: int, width: int, height: int) -> bytes:
    """Edit the first image descriptor's geometry (saved at 0,0 40×30), as hostile uploads do."""
    descriptor = b"\x2c" + struct.pack("<HHHH", 0, 0, 40, 30)
    at = data.index(descriptor)
    return data[:at + 1] + struct.pack("<HHHH", left, top, width, height) + data[at + 9:]


def _pillow_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


CASES = {
    "plain": _gif(),
    "comment and loop extensions": _gif(comment=b"x" * 600, loop=0, duration=40),
    "transparent": _gif(transparency=3),
    "frame past the screen": None,
    "frame offset far right": None,
    "stray bytes before the frame": None,
}
CASES["frame past the screen"] = _grow_first_frame(CASES["plain"], 0, 0, 900, 700)
CASES["frame offset far right"] = _grow_first_frame(CASES["transparent"], 60000, 5, 40, 30)
_plain = CASES["plain"]
_descriptor = _plain.index(b"\x2c" + struct.pack("<HHHH", 0, 0, 40, 30))
CASES["stray bytes before the frame"] = _plain[:_descriptor] + b"\x00\x07" + _plain[_descriptor:]


@pytest.mark.parametrize("name", list(CASES))
def test_gif_canvas_matches_what_pillow_allocates(name):
    data = CASES[name]
    assert gif_canvas_size(data) == _pillow_size(data)


def test_a_frame_bigger_than_the_screen_is_seen_before_opening():
    data = _grow_first_frame(_gif(), 10000, 1, 65535, 65535)
    assert gif_canvas_size(data) == (75535, 65536)
    assert declared_size(data, "gif") == (75535, 65536)


def test_other_formats_and_truncated_headers_are_left_to_the_reader():
    assert declared_size(b"\x89PNG\r\n\x1a\n", "png") is None
    assert gif_canvas_size(b"GIF89a\x10\x00") is None
    assert gif_canvas_size(_gif()[:13]) == (40, 30)
