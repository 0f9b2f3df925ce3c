"""Where imgproc's render time goes, step by step, over the shared photos.

    python bench/steps.py [PHOTO ...] [--runs 5] [--reference FILE]

Profiles `render` (cProfile, in this process, after one warm-up render) and sums the time of
the library calls behind each step: decoding, resampling (libvips), ICC colour conversion,
sharpening, JPEG and WebP encoding, placeholders; everything else is "Python and glue". With
--reference (the JSON that `bench/run.py --json` writes), each step is also shown as a share of
the sharp reference's time for the same photo, which is how the time target is judged: a step
that alone costs 0.15x of sharp's time leaves the rest 0.15x for a 0.30x target.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from run import corpus_photos

from imgproc.config import Config
from imgproc.render import render

# (step, substrings of cProfile's function labels whose own time belongs to it), first match wins
STEPS = (
    ("decode", ("ImagingDecoder", "WebPAnimDecoder", "get_next")),
    ("resample (libvips)", ("_libvips.vips_image_copy_memory", "_libvips.vips_image_write")),
    ("colour (ICC)", ("CmsTransform",)),
    ("sharpen", ("'filter' of 'ImagingCore'",)),
    ("encode JPEG", ("ImagingEncoder", "pyjpegli", "mozjpeg_lossless_optimization")),
    ("encode WebP", ("WebPEncode",)),
    ("placeholders", ("thumbhash", "quantize", "placeholder")),
)
OTHER = "Python and glue"


def profile(data: bytes, runs: int) -> tuple[dict[str, float], float]:
    """({step: ms per render}, total CPU ms per render)."""
    config = Config()
    render(data, config)  # imports, plugin registration and ICC transform caches
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for _ in range(runs):
        render(data, config)
    profiler.disable()
    total = (time.process_time() - started) * 1000 / runs
    steps = dict.fromkeys([name for name, _ in STEPS] + [OTHER], 0.0)
    stats = pstats.Stats(profiler).stats
    for (filename, line, function), row in stats.items():
        label = f"{filename}:{line}({function})"
        own_ms = row[2] * 1000 / runs  # tottime: time in this function itself
        step = next((name for name, keys in STEPS if any(k in label for k in keys)), OTHER)
        steps[step] += own_ms
    # libvips works where a pipeline is written out: to_pillow under decode_webp is a WebP's
    # decoding (less ~1 ms of Pillow's frombytes, already counted as decode), not resampling
    for (_file, _line, function), row in stats.items():
        if function == "to_pillow":
            for (_f, _l, caller), (*_counts, cumulative) in row[4].items():
                if caller == "decode_webp":
                    moved = min(steps["resample (libvips)"], cumulative * 1000 / runs)
                    steps["resample (libvips)"] -= moved
                    steps["decode"] += moved
    profiled = sum(steps.values())
    return {name: ms * total / profiled for name, ms in steps.items()}, total  # CPU-scaled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reference", type=Path, metavar="FILE",
                        help="bench/run.py --json output, for shares of sharp's time")
    args = parser.parse_args()
    photos = args.photos or corpus_photos()
    sharp_ms = {}
    if args.reference:
        for entry in json.loads(args.reference.read_text())["photos"]:
            if "median_ms" in entry["impls"].get("reference", {}):
                sharp_ms[Path(entry["path"]).name] = entry["impls"]["reference"]["median_ms"]
    results = {photo.name: profile(photo.read_bytes(), args.runs) for photo in photos}
    show(results, sharp_ms)


def show(results: dict[str, tuple[dict[str, float], float]], sharp_ms: dict[str, float]) -> None:
    table = Table(title="render CPU ms per step (cProfile's split, scaled to CPU time)",
                  title_justify="left")
    table.add_column("step")
    for name in results:
        table.add_column(name[:3], justify="right")
    table.add_column("median share", justify="right")
    if sharp_ms:
        table.add_column("median × sharp's time", justify="right")
    steps = next(iter(results.values()))[0]
    for step in [*steps, "total"]:
        row, shares, of_sharp = [], [], []
        for name, (by_step, total) in results.items():
            ms = total if step == "total" else by_step[step]
            row.append(f"{ms:,.0f}")
            shares.append(ms / total)
            if name in sharp_ms:
                of_sharp.append(ms / sharp_ms[name])
        extra = [f"{statistics.median(of_sharp):.3f}×"] if sharp_ms and of_sharp else []
        table.add_row(step, *row, f"{statistics.median(shares):.0%}", *extra)
    Console().print(table)


if __name__ == "__main__":
    main()
