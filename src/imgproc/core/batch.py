"""Run `process_safely` over many keys, optionally in threads, reporting each outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from ..outcome import Outcome
from .guard import process_safely
from .pipeline import Pipeline


def process_many(
    pipeline: Pipeline,
    keys: Iterable[str],
    *,
    workers: int = 1,
    force: bool = False,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """One bad or unreachable original never stops the others; outcomes keep input order.

    Threads suit this work: Pillow releases the GIL while decoding, resampling and encoding,
    and store calls wait on I/O.
    """
    keys = list(keys)
    if workers <= 1 or len(keys) <= 1:
        outcomes = []
        for key in keys:
            outcomes.append(process_safely(pipeline, key, force=force))
            on_outcome(outcomes[-1])
        return outcomes
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(process_safely, pipeline, key, force=force) for key in keys]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            on_outcome(outcomes[-1])
        return outcomes
