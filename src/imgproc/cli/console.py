"""How the CLI talks: rich tables for people, JSON lines for machines, progress on stderr.

With `--json`, stdout carries one JSON object per line and nothing else; everything meant for
people (progress, notes, errors) goes to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import ExitCode
from ..outcome import Outcome, Result

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

_STYLE = {Result.COMPLETE: "green", Result.SKIPPED: "dim", Result.IGNORED: "dim",
          Result.PARTIAL: "yellow", Result.FAILED: "red", Result.RETRY: "magenta"}


def emit_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def note(message: str) -> None:
    err.print(message)


@contextmanager
def progress(total: int, description: str, enabled: bool = True) -> Iterator:
    """Yields an `advance(n=1)` callable; draws a bar only when stderr is a terminal."""
    if not enabled or total <= 1 or not err.is_terminal:
        yield lambda n=1: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True)
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def outcome_table(outcomes: Iterable[Outcome], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("key", overflow="fold")
    table.add_column("outcome")
    table.add_column("variants", justify="right")
    table.add_column("ms", justify="right")
    table.add_column("detail", overflow="fold")
    for outcome in outcomes:
        variants = len(outcome.record.get("processedVariants", [])) if outcome.record else 0
        style = _STYLE.get(outcome.status, "")
        table.add_row(outcome.key, f"[{style}]{outcome.status}[/]", str(variants or ""),
                      str(outcome.duration_ms), outcome.message)
    return table


def summary(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    parts = [f"{count} {status.lower()}" for status, count in sorted(counts.items())]
    return f"{len(outcomes)} original(s): " + (", ".join(parts) if parts else "nothing to do")


def exit_code(outcomes: Iterable[Outcome]) -> ExitCode:
    return ExitCode.OK if all(outcome.ok for outcome in outcomes) else ExitCode.PROBLEM


def record_table(record: dict) -> Table:
    """A record as two columns, nested values shown compactly."""
    table = Table(show_header=False, title=record.get("id"), title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in record.items():
        if field == "processedVariants":
            value = "\n".join(
                f"{v['name']}: {v['width']}×{v['height']} {v['format']} {v['size']:,} B  {v['key']}"
                for v in value
            )
        elif field == "placeholder" and isinstance(value, str):
            value = value[:48] + "…"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(field, "" if value is None else str(value))
    return table
