"""`imgproc jobs list` / `imgproc jobs status JOB [--wait]`: the Batch Operations jobs that
`reprocess --remote --engine batch-operations` created, their progress and their report.

Exit codes follow `status --wait`: 0 when the job is Complete with no failed task, 1 for
failed tasks, a Failed or Cancelled job (or one still running, without --wait), 3 when --wait
gave up.
"""

from __future__ import annotations

from contextlib import contextmanager

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import ExitCode
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, err, out

_STYLE = {"Complete": "green", "Failed": "red", "Cancelled": "red"}


@click.group()
def jobs() -> None:
    """Follow the S3 Batch Operations jobs that reprocess created."""


def _account(app: App):
    """The job API's client and the account id it needs (botocore loaded only now)."""
    from ..aws import batch_jobs

    return (batch_jobs, app.aws_client("s3control"),
            batch_jobs.Caller.of(app.aws_client("sts")).account_id)


@jobs.command("list")
@json_option
@pass_app
def list_jobs(app: App, json_here: bool) -> None:
    """imgproc's jobs in this account and region, newest first (exit 0)."""
    as_json = wants_json(app, json_here)
    batch_jobs, s3control, account = _account(app)
    states = batch_jobs.list_jobs(s3control, account)
    if as_json:
        for state in states:
            emit_json(state.to_json())
        exit_with(ExitCode.OK)
    if not states:
        out.print("no imgproc Batch Operations jobs in this account and region")
        exit_with(ExitCode.OK)
    table = Table(title=f"{len(states)} job(s)", title_justify="left")
    for column in ("job", "status", "succeeded", "failed", "total", "created", "description"):
        table.add_column(column, overflow="fold",
                         justify="right" if column in ("succeeded", "failed", "total") else "left")
    for state in states:
        table.add_row(state.job_id, _styled(state.status), str(state.succeeded),
                      str(state.failed), _total(state), state.created, state.description)
    out.print(table)
    exit_with(ExitCode.OK)


@jobs.command()
@click.argument("job_id", metavar="JOB")
@click.option("--wait", is_flag=True, help="Poll until the job is Complete, Failed or "
                                           "Cancelled.")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait with --wait (exit 3 when exceeded).")
@json_option
@pass_app
def status(app: App, job_id: str, wait: bool, timeout: float, json_here: bool) -> None:
    """A job's state, tasks succeeded/failed/total and its report (exit 0 only when it is
    Complete with no failed task)."""
    as_json = wants_json(app, json_here)
    batch_jobs, s3control, account = _account(app)

    def read():
        return batch_jobs.describe_job(s3control, account, job_id)

    state = read()
    if wait and not state.done:
        from ..core.waiting import poll

        with _progress(enabled=not as_json) as show:
            state = poll(lambda: show(read()), lambda s: s.done, timeout)
    if as_json:
        emit_json(state.to_json())
    else:
        out.print(_table(state))
    if wait and not state.done:
        err.print(f"[yellow]Timed out[/] after {timeout:g} s waiting for job {job_id} "
                  f"({state.status}).")
        exit_with(ExitCode.TIMEOUT)
    exit_with(ExitCode.OK if state.ok else ExitCode.PROBLEM)


@contextmanager
def _progress(enabled: bool):
    """Yields show(state) -> state, drawing tasks done of total on stderr (a terminal only)."""
    if not enabled or not err.is_terminal:
        yield lambda state: state
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True)
    with bar:
        task = bar.add_task("waiting", total=None)

        def show(state):
            bar.update(task, description=state.status, total=state.total or None,
                       completed=state.succeeded + state.failed)
            return state

        yield show


def _table(state) -> Table:
    table = Table(show_header=False, title=f"job {state.job_id}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("status", _styled(state.status))
    table.add_row("tasks", f"{state.succeeded} succeeded, {state.failed} failed, "
                           f"{_total(state)} total")
    table.add_row("description", state.description)
    table.add_row("created", state.created)
    if state.report:
        table.add_row("report", f"{state.report} (manifest.json and results/*.csv, "
                                "written when the job ends)")
    for reason in state.reasons:
        table.add_row("reason", reason)
    return table


def _total(state) -> str:
    return "?" if state.total is None else str(state.total)


def _styled(status: str) -> str:
    style = _STYLE.get(status, "yellow")
    return f"[{style}]{status}[/]"
