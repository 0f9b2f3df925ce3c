"""Encoder options behind the bytes and time targets, measured on imgproc's own pixels.

    python bench/encoders.py [PHOTO ...]

For each photo, imgproc renders once and the exact pixels it hands each encoder are kept.
Each JPEG and WebP variant is then encoded again with every candidate below, and compared with
what sharp 0.33.2 (bench/reference) publishes for the same variant: bytes as a ratio to
sharp's, SSIM against the lossless truth (bench/truth.py) as a difference from sharp's, and
encode CPU ms. AVIF candidates encode the WebP variants' pixels at the AVIF example's
qualities (examples/config/avif.toml) and are compared with sharp's WebP of the same size.

Read bytes and SSIM together: near these qualities 0.0001 of SSIM costs about 0.5 % of bytes,
so a candidate that is 3 % smaller at −0.0006 is no better on the curve.

JPEG candidates:
- `turbo` (imgproc's encoder before jpegli): libjpeg-turbo in Pillow (Annex K tables,
  progressive, optimal Huffman), at the variant's quality.
- `robidoux`: the same encoder with mozjpeg's default quantisation tables (table 3, by
  N. Robidoux), without mozjpeg's trellis quantisation.
- `jpegli baseline` (imgproc at effort 0-3): Google's jpegli through `pyjpegli`, 4:2:0; the
  binding writes baseline JPEG with the standard Huffman tables.
- `jpegli progressive` (imgproc's default, effort 4-6): the same, then made progressive with
  optimal Huffman tables by mozjpeg's lossless transcoder (`mozjpeg-lossless-optimization`).
- `mozjpeg trellis` and `mozjpeg trellis + scans`: mozjpeg through libvips with trellis
  quantisation, overshoot deringing and table 3, the second with the progressive scan
  search: exactly sharp's `mozjpeg: true` (imgproc's effort 5 and 6 before jpegli).
WebP candidates: libwebp `method` 3 to 6 through Pillow (imgproc and sharp use 4), and through
libvips: `smart_subsample` (sharp YUV), `smart_deblock`, `preset = photo`.
AVIF candidates: libaom through Pillow at speed 9 tuned for SSIM (imgproc's AVIF at effort 1),
speed 9 with libaom's default PSNR tuning, speed 8 tuned for SSIM, and libvips' heifsave at
effort 0.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from rich.console import Console
from rich.table import Table
from run import corpus_photos, reference_missing, run_reference
from ssim import ssim
from truth import truth_variants

import imgproc.render.pipeline as pipeline
from imgproc.config import Config, load_config
from imgproc.render.encode import encode
from imgproc.render.vips import to_vips

AVIF_QUALITY = {v.keep_if_smaller_than: v.quality for v in load_config(
    Path(__file__).resolve().parents[1] / "examples" / "config" / "avif.toml", env={}).variants
    if v.format == "avif"}  # {the WebP variant each AVIF stands beside: its quality}

# mozjpeg's jcparam.c, quant table 3 (natural order); mozjpeg uses it for chroma too
ROBIDOUX = (
    16, 16, 16, 18, 25, 37, 56, 85, 16, 17, 20, 27, 34, 40, 53, 75,
    16, 20, 24, 31, 43, 62, 91, 135, 18, 27, 31, 40, 53, 74, 106, 156,
    25, 34, 43, 53, 69, 94, 131, 189, 37, 40, 62, 74, 94, 124, 169, 238,
    56, 53, 91, 106, 131, 169, 226, 311, 85, 75, 135, 156, 189, 238, 311, 418,
)


def scaled_table(table: tuple[int, ...], quality: int) -> list[int]:
    """libjpeg's jpeg_quality_scaling, clamped to baseline's 1..255."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (value * scale + 50) // 100)) for value in table]


def _pillow_jpeg(image: Image.Image, quality: int, **tables) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", optimize=True, progressive=True, subsampling="4:2:0",
               **(tables or {"quality": quality}))
    return out.getvalue()


def _robidoux(image: Image.Image, quality: int) -> bytes:
    table = scaled_table(ROBIDOUX, quality)
    return _pillow_jpeg(image, quality, qtables=[table, table])


def _jpegli(image: Image.Image, quality: int) -> bytes:
    import pyjpegli

    return pyjpegli.encode(image.convert("RGB").tobytes(), image.width, image.height,
                           quality=quality)


def _jpegli_progressive(image: Image.Image, quality: int) -> bytes:
    return encode(image, "jpeg", quality, effort=4)  # imgproc's own default path


def _mozjpeg(scans: bool) -> Callable[[Image.Image, int], bytes]:
    def encode_mozjpeg(image: Image.Image, quality: int) -> bytes:
        return to_vips(image).jpegsave_buffer(
            Q=quality, interlace=True, optimize_coding=True, subsample_mode="on",
            trellis_quant=True, overshoot_deringing=True, quant_table=3, optimize_scans=scans,
            keep=0)
    return encode_mozjpeg


def _webp(method: int) -> Callable[[Image.Image, int], bytes]:
    def encode_webp(image: Image.Image, quality: int) -> bytes:
        out = io.BytesIO()
        image.save(out, "WEBP", quality=quality, method=method)
        return out.getvalue()
    return encode_webp


def _vips_webp(**options) -> Callable[[Image.Image, int], bytes]:
    return lambda image, quality: to_vips(image).webpsave_buffer(Q=quality, effort=4, keep=0,
                                                                **options)


def _avif(speed: int, tune: str | None) -> Callable[[Image.Image, int], bytes]:
    def encode_avif(image: Image.Image, quality: int) -> bytes:
        out = io.BytesIO()
        image.save(out, "AVIF", quality=quality, speed=speed, max_threads=1, icc_profile=b"",
                   advanced={"tune": tune} if tune else None)
        return out.getvalue()
    return encode_avif


def candidates() -> dict[str, dict[str, Callable[[Image.Image, int], bytes]]]:
    return {
        "jpeg": {"turbo": _pillow_jpeg, "robidoux": _robidoux, "jpegli baseline": _jpegli,
                 "jpegli progressive": _jpegli_progressive,
                 "mozjpeg trellis": _mozjpeg(False), "mozjpeg trellis + scans": _mozjpeg(True)},
        "webp": {**{f"method {m}": _webp(m) for m in (4, 3, 5, 6)},
                 "smart_subsample": _vips_webp(smart_subsample=True),
                 "smart_deblock": _vips_webp(smart_deblock=True),
                 "preset photo": _vips_webp(preset="photo")},
        "avif": {"speed 9, tune ssim": _avif(9, "ssim"), "speed 9, tune psnr": _avif(9, None),
                 "speed 8, tune ssim": _avif(8, "ssim"),
                 "libvips heifsave effort 0": lambda image, quality: to_vips(image)
                 .heifsave_buffer(Q=quality, compression="av1", effort=0, keep=0)},
    }


def encoder_inputs(data: bytes) -> dict[str, tuple[str, int, Image.Image]]:
    """{variant: (format, quality, pixels)}: exactly what imgproc's render encodes."""
    seen: list[tuple[Image.Image, str, int]] = []
    original = pipeline.encode

    def keep(image: Image.Image, fmt: str, quality: int, effort: int = 4) -> bytes:
        seen.append((image.copy(), fmt, quality))
        return original(image, fmt, quality, effort)

    pipeline.encode = keep  # render's own steps, with the encoder's input kept aside
    try:
        rendition = pipeline.render(data, Config())
    finally:
        pipeline.encode = original
    names = {(v.width, v.height, v.format): v.name for v in rendition.variants}
    return {names[(*image.size, fmt)]: (fmt, quality, image) for image, fmt, quality in seen}


def measure_photo(photo: Path, scratch: Path) -> list[dict]:
    truth = truth_variants(photo)
    reference = run_reference(photo, 1, scratch / photo.stem)
    if "error" in reference:
        raise SystemExit(f"reference failed on {photo.name}: {reference['error']}")
    rows = []
    for name, (fmt, quality, pixels) in encoder_inputs(photo.read_bytes()).items():
        sharp_file = next((scratch / photo.stem).glob(f"{name}.*"))
        with Image.open(sharp_file) as opened:
            sharp_pixels = opened.convert("RGB")
        ideal = truth[name]
        if ideal.size != sharp_pixels.size:
            ideal = ideal.resize(sharp_pixels.size, Image.Resampling.LANCZOS)
        sharp_ssim = ssim(sharp_pixels, ideal)
        tried = [(fmt, label, encoder, quality) for label, encoder in candidates()[fmt].items()]
        if name in AVIF_QUALITY:
            tried += [("avif", label, encoder, AVIF_QUALITY[name])
                      for label, encoder in candidates()["avif"].items()]
        for kind, label, encoder, at in tried:
            started = time.process_time()
            data = encoder(pixels, at)
            cpu_ms = (time.process_time() - started) * 1000
            with Image.open(io.BytesIO(data)) as opened:
                made = opened.convert("RGB")
            if made.size != ideal.size:
                made = made.resize(ideal.size, Image.Resampling.LANCZOS)
            rows.append({"photo": photo.name, "variant": name, "format": kind,
                         "candidate": label, "bytes": len(data),
                         "sharp_bytes": sharp_file.stat().st_size, "cpu_ms": cpu_ms,
                         "ssim_delta": ssim(made, ideal) - sharp_ssim})
    return rows


def show(rows: list[dict]) -> None:
    console = Console()
    detail = Table(title="Per variant: bytes ÷ sharp's, SSIM − sharp's, encode CPU ms")
    for column in ("photo", "variant", "candidate", "bytes ×", "ΔSSIM", "ms"):
        detail.add_column(column, justify="left" if column in ("photo", "variant",
                                                                "candidate") else "right")
    for row in rows:
        detail.add_row(row["photo"][:3], row["variant"], row["candidate"],
                       f"{row['bytes'] / row['sharp_bytes']:.3f}", f"{row['ssim_delta']:+.4f}",
                       f"{row['cpu_ms']:.0f}")
    console.print(detail)
    summary = Table(title="Per candidate, medians over the photos")
    for column in ("format", "candidate", "bytes ×", "variants with SSIM < sharp's",
                   "encode ms per image"):
        summary.add_column(column, justify="left" if column in ("format",
                                                                 "candidate") else "right")
    for fmt in ("jpeg", "webp", "avif"):
        for label in dict.fromkeys(r["candidate"] for r in rows if r["format"] == fmt):
            mine = [r for r in rows if r["format"] == fmt and r["candidate"] == label]
            photos = dict.fromkeys(r["photo"] for r in mine)
            ratios = [sum(r["bytes"] for r in mine if r["photo"] == p)
                      / sum(r["sharp_bytes"] for r in mine if r["photo"] == p) for p in photos]
            below = sum(r["ssim_delta"] < 0 for r in mine)
            per_image = [sum(r["cpu_ms"] for r in mine if r["photo"] == p) for p in photos]
            summary.add_row(fmt, label, f"{statistics.median(ratios):.3f}",
                            f"{below} of {len(mine)}", f"{statistics.median(per_image):.0f}")
    console.print(summary)
    target = Table(title="Against the bytes target: each JPEG candidate with WebP method 4")
    for column in ("JPEG candidate", "JPEG+WebP bytes × (median)", "lowest median ΔSSIM",
                   "meets ≤ 0.90× at SSIM ≥ sharp's"):
        target.add_column(column, justify="left" if column == "JPEG candidate" else "right")
    photos = list(dict.fromkeys(r["photo"] for r in rows))
    for label in dict.fromkeys(r["candidate"] for r in rows if r["format"] == "jpeg"):
        chosen = [r for r in rows if (r["format"], r["candidate"]) in (("jpeg", label),
                                                                       ("webp", "method 4"))]
        ratios = [sum(r["bytes"] for r in chosen if r["photo"] == p)
                  / sum(r["sharp_bytes"] for r in chosen if r["photo"] == p) for p in photos]
        worst = min(statistics.median(r["ssim_delta"] for r in chosen if r["variant"] == name)
                    for name in dict.fromkeys(r["variant"] for r in chosen))
        ratio = statistics.median(ratios)
        target.add_row(label, f"{ratio:.3f}", f"{worst:+.4f}",
                       "yes" if ratio <= 0.90 and worst >= 0 else "no")
    console.print(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", type=Path)
    args = parser.parse_args()
    if missing := reference_missing():
        raise SystemExit(f"this comparison needs the reference: {missing}")
    photos = args.photos or corpus_photos()
    with tempfile.TemporaryDirectory(prefix="imgproc-encoders-") as scratch:
        rows = []
        for photo in photos:
            print(f"{photo.name} …", file=sys.stderr, flush=True)
            rows += measure_photo(photo, Path(scratch))
    show(rows)


if __name__ == "__main__":
    main()
