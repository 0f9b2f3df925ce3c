"""The render path (see pipeline.render): pure functions from bytes to encoded variants."""

from .pipeline import RenderedVariant, Rendition, render

__all__ = ["RenderedVariant", "Rendition", "render"]
