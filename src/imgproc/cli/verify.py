"""`imgproc verify`: every original COMPLETE with every variant; `--fix` mends what it can."""

from __future__ import annotations

import click
from rich.table import Table

from ..core import process_many
from ..core.problems import Problem, delete_orphans, find_problems
from ..errors import ExitCode
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, note, out


@click.command()
@click.option("--prefix", help="Originals under this prefix (default: the input prefix).")
@click.option("--deep", is_flag=True, help="Also open every variant and check its dimensions.")
@click.option("--fix", is_flag=True, help="Reprocess originals with problems, then check again.")
@click.option("--delete-orphans", "delete_orphans_", is_flag=True,
              help="Delete variants and records whose original no longer exists.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64))
@json_option
@pass_app
def verify(app: App, prefix, deep, fix, delete_orphans_, workers, json_here) -> None:
    """Check that nothing is missing, stale or orphaned; exit 1 on any problem."""
    as_json = wants_json(app, json_here)
    pipeline = app.pipeline()
    prefix = prefix or app.config.input_prefix
    problems = find_problems(pipeline, prefix, deep=deep)
    mended = False
    if fix:
        to_reprocess = sorted({p.key for p in problems if not p.is_orphan})
        if to_reprocess:
            note(f"reprocessing {len(to_reprocess)} original(s)")
            process_many(pipeline, to_reprocess, workers=workers, force=True)
            mended = True
    if delete_orphans_ and any(p.is_orphan for p in problems):
        note(f"deleted {delete_orphans(pipeline, problems)} orphan(s)")
        mended = True
    if mended:
        problems = find_problems(pipeline, prefix, deep=deep)
    _report(problems, as_json)
    exit_with(ExitCode.PROBLEM if problems else ExitCode.OK)


def _report(problems: list[Problem], as_json: bool) -> None:
    if as_json:
        for problem in problems:
            emit_json(problem.to_json())
        return
    if not problems:
        out.print("[green]verify: everything is in place[/]")
        return
    table = Table(title=f"{len(problems)} problem(s)", title_justify="left")
    table.add_column("key", overflow="fold")
    table.add_column("problem")
    table.add_column("detail", overflow="fold")
    for problem in problems:
        table.add_row(problem.key, problem.kind, problem.detail)
    out.print(table)
