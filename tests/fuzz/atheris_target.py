"""Optional coverage-guided fuzzing of the render path with atheris (libFuzzer); not in CI.

    pip install atheris
    python -m tests.fuzz.atheris_target CORPUS_DIR -timeout=35 -rss_limit_mb=1769 \
        -max_total_time=1800

An empty CORPUS_DIR is filled with the seeds (tests/fuzz/seeds.py). Half of the mutations
are ours (structure-aware, tests/fuzz/mutators.py), half libFuzzer's own. An input that
breaks the oracle (tests/fuzz/oracle.py) raises AssertionError, which libFuzzer reports as
a crash and saves as crash-<sha1>; bugs listed in tests/fuzz/known.py are let through.
libFuzzer itself catches segfaults, timeouts (-timeout, seconds) and memory (-rss_limit_mb).
Re-judge a saved input with `python -m tests.fuzz.worker FILE`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from imgproc.config import Config
    from tests.fuzz import oracle
    from tests.fuzz.known import known_bug
    from tests.fuzz.mutators import mutate
    from tests.fuzz.seeds import build_seeds

CONFIG = Config()
SEEDS = build_seeds()


def test_one_input(data: bytes) -> None:
    verdict = oracle.check_render(data, CONFIG)
    problems = verdict["problems"] + [f"partial: variant {name} failed: {error}"
                                      for name, error in verdict.get("failures", {}).items()]
    if problems and not known_bug("violation", problems, verdict):
        raise AssertionError("; ".join(problems) + "\n" +
                             verdict.get("traceback", ""))


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if not data or rng.random() < 0.5:
        return atheris.Mutate(data, max_size)
    mutated, _steps = mutate(rng, data, SEEDS)
    return mutated[:max_size] if len(mutated) > max_size else mutated


def main() -> None:
    corpus = next((Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if corpus is not None and corpus.is_dir() and not any(corpus.iterdir()):
        for name, seed in SEEDS.items():
            (corpus / name).write_bytes(seed)
    argv = list(sys.argv)
    if not any(arg.startswith("-max_len") for arg in argv):
        argv.append("-max_len=262144")
    atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
