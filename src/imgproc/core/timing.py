"""How much of a function's remaining time one picture may take, or none at all.

A message is only started when a whole render fits in what is left (its time budget plus a
reserve to publish and record); otherwise it goes back to the queue untouched, and its next
receive is served first. Only the first picture of an invocation may start with less than its
budget, when the function's timeout itself is shorter: then the time left is the limit, and a
picture that overruns it is FAILED naming that limit (it would overrun on every receive).
"""

from __future__ import annotations

from ..config import Config
from .pipeline import TimeLimit

RESERVE_SECONDS = 3.0  # after a render: variants, manifest and records written, the answer sent
MIN_START_SECONDS = 1.0  # less than this left: not worth starting anything


def time_limit(seconds_left: float, config: Config, first: bool) -> TimeLimit | None:
    """The limit for the next picture, or None: do not start it (give it back to the queue)."""
    usable = seconds_left - RESERVE_SECONDS
    if usable >= config.time_budget:
        return TimeLimit.budget_of(config)
    if not first or usable < MIN_START_SECONDS:
        return None
    return TimeLimit(usable, f"the {usable:.0f} s the function had left (its timeout is shorter "
                             f"than the {config.time_budget:g} s time budget plus "
                             f"{RESERVE_SECONDS:g} s to publish)")


def deferred_message(seconds_left: float, config: Config) -> str:
    return (f"not started: {seconds_left:.1f} s left in this invocation, and a render may take "
            f"{config.time_budget:g} s plus {RESERVE_SECONDS:g} s to publish; back to the queue")
