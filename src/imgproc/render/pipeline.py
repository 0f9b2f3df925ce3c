"""The render path: an upload's bytes in, every variant and placeholder out, decoded once.

Read `render` top to bottom to know what happens to a picture; each step is a small function
in a module named after it and can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from ..config import Config
from ..errors import BadImage, VariantFailed, library_words
from .colour import srgb_converter, to_working_mode
from .decode import decode, open_image
from .encode import encode
from .flatten import flatten
from .geometry import Plan, decode_scale, plan_variant
from .limits import Deadline, check_bytes, check_pixels
from .metadata import colour_profile_of, exif_subset, orientation_to_apply, read_exif
from .orient import apply_orientation, oriented_size
from .placeholder import dominant_colour, placeholder_data_url, thumbhash_of
from .prescan import declared_size
from .resize import Resampler
from .sharpen import sharpen
from .sniff import sniff_format


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
    """Everything a record needs from the pixels; `failures`: variants that could not be made."""

    format: str
    width: int  # as displayed, after orientation
    height: int
    exif: dict | None
    placeholder: str
    thumbhash: str
    dominant_color: str
    variants: list[RenderedVariant] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def render(data: bytes, config: Config, time_budget: float | None = None) -> Rendition:
    """Raises only BadImage: anything a library throws on a picture is that picture's fault
    (MemoryError included: the same picture would fail again). `time_budget` overrides the
    config's (a caller with less time left); it never changes what is rendered."""
    try:
        return _render(data, config, config.time_budget if time_budget is None else time_budget)
    except BadImage:
        raise
    except Exception as exc:
        raise BadImage(
            f"The image could not be processed ({type(exc).__name__}: {library_words(exc)})."
        ) from exc


def _render(data: bytes, config: Config, time_budget: float) -> Rendition:
    deadline = Deadline(time_budget)
    fmt = sniff_format(data)
    check_bytes(len(data), config.max_image_size)
    if (size := declared_size(data, fmt)) is not None:
        check_pixels(size, config.max_pixels)  # before a reader that allocates on open
    image = open_image(data, fmt)
    check_pixels(image.size, config.max_pixels)
    exif = read_exif(image)
    orientation = orientation_to_apply(exif, fmt)
    width, height = oriented_size(image.size, orientation)
    plans = [plan_variant(variant, width, height) for variant in config.variants]
    icc_profile = colour_profile_of(image, data, fmt)
    image = decode(image, data, fmt, decode_scale(plans))
    deadline.check("decoding")
    image = apply_orientation(image, orientation)
    image = to_working_mode(image, icc_profile)
    resampler = Resampler(image, (width, height), plans, finish=srgb_converter(image, icc_profile))
    del image  # the resampler owns the decoded picture now, and lets it go before encoding
    variants, failures = render_variants(resampler, plans, config.background, deadline)
    small = resampler.smallest()  # placeholders need few pixels: use the smallest made
    return Rendition(
        format=fmt,
        width=width,
        height=height,
        exif=exif_subset(exif),
        placeholder=placeholder_data_url(small, config.background),
        thumbhash=thumbhash_of(small),
        dominant_color=dominant_colour(small, config.background),
        variants=variants,
        failures=failures,
    )


def render_variants(
    resampler: Resampler, plans: list[Plan], background: str, deadline: Deadline
) -> tuple[list[RenderedVariant], dict[str, str]]:
    """Resample everything largest first (smaller variants come from larger results), let
    go of the decoded picture, then sharpen and encode. Each distinct region and size is
    resampled once (webp-medium reuses medium's pixels). Results keep the config's order."""
    order = sorted(plans, key=lambda p: p.size[0] * p.size[1], reverse=True)
    failures: dict[str, str] = {}
    resampled: dict[tuple, Image.Image] = {}
    for plan in order:
        key = (plan.box, plan.size)
        if key not in resampled:
            deadline.check(f"resizing {plan.variant.name}")
            try:
                resampled[key] = resampler.resize(plan)
            except (OSError, ValueError, MemoryError) as exc:
                failures[plan.variant.name] = str(VariantFailed(f"{plan.variant.name}: {exc}"))
    resampler.release()  # peak memory: the decoded picture is gone before any encoder runs
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
    return [made[p.variant.name] for p in plans if p.variant.name in made], failures
