"""`imgproc upload FILE...`: put local pictures into the store as originals, and follow them.

On S3 the bucket's notifications start the pipeline; a local directory has no trigger, so
its uploads are processed right here (what the Lambda would do).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import click

from ..core import process_safely
from ..core.uploads import content_type_of, plan_uploads, put_original
from ..core.waiting import is_for, wait_for_record
from ..errors import BadImage, BadKey, ConfigError, ExitCode
from ..records import Status
from ..stores import DirectoryStore
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, err, out


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--prefix", default=None,
              help="Key prefix under the input prefix (default: the input prefix, uploads/).")
@click.option("--wait", is_flag=True, help="Follow each record until COMPLETE or FAILED.")
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait in all with --wait (exit 3 when exceeded).")
@json_option
@pass_app
def upload(app: App, files: tuple[Path, ...], prefix: str | None, wait: bool, timeout: float,
           json_here: bool) -> None:
    """Upload FILES (or the pictures in a directory) as originals.

    \b
    imgproc --stack imgproc upload cat.jpg holiday/ --prefix uploads/u1/ --wait
    """
    as_json = wants_json(app, json_here)
    pipeline = app.pipeline()
    config = pipeline.config
    try:
        plan = list(plan_uploads(files, prefix or config.input_prefix, config))
    except BadKey as exc:
        raise ConfigError(f"--prefix: {exc}") from None
    if not plan:
        raise ConfigError("No pictures to upload in the given directories.")
    inline = isinstance(pipeline.originals, DirectoryStore)
    wait = wait or inline  # processed here already: its outcome is known, so show it

    sent: dict[str, str | None] = {}
    refused = False
    for item in plan:
        data = item.path.read_bytes()
        try:
            content_type = content_type_of(data, config)
        except BadImage as exc:
            refused = True
            _report(as_json, {"key": item.key, "file": str(item.path), "status": "REFUSED",
                              "error": str(exc)})
            continue
        sent[item.key] = put_original(pipeline, item.key, data, content_type)
        if inline:
            process_safely(pipeline, item.key)
        if not wait:
            _report(as_json, {"key": item.key, "file": str(item.path), "status": "UPLOADED",
                              "etag": sent[item.key]})

    if not wait:
        exit_with(ExitCode.PROBLEM if refused else ExitCode.OK)
    deadline = time.monotonic() + timeout
    codes = {ExitCode.PROBLEM} if refused else set()
    with err.status("waiting for the pipeline", spinner="dots") if not as_json else nullcontext():
        for key, etag in sent.items():
            record = wait_for_record(pipeline.records, key, max(0.0, deadline - time.monotonic()),
                                     etag=etag)
            if not is_for(record, etag):
                codes.add(ExitCode.TIMEOUT)
                _report(as_json, {"key": key, "status": "TIMEOUT",
                                  "error": f"no outcome after {timeout:g} s"})
                continue
            if record.get("status") != Status.COMPLETE:
                codes.add(ExitCode.PROBLEM)
            _report(as_json, _summary(record, pipeline))
    exit_with(max(codes, default=ExitCode.OK, key=_severity))


def _severity(code: ExitCode) -> int:
    """A timeout outranks a failure (as `status --wait`): the outcome is still unknown."""
    return {ExitCode.OK: 0, ExitCode.PROBLEM: 1, ExitCode.TIMEOUT: 2}[code]


def _summary(record: dict, pipeline) -> dict:
    summary = {"key": record["id"], "status": record["status"],
               "variants": [{"name": v["name"], "url": _locate(v, pipeline)}
                            for v in record.get("processedVariants", [])]}
    if record.get("error"):
        summary["error"] = record["error"]
    return summary


def _locate(variant: dict, pipeline) -> str:
    """The CDN URL when the stack has one; else where the object is."""
    if variant.get("url"):
        return variant["url"]
    if isinstance(pipeline.outputs, DirectoryStore):
        return str(pipeline.outputs.root / variant["key"])
    return f"s3://{pipeline.outputs.name}/{variant['key']}"


_STYLE = {"COMPLETE": "green", "UPLOADED": "green", "PARTIAL": "yellow", "FAILED": "red",
          "REFUSED": "red", "TIMEOUT": "magenta"}


def _report(as_json: bool, summary: dict) -> None:
    if as_json:
        emit_json(summary)
        return
    style = _STYLE.get(summary["status"], "")
    out.print(f"[{style}]{summary['status']:<8}[/] {summary['key']}", soft_wrap=True)
    if summary.get("error"):
        out.print(f"         {summary['error']}", soft_wrap=True)
    for variant in summary.get("variants", []):
        out.print(f"         {variant['name']:<14} {variant['url']}", soft_wrap=True)
