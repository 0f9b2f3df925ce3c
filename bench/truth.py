"""The "lossless high-quality reference" each variant's SSIM is measured against.

Every implementation is scored against the same target: the original decoded in full (no
shrink-on-load), turned upright, converted to sRGB through its ICC profile, and resampled
once with Lanczos straight to the variant's planned box and size (imgproc's own
`plan_variant`, so the target has the contract's geometry), with no sharpening and no
encoding. Sharpening therefore costs a little SSIM here; that is the same for every
implementation that sharpens, and the per-variant difference is what the bench compares.

A cover variant's target is the region that implementation crops: the centre for sharp's flow
(its default position) and the naive script, the recorded focal point for imgproc (`focal`),
so a crop on the subject is scored on its pixels, not on which region was chosen.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from imgproc.config import DEFAULT_VARIANTS, Variant
from imgproc.focal import FocalPoint
from imgproc.render.geometry import aim, plan_variant

Image.MAX_IMAGE_PIXELS = None  # the 100 MP check image is at the pixel limit on purpose

_SRGB = ImageCms.createProfile("sRGB")
_PROFILE_MODES = {"RGB ": ("RGB",), "GRAY": ("L",), "CMYK": ("CMYK",)}


def truth_variants(path: Path, variants: Iterable[Variant] = DEFAULT_VARIANTS,
                   focal: FocalPoint | None = None) -> dict[str, Image.Image]:
    """{variant name: the ideal RGB picture for that variant}; crops centred on `focal`
    when given, else on the picture's centre."""
    upright = upright_srgb(path)
    width, height = upright.size
    resampled: dict[tuple, Image.Image] = {}
    out = {}
    for variant in variants:
        plan = plan_variant(variant, width, height)
        if focal is not None and plan.crops:
            plan = aim(plan, focal, (width, height))
        key = (plan.box, plan.size)
        if key not in resampled:
            resampled[key] = upright.resize(plan.size, Image.Resampling.LANCZOS, box=plan.box)
        out[variant.name] = resampled[key]
    return out


def upright_srgb(path: Path) -> Image.Image:
    """The full-size original, orientation applied, in 8-bit sRGB, alpha flattened on white."""
    with Image.open(path) as opened:
        opened.seek(0)
        opened.load()  # no draft(): every pixel at full resolution
        icc_profile = opened.info.get("icc_profile")
        image = ImageOps.exif_transpose(opened)
    image = _to_8bit(image)
    alpha = None
    if image.mode in ("RGBA", "LA"):
        alpha = image.getchannel("A")
        image = image.convert(image.mode[:-1])
    if icc_profile:
        image = _to_srgb(image, icc_profile)
    image = image.convert("RGB")
    if alpha is not None:
        white = Image.new("RGB", image.size, (255, 255, 255))
        white.paste(image, mask=alpha)
        image = white
    return image


def _to_8bit(image: Image.Image) -> Image.Image:
    """Wide grayscale scaled (not clipped) to 8 bits; palettes expanded."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode in ("1", "F"):
        return image.convert("L")
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    """Through the embedded profile (LittleCMS, perceptual intent), when it fits the mode."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    if image.mode not in _PROFILE_MODES.get(source.profile.xcolor_space, ()):
        return image
    return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")


if __name__ == "__main__":
    import sys

    for name, picture in truth_variants(Path(sys.argv[1])).items():
        print(f"{name:<12} {picture.width}×{picture.height}")
