"""Refuse what is too big before paying for it: bytes before download, pixels before decode."""

from __future__ import annotations

from ..errors import FileTooLarge, TooManyPixels


def check_bytes(size: int, limit: int) -> None:
    if size > limit:
        raise FileTooLarge(
            f"The file is {_mib(size)}, over the limit of {_mib(limit)} (MAX_IMAGE_SIZE)."
        )


def check_pixels(size: tuple[int, int], limit: int) -> None:
    """`size` comes from the header alone, so a decompression bomb never gets decoded."""
    width, height = size
    if width <= 0 or height <= 0:
        raise TooManyPixels(f"The image declares an impossible size of {width}×{height} pixels.")
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
