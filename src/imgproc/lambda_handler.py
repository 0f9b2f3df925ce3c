"""The Lambda edge: `imgproc.lambda_handler.handler`.

Takes S3 notifications (direct, or inside SQS messages), EventBridge "Object Created"/"Object
Deleted", `s3:TestEvent`, direct `{"bucket", "key"}` invokes and S3 Batch Operations
invocations. Only transient failures make a message retry (listed in `batchItemFailures`); a
bad picture is recorded by the core and its message consumed. A Batch Operations task is
answered the same way in that service's words: `Succeeded`, `PermanentFailure` (the picture's
sentence goes into the completion report) or `TemporaryFailure` (Batch Operations retries it).
Logs are JSON lines; metrics go out in Embedded Metric Format.

Everything built here (clients, stores, config) is made once per container and reused.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import (
    S3BatchOperationResponseRecord,
)

from . import telemetry
from .aws.events import (
    BatchInvocation,
    EventKind,
    ObjectEvent,
    is_batch_operations,
    parse_batch_operations,
    parse_event,
    parse_sqs_body,
)
from .core import EventHint, Pipeline, process_object, remove_object, safely
from .core.pipeline import TimeLimit
from .core.timing import deferred_message, time_limit
from .errors import ImgprocError, TransientError
from .outcome import Outcome, Result
from .wiring import PipelineSettings, build_pipeline

logger = Logger(service=telemetry.SERVICE)
metrics = Metrics(namespace=telemetry.NAMESPACE, service=telemetry.SERVICE)
# A batch whose every message failed transiently is answered, not raised: all of them listed
# in batchItemFailures (the handler's contract), not a function error.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_pipelines: dict[str, Pipeline] = {}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict, context) -> dict:
    clock = Invocation(context)
    if _is_sqs(event):
        def record_handler(record) -> None:
            _handle_sqs_record(record, clock)

        return process_partial_response(
            event={**event, "Records": _most_received_first(event["Records"])},
            record_handler=record_handler, processor=_processor, context=context,
        )
    if is_batch_operations(event):
        return _answer_batch_operations(parse_batch_operations(event), clock)
    outcomes = [_handle(object_event, clock) for object_event in parse_event(event)]
    retry = [o for o in outcomes if o.retryable]
    if retry:  # asynchronous invokes are retried by Lambda when the handler raises
        raise TransientError(f"{len(retry)} object(s) must be retried: {retry[0].message}")
    if len(outcomes) == 1:
        return outcomes[0].to_json()
    return {"outcomes": [o.to_json() for o in outcomes]}


class Invocation:
    """This invocation's clock: the time Lambda has left for it, and whether a picture has
    been started yet (see `core.timing`)."""

    def __init__(self, context):
        self.context, self.started = context, False

    def seconds_left(self) -> float:
        remaining = getattr(self.context, "get_remaining_time_in_millis", None)
        return remaining() / 1000 if remaining else float("inf")

    def limit_for(self, pipeline: Pipeline) -> TimeLimit | None:
        limit = time_limit(self.seconds_left(), pipeline.config, first=not self.started)
        if limit is not None:
            self.started = True
        return limit


def _most_received_first(records: list[dict]) -> list[dict]:
    """A message given back for lack of time (or after a crash) is served first next time."""
    def receives(record: dict) -> int:
        return int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)

    return sorted(records, key=receives, reverse=True)


def _handle_sqs_record(record, clock: Invocation) -> None:
    """One SQS message (possibly several S3 records); raising marks only it for retry."""
    outcomes = [_handle(object_event, clock) for object_event in parse_sqs_body(record.body)]
    retry = [o for o in outcomes if o.retryable]
    if retry:
        raise TransientError(f"{retry[0].key}: {retry[0].message}")


def _answer_batch_operations(invocation: BatchInvocation, clock: Invocation) -> dict:
    """Every task answered in Batch Operations' result format, none left to
    `treatMissingKeysAs`; a task not started for lack of time is a TemporaryFailure."""
    results = []
    for task in invocation.tasks:
        if task.event is None:
            code, text = "PermanentFailure", task.problem
        else:
            try:
                code, text = batch_result(_handle(task.event, clock))
            except ImgprocError as exc:  # no pipeline for this bucket (configuration, AWS)
                code = "TemporaryFailure" if exc.retryable else "PermanentFailure"
                text = str(exc)
        results.append(S3BatchOperationResponseRecord(task.task_id, code, text).asdict())
    return {"invocationSchemaVersion": invocation.schema_version,
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": invocation.invocation_id,
            "results": results}


def batch_result(outcome: Outcome) -> tuple[str, str]:
    """(resultCode, resultString) of one outcome. PARTIAL is a PermanentFailure: a variant
    could not be made and retrying will not change that, so the report must list it."""
    if outcome.ok:
        return "Succeeded", f"{outcome.status}: {outcome.message}" if outcome.message \
            else str(outcome.status)
    if outcome.retryable:
        return "TemporaryFailure", outcome.message
    return "PermanentFailure", outcome.message


def _handle(object_event: ObjectEvent, clock: Invocation) -> Outcome:
    metrics.add_metric(name="Events", unit=MetricUnit.Count, value=1)
    if object_event.kind == EventKind.TEST:
        logger.info("ignoring s3:TestEvent", extra={"bucket": object_event.bucket})
        return Outcome("", Result.IGNORED, "s3:TestEvent")
    pipeline = pipeline_for(object_event.bucket)
    key = object_event.key
    if not key.startswith(pipeline.config.input_prefix):
        outcome = Outcome(key, Result.IGNORED,
                          f"outside the input prefix {pipeline.config.input_prefix}")
    elif object_event.kind == EventKind.REMOVED:
        outcome = safely(remove_object, pipeline, key)
    elif (limit := clock.limit_for(pipeline)) is None:
        outcome = Outcome(key, Result.RETRY, deferred_message(clock.seconds_left(),
                                                              pipeline.config), "Deferred")
    else:
        hint = EventHint(etag=object_event.etag, version_id=object_event.version_id,
                         sequencer=object_event.sequencer)
        outcome = safely(process_object, pipeline, key, event=hint, force=object_event.force,
                         time_limit=limit)
    _observe(object_event, outcome)
    return outcome


def pipeline_for(bucket: str) -> Pipeline:
    """One pipeline per bucket, built on first use and kept for the container's life."""
    if bucket not in _pipelines:
        _pipelines[bucket] = build_pipeline(PipelineSettings.for_lambda(bucket, os.environ))
    return _pipelines[bucket]


def _observe(object_event: ObjectEvent, outcome: Outcome) -> None:
    """One JSON log line per object, and the metrics operators alarm on."""
    record = outcome.record or {}
    fields = {"key": outcome.key, "bucket": object_event.bucket, "outcome": outcome.status,
              "durationMs": outcome.duration_ms}
    if outcome.message:
        fields["detail"] = outcome.message
    if outcome.error_type:
        fields["errorType"] = outcome.error_type
    (logger.warning if not outcome.ok else logger.info)("object processed", extra=fields)
    metrics.add_metric(name="Objects", unit=MetricUnit.Count, value=1)
    if outcome.status.rendered:
        variants = record.get("processedVariants", [])
        metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds,
                           value=outcome.duration_ms)
        metrics.add_metric(name="BytesIn", unit=MetricUnit.Bytes, value=record.get("size", 0))
        metrics.add_metric(name="BytesOut", unit=MetricUnit.Bytes,
                           value=sum(v["size"] for v in variants))
        metrics.add_metric(name="Variants", unit=MetricUnit.Count, value=len(variants))
    if outcome.status in (Result.FAILED, Result.RETRY):
        name = (telemetry.PERMANENT_FAILURES if outcome.status == Result.FAILED
                else telemetry.TRANSIENT_FAILURES)
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        with single_metric(name="Failures", unit=MetricUnit.Count, value=1,
                           namespace=telemetry.NAMESPACE,
                           default_dimensions=metrics.default_dimensions,
                           ) as failure:  # by type: a dimension of its own metric set
            failure.add_dimension(name="errorType", value=outcome.error_type or "Unknown")


def _is_sqs(event: dict) -> bool:
    records = event.get("Records") or []
    return bool(records) and records[0].get("eventSource") == "aws:sqs"
