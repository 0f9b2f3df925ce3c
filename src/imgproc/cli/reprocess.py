"""`imgproc reprocess`: backfill originals, retry failures, or force a full redo.

`--remote` hands the work to the deployed pipeline: `--engine sqs` (the default) sends one
S3-shaped message per original from here; `--engine batch-operations` creates one S3 Batch
Operations job that lists the originals and invokes the function itself (docs/backfills.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from .. import records as rec
from ..core import process_many
from ..errors import ConfigError, ExitCode
from ..keys import is_candidate
from ..outcome import Result
from ..stores.base import ObjectInfo
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, exit_code, note, out, outcome_table, progress, summary

_PLAN_BATCH = 100  # records read at once (DynamoDB's BatchGetItem limit)


@click.command()
@click.option("--prefix", help="Originals under this prefix (default: the input prefix).")
@click.option("--key", "keys", multiple=True, help="Only this original (repeatable).")
@click.option("--failed", is_flag=True, help="Retry every original that has an error record.")
@click.option("--force", is_flag=True, help="Process even originals that are up to date.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Originals processed at once.")
@click.option("--remote", is_flag=True,
              help="Send the work to the deployed pipeline instead of processing here.")
@click.option("--engine", type=click.Choice(["sqs", "batch-operations"]), default="sqs",
              show_default=True,
              help="With --remote: messages on the queue from here, or one S3 Batch "
                   "Operations job (for large backfills).")
@click.option("--manifest", "manifest_uri", metavar="s3://BUCKET/KEY",
              help="batch-operations: the objects to process, as a CSV (bucket,key) or an S3 "
                   "Inventory manifest.json, instead of listing the prefix.")
@click.option("--function", help="batch-operations: the function (name or ARN; default: the "
                                 "stack's FunctionName).")
@click.option("--role-arn", help="batch-operations: the role the job assumes (default: the "
                                 "stack's BatchOperationsRoleArn).")
@click.option("--dry-run", is_flag=True, help="Say what would be processed; change nothing.")
@json_option
@pass_app
def reprocess(app: App, prefix, keys, failed, force, workers, remote, engine, manifest_uri,
              function, role_arn, dry_run, json_here) -> None:
    """Process originals again: new ones, stale ones, failed ones, or all with --force."""
    as_json = wants_json(app, json_here)
    if engine == "batch-operations" or manifest_uri:
        check_batch_options(remote, engine, prefix, keys, failed, manifest_uri)
        failed_keys = (list(select_keys(app.pipeline(), prefix or app.config.input_prefix,
                                        (), True)) if failed else None)
        exit_with(start_batch_job(app, prefix or app.config.input_prefix, force or failed,
                                  manifest_uri, failed_keys, function, role_arn, dry_run,
                                  as_json))
    pipeline = app.pipeline()
    chosen = select_keys(pipeline, prefix or app.config.input_prefix, keys, failed)
    if remote and not dry_run:
        exit_with(send_to_queue(app, pipeline, chosen, force or failed, workers, as_json))
    if dry_run:
        for key, reason, _info in plan(pipeline, chosen, force or failed):
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

        outcomes = process_many(pipeline, list(chosen), workers=workers, force=force or failed,
                                on_outcome=report)
    if not as_json:
        shown = outcomes if app.verbose else [o for o in outcomes if o.status != Result.SKIPPED]
        if shown:
            out.print(outcome_table(shown))
        out.print(summary(outcomes))
    exit_with(exit_code(outcomes))


def send_to_queue(app: App, pipeline, keys: dict[str, ObjectInfo | None], force: bool,
                  workers: int, as_json: bool) -> ExitCode:
    """--remote: one S3-shaped message per original that needs work, in batches of 10,
    `workers` batches at once."""
    from ..aws.fanout import send_remote

    queue_url = app.queue_url or app.stack_outputs.queue_url
    if not queue_url:
        raise ConfigError("--remote needs the pipeline's queue: pass --stack NAME or --queue-url.")
    sqs = app.aws_client("sqs")
    work = []
    for key, action, info in plan(pipeline, keys, force):
        if action == "would process":
            work.append((key, info.size, info.etag))
    with progress(len(work), "queueing", enabled=not as_json) as advance:
        result = send_remote(sqs, queue_url, pipeline.originals.name, work, force=force,
                             on_sent=lambda sent: advance(sent), workers=workers)
    if as_json:
        emit_json(result.to_json())
    else:
        out.print(f"queued {result.sent} of {len(keys)} original(s) on {queue_url} "
                  f"({len(keys) - len(work)} up to date or missing)")
        for failure in result.failures:
            out.print(f"[red]not queued[/] {failure['key']}: {failure['message']}")
    return ExitCode.PROBLEM if result.failed else ExitCode.OK


def check_batch_options(remote, engine, prefix, keys, failed, manifest_uri) -> None:
    """Combinations a Batch Operations job cannot honour, refused before anything is sent."""
    if engine != "batch-operations":
        raise ConfigError("--manifest is for --engine batch-operations.")
    if not remote:
        raise ConfigError("--engine batch-operations runs on the deployed pipeline: add "
                          "--remote.")
    if keys:
        raise ConfigError("--key names originals one by one: use --engine sqs for those.")
    if manifest_uri and (prefix or failed):
        raise ConfigError(f"--manifest lists the objects itself: drop "
                          f"{'--prefix' if prefix else '--failed'}.")


def start_batch_job(app: App, prefix: str, force: bool, manifest_uri: str | None,
                    failed_keys: list[str] | None, function: str | None, role_arn: str | None,
                    dry_run: bool, as_json: bool) -> ExitCode:
    """--engine batch-operations: one job over the prefix, the given manifest, or a CSV of the
    error records' keys written first; prints the job id and how to follow it."""
    from ..aws import batch_jobs as bj
    from ..keys import report_prefix

    config = app.config
    if not prefix.startswith(config.input_prefix):
        raise ConfigError(f"--prefix {prefix} is outside the input prefix "
                          f"{config.input_prefix}: the function would ignore every object.")
    bucket = app.bucket_name
    role = role_arn or app.stack_outputs.batch_operations_role_arn
    function = function or app.stack_outputs.function_name
    if not bucket:
        raise ConfigError("--engine batch-operations needs the bucket: pass --stack NAME or "
                          "--bucket NAME.")
    if not role or not function:
        raise ConfigError("--engine batch-operations needs the function and the role the job "
                          "assumes: pass --stack NAME (outputs FunctionName and "
                          "BatchOperationsRoleArn) or --function and --role-arn.")
    reports = report_prefix(config)
    s3, s3control = app.aws_client("s3"), app.aws_client("s3control")
    caller = bj.Caller.of(app.aws_client("sts"))
    manifest = None
    if manifest_uri:
        manifest = bj.find_manifest(s3, manifest_uri)
        if not role_arn and (manifest.bucket != bucket or not manifest.key.startswith(reports)):
            raise ConfigError(f"The stack's Batch Operations role reads manifests only under "
                              f"s3://{bucket}/{reports}: put {manifest_uri} there, or pass "
                              "--role-arn with a role that can read it.")
    elif failed_keys is not None:
        if not failed_keys:
            note(f"no error records under {prefix}: no job created")
            return ExitCode.OK
        if dry_run:
            key = bj.failed_manifest_key(reports, bj.failed_keys_csv(bucket, failed_keys))
            manifest = bj.Manifest(bucket, key, "(not written: dry run)")
        else:
            manifest = bj.write_failed_manifest(s3, bucket, reports, failed_keys)
    plan = bj.JobPlan(caller=caller, bucket=bucket, prefix=prefix, force=force,
                      function_arn=caller.function_arn(function, s3control.meta.region_name),
                      role_arn=role, report_prefix=reports, manifest=manifest)
    request = bj.create_job_request(plan)
    if dry_run:
        if as_json:
            emit_json(request)
        else:
            out.print_json(data=request)
            note("dry run: no job created")
        return ExitCode.OK
    job_id = bj.create_job(s3control, request)
    report = f"{plan.report_location}job-{job_id}/"
    source = manifest.uri if manifest else f"s3://{bucket}/{prefix}"
    if as_json:
        emit_json({"engine": "batch-operations", "jobId": job_id, "source": source,
                   "keys": len(failed_keys) if failed_keys else None, "force": force,
                   "report": report, "clientRequestToken": request["ClientRequestToken"]})
    else:
        count = f" ({len(failed_keys)} failed original(s))" if failed_keys else ""
        out.print(f"created Batch Operations job {job_id} over {source}{count}"
                  f"{' with --force' if force else ''}")
        out.print(f"report of failed tasks: {report}")
        out.print(f"follow it: imgproc jobs status {job_id} --wait")
    return ExitCode.OK


def select_keys(pipeline, prefix: str, keys, failed: bool) -> dict[str, ObjectInfo | None]:
    """{key: what the listing said about it}; None for keys named or taken from error records,
    which only a HEAD can describe."""
    if keys:
        return dict.fromkeys(keys)
    if failed:
        return dict.fromkeys(sorted({record["key"] for record in pipeline.records.errors()
                                     if record["key"].startswith(prefix)}))
    return {info.key: info for info in pipeline.originals.list(prefix)
            if is_candidate(info.key)}


def plan(pipeline, chosen: dict[str, ObjectInfo | None], force: bool
         ) -> Iterator[tuple[str, str, ObjectInfo | None]]:
    """(key, what would happen, the original's info) from the listing (a HEAD only where it
    is unknown) and the records, read 100 at a time: a prefix of N originals costs N/1000
    LISTs and N/100 record reads, not a HEAD and a read each."""
    config = pipeline.config
    keys = list(chosen)
    for start in range(0, len(keys), _PLAN_BATCH):
        batch = keys[start : start + _PLAN_BATCH]
        records = {} if force else pipeline.records.get_many(batch)
        for key in batch:
            info = chosen[key] or pipeline.originals.head(key)
            if info is None:
                yield key, "missing original (ignored)", None
            elif not force and rec.is_settled(records.get(key), info.etag, config.config_hash):
                yield key, "up to date (skip)", info
            else:
                yield key, "would process", info
