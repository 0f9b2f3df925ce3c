"""Scale the decoded picture to a plan's size, reading only the plan's source region."""

from __future__ import annotations

from PIL import Image

from .geometry import Plan, scale_box

# Pillow first reduces by an integer factor with a box filter while the remaining ratio stays
# at least this large, then finishes with Lanczos: near-identical output, much less work.
REDUCING_GAP = 3.0


def resize(image: Image.Image, plan: Plan, full_width: int) -> Image.Image:
    """`image` may be smaller than full size (shrink-on-load); the box is scaled to match."""
    box = scale_box(plan.box, image.width / full_width)
    if plan.size == image.size and box == (0, 0, image.width, image.height):
        return image
    # Pillow premultiplies RGBA while resampling, so transparent pixels never bleed dark edges.
    return image.resize(plan.size, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
