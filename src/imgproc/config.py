"""Variant configuration: the contract's defaults, TOML loading validated on load, configHash.

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
from pathlib import Path

from .envvars import CONFIG_FILE, MAX_IMAGE_SIZE
from .errors import ConfigError

# Bump when rendering changes what the same config produces, so backfills redo old variants.
# Not for changes whose output looks the same: libvips' resampling (rounding differences only)
# did not bump it, as it would have cost every deployment a full re-render for nothing.
RENDER_VERSION = 1

FORMATS = ("jpeg", "webp", "png", "avif")
FITS = ("cover", "inside")
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "png": "png", "avif": "avif"}
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "png": "image/png",
    "avif": "image/avif",
}
# Largest side each encoder accepts; variants are scaled down further to fit.
# libjpeg refuses sides over 65500 (JPEG_MAX_DIMENSION), below the format's 65535.
FORMAT_MAX_SIDE = {"jpeg": 65500, "webp": 16383, "png": 2**31 - 1, "avif": 65536}
SHARPEN_FROM_WIDTH = 800

MIB = 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Variant:
    """One output picture: a box, how to fit the original into it, and how to encode it."""

    name: str
    width: int
    height: int | None = None  # None: "N wide", the width alone bounds the picture
    fit: str = "inside"  # cover: fill the box, centre crop; inside: fit within, never enlarge
    quality: int = 85
    format: str = "jpeg"
    sharpen: bool = False
    # Encoder effort 0-6: WebP's libwebp method and AVIF's speed (10 - effort); 4 is what
    # sharp and cwebp default to. JPEG: up to 4 libjpeg-turbo, 5 mozjpeg's trellis
    # quantisation (~15 % smaller, +40 % render time), 6 also its scan search (exactly
    # sharp's `mozjpeg: true`). Lower is faster and larger; PNG ignores it.
    effort: int = 4

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


DEFAULT_VARIANTS = (
    Variant("thumbnail", 150, 150, "cover", 80, "jpeg", False),
    Variant("small", 400, None, "inside", 85, "jpeg", False),
    Variant("medium", 800, None, "inside", 85, "jpeg", True),
    Variant("large", 1200, None, "inside", 90, "jpeg", True),
    Variant("webp-medium", 800, None, "inside", 85, "webp", True),
    Variant("webp-large", 1200, None, "inside", 90, "webp", True),
)


@dataclass(frozen=True)
class Config:
    """Everything that decides which originals are processed and what comes out."""

    input_prefix: str = "uploads/"
    output_prefix: str = "processed/"
    max_image_size: int = 10 * MIB
    max_pixels: int = 100_000_000
    background: str = "#ffffff"
    time_budget: float = 30.0  # CPU seconds of rendering per image before it fails as TooSlow
    variants: tuple[Variant, ...] = field(default=DEFAULT_VARIANTS)

    @property
    def config_hash(self) -> str:
        """Stable across runs and machines; changes whenever the output would change."""
        rendering = {
            "renderVersion": RENDER_VERSION,
            "outputPrefix": self.output_prefix,
            "background": self.background.lower(),
            "variants": [asdict(v) for v in self.variants],
        }
        blob = json.dumps(rendering, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


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
              "time_budget", "variant"}
_VARIANT_FIELDS = {"name", "width", "height", "fit", "quality", "format", "sharpen", "effort"}


def parse_config(data: dict) -> Config:
    """Validate a parsed TOML document; raises ConfigError naming the first bad value."""
    _reject_unknown(data, _TOP_LEVEL, "config")
    defaults = Config()
    prefixes = {
        name: _prefix(data.get(name, getattr(defaults, name)), name)
        for name in ("input_prefix", "output_prefix")
    }
    if prefixes["input_prefix"].startswith(prefixes["output_prefix"]) or prefixes[
        "output_prefix"
    ].startswith(prefixes["input_prefix"]):
        raise ConfigError(
            "config: input_prefix and output_prefix must not contain each other, got "
            f"{prefixes['input_prefix']!r} and {prefixes['output_prefix']!r}."
        )
    variants = defaults.variants
    if "variant" in data:
        raw = data["variant"]
        if not isinstance(raw, list) or not raw:
            raise ConfigError(
                f"config: expected at least one [[variant]] table, got {_given(raw)}."
            )
        variants = tuple(parse_variant(entry, index) for index, entry in enumerate(raw, 1))
        names = [v.name for v in variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"config: variant names must be unique, got {duplicates[0]!r} twice.")
    return Config(
        input_prefix=prefixes["input_prefix"],
        output_prefix=prefixes["output_prefix"],
        max_image_size=_positive_int(data, "max_image_size", defaults.max_image_size, "config"),
        max_pixels=_positive_int(data, "max_pixels", defaults.max_pixels, "config"),
        background=_colour(data.get("background", defaults.background)),
        time_budget=_seconds(data.get("time_budget", defaults.time_budget)),
        variants=variants,
    )


def parse_variant(entry: object, index: int) -> Variant:
    where = f"variant #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table, got {_given(entry)}.")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{where}: expected name to be 1-64 letters, digits, '-' or '_', got {_given(name)}."
        )
    where = f"variant {name!r}"
    _reject_unknown(entry, _VARIANT_FIELDS, where)
    fmt = _choice(entry, "format", FORMATS, "jpeg", where)
    limit = FORMAT_MAX_SIDE[fmt]
    width = _int_in(entry, "width", 1, limit, None, where)
    height = _int_in(entry, "height", 1, limit, None, where) if "height" in entry else None
    fit = _choice(entry, "fit", FITS, "inside", where)
    if fit == "cover" and height is None:
        raise ConfigError(f"{where}: fit 'cover' needs a height (a box to fill), got none.")
    sharpen = entry.get("sharpen", width >= SHARPEN_FROM_WIDTH)
    if not isinstance(sharpen, bool):
        raise ConfigError(f"{where}: expected sharpen to be true or false, got {_given(sharpen)}.")
    return Variant(
        name=name,
        width=width,
        height=height,
        fit=fit,
        quality=_int_in(entry, "quality", 1, 100, 85, where),
        format=fmt,
        sharpen=sharpen,
        effort=_int_in(entry, "effort", 0, 6, 4, where),
    )


# --- small validators, each raising one message shape ------------------------------------


def _given(value: object) -> str:
    return f"{value!r} ({type(value).__name__})" if value is not None else "nothing"


def _reject_unknown(data: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(sorted(known))}."
        )


def _int_in(data: dict, key: str, low: int, high: int, default: int | None, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"{where}: expected {key} to be an integer between {low} and {high}, "
            f"got {_given(value)}."
        )
    return value


def _positive_int(data: dict, key: str, default: int, where: str) -> int:
    return _int_in(data, key, 1, 2**53, default, where)


def _choice(data: dict, key: str, choices: tuple[str, ...], default: str, where: str) -> str:
    value = data.get(key, default)
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


def _parse_int(text: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{where}: expected a whole number of bytes, got {text!r}.") from None
    if value <= 0:
        raise ConfigError(f"{where}: expected a positive number of bytes, got {value}.")
    return value
