"""Where each variant's pixels come from and how big it is: pure arithmetic, no pixels.

Plans are made in the coordinates of the full-size, upright original, before anything is
decoded, so that the decoder can be told the smallest scale that still serves every variant.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Fit, Variant
from ..focal import FocalPoint
from ..formats import format_named

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Plan:
    """A variant's source region (`box`, in full-size upright pixels) and its output size."""

    variant: Variant
    box: Box
    size: tuple[int, int]

    @property
    def crops(self) -> bool:
        """A cover variant: its box can move to where the subject is."""
        return self.variant.fit == Fit.COVER

    @property
    def scale(self) -> float:
        """Output pixels per source pixel; above 1 means the variant enlarges."""
        return self.size[0] / (self.box[2] - self.box[0])


def plan_variant(variant: Variant, width: int, height: int) -> Plan:
    if variant.fit == "cover":
        plan = _cover(variant, width, height)
    else:
        plan = _inside(variant, width, height)
    return _fit_format_limit(plan)


def _inside(variant: Variant, width: int, height: int) -> Plan:
    """Fit within the box (or the width alone) and never enlarge."""
    scale = min(1.0, variant.width / width)
    if variant.height is not None:
        scale = min(scale, variant.height / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Plan(variant, (0.0, 0.0, float(width), float(height)), size)


def _cover(variant: Variant, width: int, height: int) -> Plan:
    """Fill the box exactly, cropping the centre of whichever side is too long (`aim` then
    moves the crop onto the subject, once the pixels are there to find it)."""
    box_w, box_h = variant.width, variant.height or variant.width
    crop_w = min(float(width), height * box_w / box_h)
    crop_h = min(float(height), width * box_h / box_w)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return Plan(variant, (left, top, left + crop_w, top + crop_h), (box_w, box_h))


def aim(plan: Plan, focal: FocalPoint, full_size: tuple[int, int]) -> Plan:
    """The same crop, moved to centre on `focal` as far as the picture's edges allow."""
    width, height = full_size
    crop_w, crop_h = plan.box[2] - plan.box[0], plan.box[3] - plan.box[1]
    left = min(max(0.0, focal.x * width - crop_w / 2), width - crop_w)
    top = min(max(0.0, focal.y * height - crop_h / 2), height - crop_h)
    return Plan(plan.variant, (left, top, left + crop_w, top + crop_h), plan.size)


def _fit_format_limit(plan: Plan) -> Plan:
    """An extreme panorama or strip is scaled down further to fit the encoder's largest side."""
    limit = format_named(plan.variant.format).max_side
    width, height = plan.size
    if max(width, height) <= limit:
        return plan
    factor = limit / max(width, height)
    size = (max(1, min(limit, round(width * factor))), max(1, min(limit, round(height * factor))))
    return Plan(plan.variant, plan.box, size)


# The decoder may shrink a JPEG only while leaving this much further reduction to Lanczos:
# libjpeg's scaled IDCT is soft, and resampling 1363 px to 1200 px cannot restore what it
# dropped (SSIM -0.02 on a detailed photo); at 1.5× the loss is gone (bench/run.py).
DRAFT_MARGIN = 1.5


def decode_scale(plans: list[Plan]) -> float:
    """The smallest fraction of full size the decoder may produce without starving a variant."""
    return min(1.0, DRAFT_MARGIN * max((plan.scale for plan in plans), default=1.0))


def scale_box(box: Box, full_size: tuple[int, int], source_size: tuple[int, int]) -> Box:
    """A box in full-size pixels, in the pixels of a smaller copy of the whole picture.

    Each axis has its own factor (sizes were rounded separately) and the result is clamped,
    so a full-frame box maps exactly onto the copy's frame.
    """
    fx, fy = source_size[0] / full_size[0], source_size[1] / full_size[1]
    return (max(0.0, box[0] * fx), max(0.0, box[1] * fy),
            min(float(source_size[0]), box[2] * fx), min(float(source_size[1]), box[3] * fy))
