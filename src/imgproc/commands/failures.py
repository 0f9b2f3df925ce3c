"""`imgproc failures`: the error records, newest first."""

from __future__ import annotations

import click
from rich.table import Table

from ..cli import AppContext, json_option, wants_json
from ..console import emit_json, out


@click.command()
@json_option
@click.pass_context
def failures(ctx: click.Context, json_here: bool) -> None:
    """List originals that failed, with the reason and how often (exit 0)."""
    app: AppContext = ctx.obj
    as_json = wants_json(ctx, json_here)
    errors = sorted(app.pipeline().records.errors(), key=lambda r: r.get("timestamp", ""),
                    reverse=True)
    if as_json:
        for record in errors:
            emit_json(record)
        ctx.exit(0)
    if not errors:
        out.print("[green]no failures recorded[/]")
        ctx.exit(0)
    table = Table(title=f"{len(errors)} failure(s)", title_justify="left")
    for column in ("key", "errorType", "retries", "when", "error"):
        table.add_column(column, overflow="fold")
    for record in errors:
        table.add_row(record["key"], record.get("errorType", ""), str(record.get("retryCount", 0)),
                      record.get("timestamp", ""), record.get("error", ""))
    out.print(table)
    ctx.exit(0)
