"""One implementation on one photo, in a process of its own, so peak RSS belongs to that pair.

    python bench/worker.py {render,baseline,avif,process,naive} PHOTO [--runs 5] [--out DIR]

Prints one JSON line shaped like bench/reference/reference.js's: first_ms, wall_ms[],
cpu_ms[] (process CPU time, all threads), peak_rss_mb (the whole process, interpreter and
imports included, as Node's maxRSS includes V8), bytes{variant}; and writes the last run's
variants to DIR as `{name}.jpg|webp|avif` (plus placeholder.jpg) for bench/run.py to score.

Modes:
- render: `imgproc.render.render(data, Config())`, the bytes-in, variants-out core.
- baseline: the same with every JPEG variant at `effort = 3`: jpegli's baseline output, without
  the lossless progressive step of the default (effort 4): what that step costs and saves.
- avif: the same with examples/config/avif.toml, the six default variants plus an AVIF beside
  each WebP, published only where at least 10 % smaller (a withheld AVIF writes no file).
- process: the full `process_object` on the embedded store (a DirectoryStore and a
  SqliteRecordStore in a temporary directory), the photo uploaded under uploads/, force=True
  so every run does all the work: read, render, six writes, manifest and records.
- naive: what a first Pillow script does: for EACH variant, decode the whole original again
  (no draft, so no shrink-on-load), orient, resize with Lanczos in one step, sharpen with
  ImageFilter.SHARPEN from 800 px wide, encode with imgproc's JPEG/WebP settings. No ICC
  conversion and no placeholder: it is the baseline, not a competitor.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MODES = ("render", "baseline", "avif", "process", "naive")
AVIF_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "config" / "avif.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("photo", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    run_once = {"render": render_mode, "baseline": baseline_mode, "avif": avif_mode,
                "process": process_mode, "naive": naive_mode}[args.mode]
    with tempfile.TemporaryDirectory(prefix="imgproc-bench-") as scratch:
        job = run_once(args.photo, Path(scratch))  # imports and setup, outside the clock
        setup_ms = (time.perf_counter() - started) * 1000
        result = measure(job, args.runs)
    outputs = result.pop("outputs")
    if args.out:
        write_outputs(outputs, args.out)
    result["setup_ms"] = setup_ms
    print(json.dumps(result))


def measure(job: Callable[[], dict[str, tuple[str, bytes]]], runs: int) -> dict:
    """Time `runs` calls of `job`; it returns {name: (extension, bytes)}."""
    wall, cpu, outputs = [], [], {}
    for _ in range(runs):
        outputs = {}  # let the previous run's buffers go before the next one starts
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        outputs = job()
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
    return {
        "first_ms": wall[0],
        "wall_ms": wall,
        "cpu_ms": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes": {name: len(data) for name, (_ext, data) in outputs.items()},
        "outputs": outputs,
    }


def write_outputs(outputs: dict[str, tuple[str, bytes]], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (extension, data) in outputs.items():
        (directory / f"{name}.{extension}").write_bytes(data)


def render_mode(photo: Path, _scratch: Path, config=None) -> Callable[[], dict]:
    from imgproc.config import Config
    from imgproc.formats import format_named
    from imgproc.render import render

    data, config = photo.read_bytes(), config or Config()

    def job() -> dict[str, tuple[str, bytes]]:
        rendition = render(data, config)
        if rendition.failures:
            raise SystemExit(f"render failed for some variants: {rendition.failures}")
        outputs = {v.name: (format_named(v.format).extension, v.data)
                   for v in rendition.variants}
        outputs["placeholder"] = ("jpg", _data_url_bytes(rendition.placeholder))
        return outputs

    return job


def baseline_mode(photo: Path, scratch: Path) -> Callable[[], dict]:
    from dataclasses import replace

    from imgproc.config import Config

    config = Config()
    config = replace(config, variants=tuple(
        replace(v, effort=3) if v.format == "jpeg" else v for v in config.variants))
    return render_mode(photo, scratch, config)


def avif_mode(photo: Path, scratch: Path) -> Callable[[], dict]:
    from imgproc.config import load_config

    return render_mode(photo, scratch, load_config(AVIF_CONFIG, env={}))


def process_mode(photo: Path, scratch: Path) -> Callable[[], dict]:
    from imgproc.config import Config
    from imgproc.core import Pipeline, process_object
    from imgproc.keys import variant_key
    from imgproc.stores import DirectoryStore, SqliteRecordStore

    store = DirectoryStore(scratch)
    pipeline = Pipeline(store, store, SqliteRecordStore(scratch / ".imgproc" / "metadata.db"),
                        Config())
    key = f"uploads/{photo.name}"
    store.put(key, photo.read_bytes(), content_type="application/octet-stream",
              cache_control="no-cache", metadata={})

    def job() -> dict[str, tuple[str, bytes]]:
        outcome = process_object(pipeline, key, force=True)
        if outcome.status != "COMPLETE":
            raise SystemExit(f"process_object: {outcome.status} {outcome.message}")
        return _published(pipeline, key, outcome.record, variant_key)

    return job


def _published(pipeline, key: str, record: dict, variant_key) -> dict[str, tuple[str, bytes]]:
    """Read back what process_object wrote (outside the clock would be fairer; it is ~1 ms)."""
    outputs = {}
    for variant in pipeline.config.variants:
        stored = pipeline.outputs.get(variant_key(key, variant, pipeline.config))
        if stored is not None:
            outputs[variant.name] = (variant.extension, stored.data)
    if (record or {}).get("placeholder"):
        outputs["placeholder"] = ("jpg", _data_url_bytes(record["placeholder"]))
    return outputs


def naive_mode(photo: Path, _scratch: Path) -> Callable[[], dict]:
    from PIL import Image, ImageFilter, ImageOps

    from imgproc.config import DEFAULT_VARIANTS
    from imgproc.render.geometry import plan_variant

    data = photo.read_bytes()

    def job() -> dict[str, tuple[str, bytes]]:
        outputs = {}
        for variant in DEFAULT_VARIANTS:
            with Image.open(io.BytesIO(data)) as opened:  # a full decode per variant
                image = ImageOps.exif_transpose(opened).convert("RGB")
            plan = plan_variant(variant, image.width, image.height)
            image = image.resize(plan.size, Image.Resampling.LANCZOS, box=plan.box)
            if variant.width >= 800:
                image = image.filter(ImageFilter.SHARPEN)
            outputs[variant.name] = (variant.extension, _encode(image, variant))
        return outputs

    return job


def _encode(image, variant) -> bytes:
    buffer = io.BytesIO()
    if variant.format == "jpeg":
        image.save(buffer, "JPEG", quality=variant.quality, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=variant.quality, method=4)
    return buffer.getvalue()


def _data_url_bytes(url: str) -> bytes:
    return base64.b64decode(url.split(",", 1)[1])


if __name__ == "__main__":
    sys.exit(main())
