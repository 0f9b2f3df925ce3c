"""The render path: an upload's bytes in, every variant and placeholder out, decoded once.

Read `render` top to bottom to know what happens to a picture; each step is a small function
in a module named after it and can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from ..config import Config, Gravity
from ..errors import BadImage, VariantFailed, library_words
from ..focal import FocalPoint
from .colour import srgb_converter, to_working_mode
from .decode import decode, open_image
from .encode import encode
from .flatten import flatten
from .geometry import Plan, aim, decode_scale, plan_variant
from .keep import withhold
from .limits import Deadline, check_bytes, check_pixels
from .metadata import exif_subset, icc_profile_of, orientation_of, read_exif
from .orient import oriented_size
from .placeholder import dominant_colour, placeholder_data_url, thumbhash_of
from .prescan import declared_size
from .resize import Resampler
from .sharpen import sharpen
from .sniff import sniff_format
from .subject import attention_point, entropy_plan


@dataclass(frozen=True)
class RenderedVariant:
    name: str
    format: str
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass
class Rendition:
    """Everything a record needs from the pixels; `failures`: variants that could not be made;
    `withheld`: variants made but not worth publishing (render/keep.py), with the reason."""

    format: str
    width: int  # as displayed, after orientation
    height: int
    exif: dict | None
    placeholder: str
    thumbhash: str
    dominant_color: str
    focal_point: FocalPoint  # the override if one was given, else where attention found
    variants: list[RenderedVariant] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)


def render(data: bytes, config: Config, time_budget: float | None = None,
           focus: FocalPoint | None = None) -> Rendition:
    """Raises only BadImage: anything a library throws on a picture is that picture's fault
    (MemoryError included: the same picture would fail again). `time_budget` overrides the
    config's (a caller with less time left); it never changes what is rendered. `focus`: a
    focal point set for this picture, which every cover variant's crop centres on."""
    try:
        budget = config.time_budget if time_budget is None else time_budget
        return _render(data, config, budget, focus)
    except BadImage:
        raise
    except Exception as exc:
        raise BadImage(
            f"The image could not be processed ({type(exc).__name__}: {library_words(exc)})."
        ) from exc


def _render(data: bytes, config: Config, time_budget: float,
            focus: FocalPoint | None) -> Rendition:
    deadline = Deadline(time_budget)
    fmt = sniff_format(data)
    check_bytes(len(data), config.max_image_size)
    if (size := declared_size(data, fmt)) is not None:
        check_pixels(size, config.max_pixels)  # before a reader that allocates on open
    image = open_image(data, fmt)
    check_pixels(image.size, config.max_pixels)
    exif = read_exif(image)
    orientation = orientation_of(exif)
    width, height = oriented_size(image.size, orientation)
    plans = [plan_variant(variant, width, height) for variant in config.variants]
    icc_profile = icc_profile_of(image)
    image = decode(image, data, fmt, decode_scale(plans))
    deadline.check("decoding")
    image = to_working_mode(image, icc_profile)
    resampler = Resampler(image, (width, height), plans, finish=srgb_converter(image, icc_profile),
                          orientation=orientation)  # as stored: only results are turned upright
    del image  # the resampler owns the decoded picture now, and lets it go before encoding
    variants, failures, focal = render_variants(resampler, plans, config.background, deadline,
                                                focus)
    variants, withheld = withhold(variants, config)
    small = resampler.smallest()  # placeholders need few pixels: use the smallest made
    return Rendition(
        format=fmt,
        width=width,
        height=height,
        exif=exif_subset(exif),
        placeholder=placeholder_data_url(small, config.background),
        thumbhash=thumbhash_of(small),
        dominant_color=dominant_colour(small, config.background),
        focal_point=focal,
        variants=variants,
        failures=failures,
        withheld=withheld,
    )


def render_variants(
    resampler: Resampler, plans: list[Plan], background: str, deadline: Deadline,
    focus: FocalPoint | None = None,
) -> tuple[list[RenderedVariant], dict[str, str], FocalPoint]:
    """Resample the whole-picture variants largest first (smaller ones come from larger
    results), find the subject, place and resample the crops, let go of the decoded picture,
    then sharpen and encode. Each distinct region and size is resampled once (webp-medium
    reuses medium's pixels). Results keep the config's order."""
    frames = sorted((p for p in plans if not p.crops), key=_area, reverse=True)
    failures: dict[str, str] = {}
    resampled: dict[tuple, Image.Image] = {}
    _resample(resampler, frames, resampled, failures, deadline)
    focal = focus or attention_point(resampler.analysis())
    crops = sorted((_place(p, focal, focus, resampler) for p in plans if p.crops),
                   key=_area, reverse=True)
    _resample(resampler, crops, resampled, failures, deadline)
    resampler.release()  # peak memory: the decoded picture is gone before any encoder runs
    made = _encode(frames + crops, resampled, failures, background, deadline)
    return [made[p.variant.name] for p in plans if p.variant.name in made], failures, focal


def _area(plan: Plan) -> int:
    return plan.size[0] * plan.size[1]


def _place(plan: Plan, focal: FocalPoint, focus: FocalPoint | None,
           resampler: Resampler) -> Plan:
    """Where a crop goes: on a focal point set for the picture, else by the variant's
    gravity (the attention point, libvips' entropy measure, or the centre as planned)."""
    gravity = plan.variant.gravity
    if focus is not None or gravity == Gravity.ATTENTION:
        return aim(plan, focal, resampler.full_size)
    if gravity == Gravity.ENTROPY:
        return entropy_plan(resampler.analysis(), plan, resampler.full_size)
    return plan


def _resample(resampler: Resampler, order: list[Plan], resampled: dict[tuple, Image.Image],
              failures: dict[str, str], deadline: Deadline) -> None:
    for plan in order:
        key = (plan.box, plan.size)
        if key not in resampled:
            deadline.check(f"resizing {plan.variant.name}")
            try:
                resampled[key] = resampler.resize(plan)
            except (OSError, ValueError, MemoryError) as exc:
                failures[plan.variant.name] = str(VariantFailed(f"{plan.variant.name}: {exc}"))


def _encode(order: list[Plan], resampled: dict[tuple, Image.Image], failures: dict[str, str],
            background: str, deadline: Deadline) -> dict[str, RenderedVariant]:
    made: dict[str, RenderedVariant] = {}
    sharpened: dict[tuple, Image.Image] = {}
    for plan in order:
        variant, key = plan.variant, (plan.box, plan.size)
        if key not in resampled:
            continue
        deadline.check(f"encoding {variant.name}")
        try:
            if (key, variant.sharpen) not in sharpened:
                sharpened.clear()  # variants sharing pixels are adjacent in `order`
                sharpened[key, variant.sharpen] = sharpen(resampled[key], variant.sharpen)
            pixels = flatten(sharpened[key, variant.sharpen], variant.format, background)
            data = encode(pixels, variant.format, variant.quality, variant.effort)
        except BadImage as exc:
            failures[variant.name] = str(exc)
            continue
        except (OSError, ValueError, MemoryError) as exc:
            failures[variant.name] = str(VariantFailed(f"{variant.name}: {exc}"))
            continue
        made[variant.name] = RenderedVariant(
            name=variant.name,
            format=variant.format,
            content_type=variant.content_type,
            width=pixels.width,
            height=pixels.height,
            data=data,
        )
    return made
