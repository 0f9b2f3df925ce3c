"""Every shape of event the Lambda receives, reduced to one `ObjectEvent` list.

S3 notifications (direct or inside SQS bodies), EventBridge "Object Created"/"Object Deleted",
`s3:TestEvent`, a direct `{"bucket", "key"}` invoke, and S3 Batch Operations invocations
(`parse_batch_operations`, answered per task). Keys in S3, EventBridge and Batch Operations
events are form-encoded ('+' is a space) and are decoded here, in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from ..keys import decode_event_key


class EventKind(StrEnum):
    CREATED = "created"
    REMOVED = "removed"
    TEST = "test"  # s3:TestEvent, sent when notifications are configured


@dataclass(frozen=True)
class ObjectEvent:
    kind: EventKind
    bucket: str = ""
    key: str = ""
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    force: bool = False  # `reprocess --remote --force` asks to redo up-to-date originals


def parse_event(event: dict) -> list[ObjectEvent]:
    """A non-SQS Lambda event; raises ValueError for shapes imgproc does not know."""
    if event.get("Event") == "s3:TestEvent":
        return [ObjectEvent(EventKind.TEST, bucket=event.get("Bucket", ""))]
    if "Records" in event:
        return [parse_s3_record(record) for record in event["Records"]]
    if event.get("source") == "aws.s3" and "detail" in event:
        return [parse_eventbridge(event)]
    if isinstance(event.get("bucket"), str) and isinstance(event.get("key"), str):
        return [ObjectEvent(EventKind.CREATED, bucket=event["bucket"], key=event["key"])]
    raise ValueError(f"unrecognised event with fields {sorted(event)[:8]}")


def parse_sqs_body(body: str) -> list[ObjectEvent]:
    """An SQS message body: an S3 notification, a TestEvent, or an EventBridge event."""
    return parse_event(json.loads(body))


def parse_s3_record(record: dict) -> ObjectEvent:
    name = record.get("eventName", "")
    s3 = record["s3"]
    item = s3["object"]
    kind = (EventKind.REMOVED if name.startswith(("ObjectRemoved", "s3:ObjectRemoved"))
            else EventKind.CREATED)
    return ObjectEvent(
        kind,
        bucket=s3["bucket"]["name"],
        key=decode_event_key(item["key"]),
        size=item.get("size"),
        etag=item.get("eTag"),
        version_id=item.get("versionId"),
        sequencer=item.get("sequencer"),
        force=bool((record.get("imgproc") or {}).get("force")),
    )


def parse_eventbridge(event: dict) -> ObjectEvent:
    detail = event["detail"]
    item = detail["object"]
    kind = EventKind.REMOVED if event.get("detail-type") == "Object Deleted" else EventKind.CREATED
    return ObjectEvent(
        kind,
        bucket=detail["bucket"]["name"],
        key=decode_event_key(item["key"]),
        size=item.get("size"),
        etag=item.get("etag"),
        version_id=item.get("version-id"),
        sequencer=item.get("sequencer"),
    )


# --- S3 Batch Operations ----------------------------------------------------------------------

FORCE_ARGUMENT = "force"  # userArguments {"force": "true"}: `reprocess --force` made the job


@dataclass(frozen=True)
class BatchTask:
    """One task of a Batch Operations invocation: its object, or why it has none."""

    task_id: str
    event: ObjectEvent | None = None
    problem: str = ""  # a task imgproc cannot read (its key is not URL-encoded UTF-8)


@dataclass(frozen=True)
class BatchInvocation:
    schema_version: str
    invocation_id: str
    job_id: str
    tasks: list[BatchTask] = field(default_factory=list)


def is_batch_operations(event: dict) -> bool:
    return "invocationSchemaVersion" in event and "tasks" in event


def parse_batch_operations(event: dict) -> BatchInvocation:
    """Schema 1.0 names the bucket by ARN (`s3BucketArn`); 2.0 by name (`s3Bucket`, as in
    AWS's example; `s3BucketName` is accepted too) and adds the job's `userArguments`."""
    job = event.get("job") or {}
    force = str((job.get("userArguments") or {}).get(FORCE_ARGUMENT, "")).lower() == "true"
    return BatchInvocation(
        schema_version=event["invocationSchemaVersion"],
        invocation_id=event["invocationId"],
        job_id=job.get("id", ""),
        tasks=[_batch_task(task, force) for task in event["tasks"]],
    )


def _batch_task(task: dict, force: bool) -> BatchTask:
    arn = task.get("s3BucketArn") or ""
    # "arn:aws:s3:::bucket"; a bucket name never holds ':', so the last field is the name
    bucket = arn.rsplit(":", 1)[-1] if arn else task.get("s3Bucket") or task.get(
        "s3BucketName") or ""
    if not bucket:
        return BatchTask(task["taskId"], problem="The task names no bucket.")
    raw = task.get("s3Key") or ""
    try:
        key = decode_event_key(raw)
    except UnicodeDecodeError:
        return BatchTask(task["taskId"], problem=(
            f"The key {raw!r} is not URL-encoded UTF-8, so it names no object imgproc can read."))
    return BatchTask(task["taskId"], ObjectEvent(EventKind.CREATED, bucket=bucket, key=key,
                                                 version_id=task.get("s3VersionId"),
                                                 force=force))
