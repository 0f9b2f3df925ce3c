"""`imgproc failures`: the error records, newest first."""

from __future__ import annotations

import click
from rich.table import Table

from ..errors import ExitCode
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, out


@click.command()
@json_option
@pass_app
def failures(app: App, json_here: bool) -> None:
    """List originals that failed, with the reason and how often (exit 0)."""
    as_json = wants_json(app, json_here)
    errors = sorted(app.pipeline().records.errors(), key=lambda r: r.get("timestamp", ""),
                    reverse=True)
    if as_json:
        for record in errors:
            emit_json(record)
        exit_with(ExitCode.OK)
    if not errors:
        out.print("[green]no failures recorded[/]")
        exit_with(ExitCode.OK)
    table = Table(title=f"{len(errors)} failure(s)", title_justify="left")
    for column in ("key", "errorType", "retries", "when", "error"):
        table.add_column(column, overflow="fold")
    for record in errors:
        table.add_row(record["key"], record.get("errorType", ""), str(record.get("retryCount", 0)),
                      record.get("timestamp", ""), record.get("error", ""))
    out.print(table)
    exit_with(ExitCode.OK)
