"""What rendering in the Lambda's worker process costs, against rendering in-process.

    python bench/isolation.py [--runs 7]

The function renders in a warm worker (`imgproc.core.isolation`) so one picture that runs out
of time or memory fails alone. The price per picture is the pipe: the original's bytes in,
the variants' bytes and the record's fields out (pickled). Per shared photo: median wall time
in-process and through the worker (after one warm-up each), the ratio, and the one-off cost
of starting a worker (a new interpreter importing Pillow and libvips), all from the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rich.console import Console
from rich.table import Table
from run import corpus_photos

from imgproc.config import Config
from imgproc.core.isolation import RenderWorker
from imgproc.render import render


def median_seconds(action, runs: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    config = Config()
    worker = RenderWorker(memory_mb=1449)  # the default 1769 MB function's cap

    started = time.perf_counter()
    worker.warm_up()
    startup = time.perf_counter() - started

    table = Table(title=f"in-process vs worker, median of {args.runs}")
    for column in ("photo", "in-process ms", "worker ms", "ratio"):
        table.add_column(column, justify="right" if column != "photo" else "left")
    ratios = []
    for path in corpus_photos():
        data = path.read_bytes()
        here = median_seconds(lambda d=data: render(d, config), args.runs)
        there = median_seconds(lambda d=data: worker(d, config), args.runs)
        ratios.append(there / here)
        table.add_row(path.name, f"{here * 1000:.0f}", f"{there * 1000:.0f}",
                      f"{there / here:.3f}")
    table.add_row("median", "", "", f"{statistics.median(ratios):.3f}")
    Console().print(table)
    Console().print(f"worker start (once per container, and after a kill): {startup:.2f} s")
    worker.close()


if __name__ == "__main__":
    main()
