"""`imgproc focus KEY X Y` / `imgproc focus KEY --clear`: say where a picture's subject is.

The point is kept in the record (`focalOverride`) and survives every later render of the same
bytes; only the cover variants are rendered again (the others do not depend on it), each
under a new URL version so no CDN or browser keeps the old crop.
"""

from __future__ import annotations

import click

from ..core import Refocus, process_safely
from ..errors import ExitCode
from ..focal import FocalPoint
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, err, exit_code, out, outcome_table

_FRACTION = click.FloatRange(0.0, 1.0)


@click.command()
@click.argument("key")
@click.argument("x", required=False, type=_FRACTION)
@click.argument("y", required=False, type=_FRACTION)
@click.option("--clear", is_flag=True,
              help="Drop the point set for KEY: crops follow each variant's gravity again.")
@json_option
@pass_app
def focus(app: App, key: str, x: float | None, y: float | None, clear: bool,
          json_here: bool) -> None:
    """Centre KEY's crops on X, Y (0-1 from the left and top of the displayed picture)."""
    as_json = wants_json(app, json_here)
    if clear == (x is not None) or (x is None) != (y is None):
        raise click.UsageError("give X and Y (each 0-1), or --clear.")
    pipeline = app.pipeline()
    if pipeline.records.get(key) is None:
        err.print(f"[red]Error:[/] no record for {key!r}: process it first "
                  "(imgproc reprocess --key KEY).")
        exit_with(ExitCode.PROBLEM)
    point = None if clear else FocalPoint(x, y)
    outcome = process_safely(pipeline, key, refocus=Refocus(point))
    if as_json:
        emit_json(outcome.to_json())
    else:
        out.print(outcome_table([outcome]))
    exit_with(exit_code([outcome]))
