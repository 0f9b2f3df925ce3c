"""`imgproc status KEY [--wait]`: a record, optionally waited for."""

from __future__ import annotations

import time
from contextlib import nullcontext

import click

from ..cli import AppContext, json_option, wants_json
from ..console import emit_json, err, out, record_table

DONE = {"COMPLETE", "FAILED", "PARTIAL"}


@click.command()
@click.argument("key")
@click.option("--wait", is_flag=True, help="Poll until the record is COMPLETE or FAILED.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait with --wait (exit 3 when exceeded).")
@json_option
@click.pass_context
def status(ctx: click.Context, key: str, wait: bool, timeout: float, json_here: bool) -> None:
    """Show the record of KEY (exit 1 when unknown or not COMPLETE)."""
    app: AppContext = ctx.obj
    as_json = wants_json(ctx, json_here)
    records = app.pipeline().records
    record = records.get(key)
    if wait and (record is None or record.get("status") not in DONE):
        record = _wait(records, key, timeout, spinner=not as_json)
        if record is None or record.get("status") not in DONE:
            err.print(f"[yellow]Timed out[/] after {timeout:g} s waiting for {key}.")
            ctx.exit(3)
    if record is None:
        err.print(f"[red]Error:[/] no record for {key!r} (never processed, or not an original).")
        ctx.exit(1)
    if as_json:
        emit_json(record)
    else:
        out.print(record_table(record))
    ctx.exit(0 if record.get("status") == "COMPLETE" else 1)


def _wait(records, key: str, timeout: float, spinner: bool) -> dict | None:
    """Polls with a gentle backoff (0.5 s up to 5 s) so a long wait costs few reads."""
    deadline, delay, record = time.monotonic() + timeout, 0.5, None
    with err.status(f"waiting for {key}", spinner="dots") if spinner else nullcontext():
        while True:
            record = records.get(key)
            if record is not None and record.get("status") in DONE:
                return record
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return record
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, 5.0)

