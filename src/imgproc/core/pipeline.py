"""What `process_object` works with: the stores and settings, what an event said, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Config
from ..focal import FocalPoint
from ..render import Rendition, render
from ..stores.base import ObjectStore, RecordStore


@dataclass(frozen=True)
class TimeLimit:
    """How long one render may take, and why that long (for the sentence when it overruns)."""

    seconds: float
    reason: str  # "the 30 s time budget", "the 12 s the function had left"

    @classmethod
    def budget_of(cls, config: Config) -> TimeLimit:
        return cls(config.time_budget, f"the {config.time_budget:g} s time budget")


# Renders one picture within a time limit (None: the config's budget), its crops centred on a
# focal point set for it (None: found in the picture).
Renderer = Callable[[bytes, Config, "TimeLimit | None", "FocalPoint | None"], Rendition]


def render_here(data: bytes, config: Config, limit: TimeLimit | None = None,
                focus: FocalPoint | None = None) -> Rendition:
    """In this process: the CPU budget is checked between steps (the CLI's way)."""
    return render(data, config, None if limit is None else limit.seconds, focus)


@dataclass(frozen=True)
class EventHint:
    """What an event said about the object; used only where it matches what was read."""

    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None


@dataclass
class Pipeline:
    """The stores and settings `process_object` works with (built by `imgproc.wiring`).

    `originals` and `outputs` are the same bucket in production; `imgproc process` reads local
    files and writes to an output directory.
    """

    originals: ObjectStore
    outputs: ObjectStore
    records: RecordStore
    config: Config = field(default_factory=Config)
    url_for: Callable[[str, str], str | None] = lambda key, etag: None
    # Called after new variants replaced an earlier version's (CDN invalidation).
    on_replaced: Callable[[str], None] | None = None
    # Where pictures are decoded: here, or a worker process (the Lambda's, core/isolation).
    renderer: Renderer = render_here


@dataclass(frozen=True)
class Stopwatch:
    """The one clock of an outcome's `durationMs`: started once, read at the end."""

    started: float = field(default_factory=time.monotonic)

    def ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)
