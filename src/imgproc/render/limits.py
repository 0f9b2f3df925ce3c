"""Refuse what is too big before paying for it: bytes before download, pixels before decode."""

from __future__ import annotations

import time

from ..errors import FileTooLarge, TooManyPixels, TooSlow


class Deadline:
    """A per-image budget of CPU time, checked between steps: a clear error, not a hang.

    CPU time of the rendering thread, not wall-clock time, so a busy machine or other
    workers never turn a good picture into a failure. A single decoder call cannot be
    interrupted from Python; the pixel limit bounds how long one can take, and Lambda's own
    timeout is the last resort. libvips resamples and decodes WebP in a worker thread of its
    own, which this clock does not see; that work is bounded by the pixel limit too (a
    100 MP picture resamples in seconds, not minutes).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.thread_time() + seconds

    def check(self, step: str) -> None:
        if time.thread_time() > self._end:
            raise TooSlow(
                f"Processing took longer than the {self.seconds:g} s time budget "
                f"(stopped at {step}); the image is too large or complex to render in time."
            )


def check_bytes(size: int, limit: int) -> None:
    if size > limit:
        raise FileTooLarge(
            f"The file is {_mib(size)}, over the limit of {_mib(limit)} (MAX_IMAGE_SIZE)."
        )


# No variant can exceed 65500 px a side, and each row of a decoded image costs memory of
# its own: a 1×100,000,000 strip is within the pixel limit but needs gigabytes to decode.
MAX_SIDE = 100_000


def check_pixels(size: tuple[int, int], limit: int) -> None:
    """`size` comes from the header alone, so a decompression bomb never gets decoded."""
    width, height = size
    if width <= 0 or height <= 0:
        raise TooManyPixels(f"The image declares an impossible size of {width}×{height} pixels.")
    if max(width, height) > MAX_SIDE:
        raise TooManyPixels(
            f"The image is {width}×{height} pixels, over the limit of {MAX_SIDE:,} pixels "
            "a side."
        )
    if width * height > limit:
        raise TooManyPixels(
            f"The image is {width}×{height} pixels ({width * height / 1e6:.1f} megapixels), "
            f"over the limit of {limit / 1e6:.1f} megapixels."
        )


def _mib(size: int) -> str:
    """Human units: 1,000 bytes, 200.0 KiB, 10.0 MiB."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
