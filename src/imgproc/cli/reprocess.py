"""`imgproc reprocess`: backfill originals, retry failures, or force a full redo."""

from __future__ import annotations

import click

from .. import records as rec
from ..core import process_many
from ..errors import ConfigError, ExitCode
from ..keys import is_candidate
from ..outcome import Result
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, exit_code, note, out, outcome_table, progress, summary


@click.command()
@click.option("--prefix", help="Originals under this prefix (default: the input prefix).")
@click.option("--key", "keys", multiple=True, help="Only this original (repeatable).")
@click.option("--failed", is_flag=True, help="Retry every original that has an error record.")
@click.option("--force", is_flag=True, help="Process even originals that are up to date.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Originals processed at once.")
@click.option("--remote", is_flag=True,
              help="Send the work to the deployed pipeline's queue instead of processing here.")
@click.option("--dry-run", is_flag=True, help="Say what would be processed; change nothing.")
@json_option
@pass_app
def reprocess(app: App, prefix, keys, failed, force, workers, remote, dry_run,
              json_here) -> None:
    """Process originals again: new ones, stale ones, failed ones, or all with --force."""
    as_json = wants_json(app, json_here)
    pipeline = app.pipeline()
    chosen = select_keys(pipeline, prefix or app.config.input_prefix, keys, failed)
    if remote and not dry_run:
        exit_with(send_to_queue(app, pipeline, chosen, force or failed, as_json))
    if dry_run:
        for key, reason in plan(pipeline, chosen, force or failed):
            if as_json:
                emit_json({"key": key, "action": reason})
            else:
                out.print(f"{reason:>28}  {key}")
        if not as_json:
            note(f"dry run: {len(chosen)} original(s) considered, nothing changed")
        exit_with(ExitCode.OK)
    with progress(len(chosen), "reprocessing", enabled=not as_json) as advance:
        def report(outcome):
            advance()
            if as_json:
                emit_json(outcome.to_json())

        outcomes = process_many(pipeline, chosen, workers=workers, force=force or failed,
                                on_outcome=report)
    if not as_json:
        shown = outcomes if app.verbose else [o for o in outcomes if o.status != Result.SKIPPED]
        if shown:
            out.print(outcome_table(shown))
        out.print(summary(outcomes))
    exit_with(exit_code(outcomes))


def send_to_queue(app: App, pipeline, keys: list[str], force: bool, as_json: bool) -> ExitCode:
    """--remote: one S3-shaped message per original that needs work, in batches of 10."""
    from ..aws.fanout import send_remote

    queue_url = app.queue_url or app.stack_outputs.queue_url
    if not queue_url:
        raise ConfigError("--remote needs the pipeline's queue: pass --stack NAME or --queue-url.")
    sqs = app.aws_client("sqs")
    work = []
    for key, action in plan(pipeline, keys, force):
        if action == "would process":
            info = pipeline.originals.head(key)
            if info is not None:
                work.append((key, info.size, info.etag))
    with progress(len(work), "queueing", enabled=not as_json) as advance:
        result = send_remote(sqs, queue_url, pipeline.originals.name, work, force=force,
                             on_sent=lambda sent: [advance() for _ in range(sent)])
    if as_json:
        emit_json(result.to_json())
    else:
        out.print(f"queued {result.sent} of {len(keys)} original(s) on {queue_url} "
                  f"({len(keys) - len(work)} up to date or missing)")
        for failure in result.failures:
            out.print(f"[red]not queued[/] {failure['key']}: {failure['message']}")
    return ExitCode.PROBLEM if result.failed else ExitCode.OK


def select_keys(pipeline, prefix: str, keys, failed: bool) -> list[str]:
    if keys:
        return list(dict.fromkeys(keys))
    if failed:
        return sorted({record["key"] for record in pipeline.records.errors()
                       if record["key"].startswith(prefix)})
    return [info.key for info in pipeline.originals.list(prefix) if is_candidate(info.key)]


def plan(pipeline, keys: list[str], force: bool):
    """(key, what would happen) for a dry run, from HEADs and records only."""
    config = pipeline.config
    for key in keys:
        info = pipeline.originals.head(key)
        if info is None:
            yield key, "missing original (ignored)"
        elif not force and rec.is_settled(pipeline.records.get(key), info.etag,
                                          config.config_hash):
            yield key, "up to date (skip)"
        else:
            yield key, "would process"
