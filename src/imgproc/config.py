"""Variant configuration: the contract's defaults, checked on construction; TOML; configHash.

Validation follows sharp's habit: every message names where the value was (the variant), the
field, what was expected and what was given, so a typo in `imgproc.toml` is fixed in one read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from .envvars import CONFIG_FILE, MAX_IMAGE_SIZE
from .errors import ConfigError
from .formats import OUTPUT_FORMATS, format_named

# Bump when rendering changes what the same config produces, so backfills redo old variants.
# Not for changes whose output looks the same: libvips' resampling (rounding differences only)
# did not bump it, as it would have cost every deployment a full re-render for nothing.
RENDER_VERSION = 1

SHARPEN_FROM_WIDTH = 800

MIB = 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- small validators, each raising one message shape ------------------------------------


def _given(value: object) -> str:
    return f"{value!r} ({type(value).__name__})" if value is not None else "nothing"


def _reject_unknown(data: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(sorted(known))}."
        )


def _check_name(name: object, where: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: expected name to be 1-64 letters, digits, '-' or '_', got {_given(name)}."
        )


def _int_in(value: object, key: str, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{where}: expected {key} to be an integer between {low} and {high}, "
            f"got {_given(value)}."
        )
    return value


def _choice(value: object, key: str, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise ConfigError(
            f"{where}: expected {key} to be one of {', '.join(choices)}, got {_given(value)}."
        )
    return value


def _prefix(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.endswith("/") or value.startswith("/"):
        raise ConfigError(
            f"config: expected {key} to be a key prefix ending in '/', like 'uploads/', "
            f"got {_given(value)}."
        )
    return value


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 900:
        raise ConfigError(
            f"config: expected time_budget to be seconds between 0 and 900, got {_given(value)}."
        )
    return float(value)


def _colour(value: object) -> str:
    if not isinstance(value, str) or not _HEX_COLOUR.match(value):
        raise ConfigError(
            f"config: expected background to be a colour like '#ffffff', got {_given(value)}."
        )
    return value.lower()


class Fit(StrEnum):
    COVER = "cover"  # fill the box, cropping what does not fit (where: `Gravity`)
    INSIDE = "inside"  # fit within the box, never enlarge


class Gravity(StrEnum):
    """Where a cover variant's crop sits; libvips' smartcrop measures (`vips_smartcrop`)."""

    ATTENTION = "attention"  # on the subject: edges, skin tones and saturated colour
    ENTROPY = "entropy"  # on the busiest region: the crop that keeps the most detail
    CENTRE = "centre"  # the middle, as the system imgproc replaces cropped


@dataclass(frozen=True)
class Variant:
    """One output picture: a box, how to fit the original into it, and how to encode it.

    Checked on construction, so a variant built in code fails like one read from a file.
    """

    name: str
    width: int
    height: int | None = None  # None: "N wide", the width alone bounds the picture
    fit: Fit = Fit.INSIDE
    quality: int = 85
    format: str = "jpeg"
    sharpen: bool = False
    # Encoder effort 0-6: WebP's libwebp method and AVIF's speed (10 - effort); 4 is what
    # sharp and cwebp default to. JPEG (jpegli): up to 3 baseline, from 4 made progressive by
    # a lossless step (~8 % smaller, about 6× the JPEG time; render/encode.py). Lower is
    # faster and larger; PNG ignores it.
    effort: int = 4
    # Cover only (None otherwise): where the crop sits. A per-image focal point set with
    # `imgproc focus` wins over it.
    gravity: Gravity | None = None
    # Another variant's name: this one is published only when its file is smaller than that
    # one's by the config's keep_margin (an AVIF that does not pay is left out, not failed).
    keep_if_smaller_than: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "variant")
        where = f"variant {self.name!r}"
        _choice(self.format, "format", OUTPUT_FORMATS, where)
        limit = format_named(self.format).max_side
        _int_in(self.width, "width", 1, limit, where)
        if self.height is not None:
            _int_in(self.height, "height", 1, limit, where)
        object.__setattr__(self, "fit", Fit(_choice(self.fit, "fit", tuple(Fit), where)))
        if self.fit == Fit.COVER and self.height is None:
            raise ConfigError(f"{where}: fit 'cover' needs a height (a box to fill), got none.")
        self._check_gravity(where)
        if not isinstance(self.sharpen, bool):
            raise ConfigError(
                f"{where}: expected sharpen to be true or false, got {_given(self.sharpen)}.")
        _int_in(self.quality, "quality", 1, 100, where)
        _int_in(self.effort, "effort", 0, 6, where)
        if self.keep_if_smaller_than is not None and not isinstance(self.keep_if_smaller_than,
                                                                    str):
            raise ConfigError(f"{where}: expected keep_if_smaller_than to name another variant, "
                              f"got {_given(self.keep_if_smaller_than)}.")

    def _check_gravity(self, where: str) -> None:
        if self.fit != Fit.COVER:
            if self.gravity is not None:
                raise ConfigError(f"{where}: gravity applies to fit 'cover' only (an 'inside' "
                                  f"variant is never cropped), got {_given(self.gravity)}.")
            return
        gravity = Gravity.ATTENTION if self.gravity is None else self.gravity
        gravity = Gravity.CENTRE if gravity == "center" else gravity  # sharp and CSS spell it so
        object.__setattr__(self, "gravity",
                           Gravity(_choice(gravity, "gravity", tuple(Gravity), where)))

    @property
    def extension(self) -> str:
        return format_named(self.format).extension

    @property
    def content_type(self) -> str:
        return format_named(self.format).mime_type


DEFAULT_VARIANTS = (
    Variant("thumbnail", 150, 150, Fit.COVER, 80, "jpeg", False),
    Variant("small", 400, None, Fit.INSIDE, 85, "jpeg", False),
    Variant("medium", 800, None, Fit.INSIDE, 85, "jpeg", True),
    Variant("large", 1200, None, Fit.INSIDE, 90, "jpeg", True),
    Variant("webp-medium", 800, None, Fit.INSIDE, 85, "webp", True),
    Variant("webp-large", 1200, None, Fit.INSIDE, 90, "webp", True),
)


@dataclass(frozen=True)
class Config:
    """Everything that decides which originals are processed and what comes out.

    Checked on construction (and so on `dataclasses.replace`), with the sentences a config
    file gets.
    """

    input_prefix: str = "uploads/"
    output_prefix: str = "processed/"
    max_image_size: int = 10 * MIB
    max_pixels: int = 100_000_000
    background: str = "#ffffff"
    time_budget: float = 30.0  # CPU seconds of rendering per image before it fails as TooSlow
    # A variant with keep_if_smaller_than is kept only when at most (1 - keep_margin) times
    # its sibling's bytes: 10 % fewer bytes is worth a second format on the CDN and in caches.
    keep_margin: float = 0.10
    variants: tuple[Variant, ...] = field(default=DEFAULT_VARIANTS)

    def __post_init__(self) -> None:
        for name in ("input_prefix", "output_prefix"):
            _prefix(getattr(self, name), name)
        if self.input_prefix.startswith(self.output_prefix) or self.output_prefix.startswith(
            self.input_prefix
        ):
            raise ConfigError(
                "config: input_prefix and output_prefix must not contain each other, got "
                f"{self.input_prefix!r} and {self.output_prefix!r}."
            )
        _int_in(self.max_image_size, "max_image_size", 1, 2**53, "config")
        _int_in(self.max_pixels, "max_pixels", 1, 2**53, "config")
        object.__setattr__(self, "background", _colour(self.background))
        object.__setattr__(self, "time_budget", _seconds(self.time_budget))
        variants = tuple(self.variants)
        if not variants or not all(isinstance(v, Variant) for v in variants):
            raise ConfigError(f"config: expected at least one variant, got {_given(variants)}.")
        names = [v.name for v in variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"config: variant names must be unique, got {duplicates[0]!r} twice.")
        object.__setattr__(self, "variants", variants)
        object.__setattr__(self, "keep_margin", _fraction(self.keep_margin, "keep_margin"))
        _check_siblings(variants)

    @property
    def config_hash(self) -> str:
        """Stable across runs and machines; changes whenever the output would change."""
        rendering = {
            "renderVersion": RENDER_VERSION,
            "outputPrefix": self.output_prefix,
            "background": self.background.lower(),
            **({"keepMargin": self.keep_margin} if _uses_margin(self.variants) else {}),
            "variants": [_hashed(v) for v in self.variants],
        }
        blob = json.dumps(rendering, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


def _fraction(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(
            f"config: expected {key} to be a fraction from 0 up to (not including) 1, like 0.1 "
            f"for 10 %, got {_given(value)}."
        )
    return float(value)


def _check_siblings(variants: tuple[Variant, ...]) -> None:
    """keep_if_smaller_than names another variant of the config, and never leads back."""
    by_name = {v.name: v for v in variants}
    for variant in variants:
        sibling = variant.keep_if_smaller_than
        if sibling is None:
            continue
        where = f"variant {variant.name!r}"
        if sibling == variant.name:
            raise ConfigError(f"{where}: expected keep_if_smaller_than to name another variant, "
                              f"got its own name {sibling!r}.")
        if sibling not in by_name:
            raise ConfigError(
                f"{where}: expected keep_if_smaller_than to name a variant of this config "
                f"({', '.join(sorted(set(by_name) - {variant.name}))}), got {_given(sibling)}.")
        chain = [variant.name]
        while sibling is not None and sibling not in chain:
            chain.append(sibling)
            sibling = by_name[sibling].keep_if_smaller_than
        if sibling is not None:
            raise ConfigError(
                f"{where}: expected keep_if_smaller_than not to lead back to a variant it "
                f"names, got the cycle {' → '.join([*chain, sibling])}.")


def _uses_margin(variants: tuple[Variant, ...]) -> bool:
    return any(v.keep_if_smaller_than for v in variants)


def _hashed(variant: Variant) -> dict:
    """The variant's fields for configHash; an unset keep_if_smaller_than is left out, so
    configs written before the field existed keep their hash (and their records stay fresh)."""
    fields = asdict(variant)
    if fields["keep_if_smaller_than"] is None:
        del fields["keep_if_smaller_than"]
    return fields


def load_config(path: str | os.PathLike | None = None, env: dict | None = None) -> Config:
    """Defaults, then the TOML file (argument or IMGPROC_CONFIG), then MAX_IMAGE_SIZE."""
    env = os.environ if env is None else env
    path = path or env.get(CONFIG_FILE) or None
    config = Config()
    if path:
        config = parse_config(_read_toml(Path(path)))
    if env.get(MAX_IMAGE_SIZE):
        size = _parse_int(env[MAX_IMAGE_SIZE], f"environment variable {MAX_IMAGE_SIZE}")
        config = replace(config, max_image_size=size)
    return config


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from None


_TOP_LEVEL = {"input_prefix", "output_prefix", "max_image_size", "max_pixels", "background",
              "time_budget", "keep_margin", "variant"}
_VARIANT_FIELDS = {"name", "width", "height", "fit", "quality", "format", "sharpen", "effort",
                   "gravity", "keep_if_smaller_than"}


def parse_config(data: dict) -> Config:
    """A parsed TOML document as a Config; raises ConfigError naming the first bad value."""
    _reject_unknown(data, _TOP_LEVEL, "config")
    fields = {name: data[name] for name in _TOP_LEVEL - {"variant"} if name in data}
    if "variant" in data:
        raw = data["variant"]
        if not isinstance(raw, list) or not raw:
            raise ConfigError(
                f"config: expected at least one [[variant]] table, got {_given(raw)}."
            )
        fields["variants"] = tuple(parse_variant(entry, i) for i, entry in enumerate(raw, 1))
    return Config(**fields)


def parse_variant(entry: object, index: int) -> Variant:
    """One [[variant]] table; `sharpen` defaults on from 800 px wide."""
    where = f"variant #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table, got {_given(entry)}.")
    _check_name(entry.get("name"), where)
    _reject_unknown(entry, _VARIANT_FIELDS, f"variant {entry['name']!r}")
    width = entry.get("width")
    sharpen = entry.get("sharpen", isinstance(width, int) and width >= SHARPEN_FROM_WIDTH)
    return Variant(**{**entry, "width": width, "sharpen": sharpen})


def _parse_int(text: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{where}: expected a whole number of bytes, got {text!r}.") from None
    if value <= 0:
        raise ConfigError(f"{where}: expected a positive number of bytes, got {value}.")
    return value
