"""Bring any decoded mode to 8-bit sRGB (RGB, or RGBA when the picture has transparency).

Browsers assume untagged web images are sRGB, so every variant is converted through the
original's ICC profile (embedded, or built from nclx, cICP or gAMA/cHRM by
`metadata.colour_profile_of`; see docs/colour.md) and published untagged. Order matters:
depth is reduced first (without clipping), palettes expanded, then the profile applied in the
colour space it describes.

Gray and CMYK profiles are applied to the decoded picture (they change its mode). An RGB
profile (a camera's sRGB variant, an iPhone's Display P3) is applied later to each resampled
variant instead: the same result within rounding, on a fraction of the pixels.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageCms

# Pillow modes that carry more than 8 bits per sample, read as 0..65535 (I, I;16*) or 0..1 (F).
_WIDE_GRAY = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}


def to_working_mode(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """8-bit RGB(A), in sRGB except for an RGB profile still to apply (`srgb_converter`)."""
    image = reduce_depth(image)
    image = expand_palette(image)
    if not _is_rgb_profile(icc_profile):
        image = apply_profile(image, icc_profile)
    image = to_rgb_modes(image)
    image = drop_opaque_alpha(image)
    image.info = {}  # nothing of the original's metadata may ride along into an encoder
    return image


def srgb_converter(image: Image.Image, icc_profile: bytes | None):
    """What turns a resampled variant of `image` into sRGB: the RGB profile, or nothing."""
    if image.mode in ("RGB", "RGBA") and _is_rgb_profile(icc_profile):
        return functools.partial(apply_profile, icc_profile=icc_profile)
    return unchanged


def unchanged(image: Image.Image) -> Image.Image:
    """The converter for pictures already in sRGB (and the resampler's default finish)."""
    return image


def _is_rgb_profile(icc_profile: bytes | None) -> bool:
    source = _profile(icc_profile) if icc_profile else None
    return source is not None and _colour_space(source) == "RGB "


def _colour_space(profile: ImageCms.ImageCmsProfile) -> str | None:
    """The header's colour space; None when the bytes are not even ASCII (a broken profile)."""
    try:
        return profile.profile.xcolor_space
    except (UnicodeDecodeError, ValueError):
        return None


def reduce_depth(image: Image.Image) -> Image.Image:
    """16-bit and float grayscale to 8-bit by scaling, where a plain convert would clip."""
    if image.mode not in _WIDE_GRAY:
        return image
    if image.mode == "F":
        high = image.getextrema()[1]
        scale = 255.0 if high <= 1.0 else 1.0
        return image.point(lambda v: v * scale).convert("L")
    return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")


def expand_palette(image: Image.Image) -> Image.Image:
    """Palettes (with or without tRNS) become RGB(A); '1' becomes L."""
    if image.mode in ("P", "PA"):
        _fit_transparency_to_palette(image)
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def _fit_transparency_to_palette(image: Image.Image) -> None:
    """A tRNS chunk longer than the palette is trimmed, as browsers do (Pillow refuses it)."""
    transparency = image.info.get("transparency")
    palette = image.getpalette() or []
    if isinstance(transparency, bytes) and len(transparency) > len(palette) // 3:
        image.info["transparency"] = transparency[: len(palette) // 3]


_PROFILE_SPACES = {"GRAY": ("L", "LA"), "RGB ": ("RGB", "RGBA"), "CMYK": ("CMYK",)}


def apply_profile(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """ICC-correct conversion to sRGB; a profile that is sRGB, broken or mismatched is skipped."""
    if not icc_profile:
        return image
    source = _profile(icc_profile)
    if source is None or image.mode not in _PROFILE_SPACES.get(_colour_space(source), ()):
        return image
    # No shortcut for profiles that call themselves sRGB: cameras embed "sRGB" variants that
    # differ from the standard by several levels (Minolta's: 2 on average, up to 9).
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    colour = image.convert(image.mode[:-1]) if alpha is not None else image
    try:
        converted = ImageCms.applyTransform(colour, _transform(icc_profile, colour.mode))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def to_rgb_modes(image: Image.Image) -> Image.Image:
    """Whatever is left (untagged CMYK, gray, YCbCr, Lab, HSV) to RGB or RGBA."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("LA", "La", "RGBa", "PA"):
        return image.convert("RGBA")
    if image.mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
        )
        return ImageCms.applyTransform(image, lab_to_srgb)
    # Untagged CMYK: Pillow's conversion (R = 255 - C - K, clamped) matches what browsers show
    # for such files; without a profile there is no more correct answer to give.
    return image.convert("RGB")


def drop_opaque_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is fully opaque costs work in every later step and says nothing."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        return image.convert("RGB")
    return image


@functools.lru_cache(maxsize=16)
def _profile(data: bytes) -> ImageCms.ImageCmsProfile | None:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=16)
def _transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    """Transforms are cached: photos from one camera share a profile, and building one costs."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    return ImageCms.buildTransform(
        source,
        ImageCms.createProfile("sRGB"),
        mode,
        "RGB",
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
    )
