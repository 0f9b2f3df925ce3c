"""The long fuzz run: structure-aware mutations of every format through render and process_object.

    python bench/fuzz.py --minutes 30 [--seed S] [--workers 2] [--out DIR]
    python bench/fuzz.py --seed S --index I [--out DIR]     # re-judge one input of a run

Prints a progress line every few seconds and, at the end, a summary: inputs tried, outcomes
(rendered / BadImage by errorType / other exception / crash / hang), process_object outcomes
for the inputs also sent through it (one in --process-every), inputs per second, the slowest
input, the largest peak RSS of a worker during one input, and every finding: oracle
violations, crashes, hangs, renders past the time budget, memory over --rss-limit-mb (the
Lambda's memory by default); and, for information, inputs slower than --slow-seconds. Each
finding's input is saved under --out with a JSON sidecar (what was wrong, how to reproduce).
Findings that match a bug in tests/fuzz/known.py are marked known. Exit status: 1 when there
is a new finding, else 0.

The oracle, mutators and worker live in tests/fuzz/ (see tests/test_fuzz.py for the CI run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.fuzz.campaign import LAMBDA_MEMORY_MB, Campaign, Summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / ".cache" / "fuzz-findings",
                        help="where failing inputs are saved (default: git-ignored)")
    parser.add_argument("--process-every", type=int, default=8,
                        help="also run process_object on every Nth input (0: never)")
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    parser.add_argument("--rss-limit-mb", type=float, default=LAMBDA_MEMORY_MB)
    parser.add_argument("--index", type=int, help="judge only this input of --seed")
    parser.add_argument("--count", type=int, help="stop after this many inputs")
    args = parser.parse_args()

    one = args.index is not None  # re-judge one input, through process_object as well
    campaign = Campaign(
        args.seed, args.minutes * 60, workers=1 if one else args.workers, out=args.out,
        process_every=1 if one else args.process_every, slow_seconds=args.slow_seconds,
        rss_limit_mb=args.rss_limit_mb, max_inputs=1 if one else args.count,
        first_index=args.index or 0, progress=progress,
    )
    if one:
        print(f"judging input {args.index} of seed {args.seed}", flush=True)
    else:
        print(f"fuzzing with seed {args.seed} for {args.minutes:g} min on {args.workers} "
              f"workers; findings go to {args.out}/", flush=True)
    summary = campaign.run()
    print(summary.text(), flush=True)
    return 1 if summary.new_findings else 0


def progress(summary: Summary) -> None:
    rate = summary.inputs / summary.seconds if summary.seconds else 0
    failing = sum(1 for f in summary.findings if f.kind != "slow")
    print(f"[{summary.seconds:6.0f} s] {summary.inputs} inputs ({rate:.1f}/s): "
          f"rendered {summary.outcomes['rendered']}, BadImage {summary.outcomes['bad_image']}, "
          f"findings {failing} ({len(summary.new_findings)} new), "
          f"slowest {summary.slowest_ms:.0f} ms, peak RSS {summary.peak_rss_mb:.0f} MB",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
