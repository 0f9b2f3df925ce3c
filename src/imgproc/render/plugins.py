"""Pillow's plugins for exactly the formats in hand, imported on first use.

Pillow's `Image.open` and `save` pre-load only BMP, GIF, JPEG, PPM and PNG. For any other
format (WebP, TIFF, AVIF) they call `Image.init()`, which imports all of Pillow's forty-odd
plugins: 20-30 ms of a Lambda cold start, spent the first time a WebP variant is saved.
pillow-heif registers HEIC/HEIF itself, and only when a HEIC arrives.
"""

from __future__ import annotations

import functools
import importlib

from ..formats import format_named


@functools.cache
def load_plugin(fmt: str) -> None:
    """Make Pillow able to open or save `fmt` (an imgproc format name) without `init()`."""
    plugin = format_named(fmt).plugin
    if plugin is None:  # HEIC/HEIF: pillow-heif's opener
        from pillow_heif import register_heif_opener

        register_heif_opener()
        return
    importlib.import_module(f"PIL.{plugin}")
