"""Every shape of event the Lambda receives, reduced to one `ObjectEvent` list.

S3 notifications (direct or inside SQS bodies), EventBridge "Object Created"/"Object Deleted",
`s3:TestEvent` and a direct `{"bucket", "key"}` invoke. Keys in S3 and EventBridge events are
form-encoded ('+' is a space) and are decoded here, in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
