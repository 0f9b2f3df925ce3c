"""`imgproc status KEY [--wait]`: a record, optionally waited for."""

from __future__ import annotations

from contextlib import nullcontext

import click

from ..core.waiting import wait_for_record
from ..errors import ExitCode
from ..records import Status, is_done
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, err, out, record_table


@click.command()
@click.argument("key")
@click.option("--wait", is_flag=True, help="Poll until the record is COMPLETE or FAILED.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait with --wait (exit 3 when exceeded).")
@json_option
@pass_app
def status(app: App, key: str, wait: bool, timeout: float, json_here: bool) -> None:
    """Show the record of KEY (exit 1 when unknown or not COMPLETE)."""
    as_json = wants_json(app, json_here)
    records = app.pipeline().records
    record = records.get(key)
    if wait and not is_done(record):
        record = _wait(records, key, timeout, spinner=not as_json)
        if not is_done(record):
            err.print(f"[yellow]Timed out[/] after {timeout:g} s waiting for {key}.")
            exit_with(ExitCode.TIMEOUT)
    if record is None:
        err.print(f"[red]Error:[/] no record for {key!r} (never processed, or not an original).")
        exit_with(ExitCode.PROBLEM)
    if as_json:
        emit_json(record)
    else:
        out.print(record_table(record))
    exit_with(ExitCode.OK if record.get("status") == Status.COMPLETE else ExitCode.PROBLEM)


def _wait(records, key: str, timeout: float, spinner: bool) -> dict | None:
    with err.status(f"waiting for {key}", spinner="dots") if spinner else nullcontext():
        return wait_for_record(records, key, timeout)

