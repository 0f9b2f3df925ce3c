"""The records of the contract, typed and built in one place from what was read and rendered.

Field names are the contract's: the same dicts go to SQLite, DynamoDB and `--json` output.
No I/O here. Stores hand back plain dicts; the string enums compare equal to what they read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from .focal import FocalPoint
from .keys import error_id, placeholder_id

if TYPE_CHECKING:
    from .render import Rendition
    from .stores.base import ObjectInfo

TRIGGERS_ID = "config#triggers"


class Status(StrEnum):
    """An image record's `status`."""

    COMPLETE = "COMPLETE"  # every variant made
    PARTIAL = "PARTIAL"  # some variants made; `variantErrors` says which failed and why
    FAILED = "FAILED"  # none: `error` says why, and an `error#` record is kept


class RecordType(StrEnum):
    """A record's `type`: one table holds them all."""

    IMAGE = "IMAGE_METADATA"
    PLACEHOLDER = "BLUR_PLACEHOLDER"
    ERROR = "PROCESSING_ERROR"
    TRIGGERS = "TRIGGERS"


_DONE = frozenset(Status)  # a record in any status is a finished attempt
_SETTLED = frozenset({Status.COMPLETE, Status.FAILED})


class Source(TypedDict):
    """Which bytes a record describes."""

    bucket: str
    etag: str | None
    lastModified: str
    versionId: NotRequired[str]
    sequencer: NotRequired[str]


class VariantEntry(TypedDict):
    name: str
    key: str
    width: int
    height: int
    format: str
    contentType: str
    size: int
    url: NotRequired[str]


class VariantError(TypedDict):
    name: str
    error: str


class WithheldVariant(TypedDict):
    """A variant made but not published: not smaller than its keep_if_smaller_than sibling."""

    name: str
    reason: str


class ImageRecord(TypedDict):
    id: str
    type: str
    status: str
    originalDimensions: dict[str, int] | None
    format: str | None
    size: int
    source: Source
    sourceOrder: str
    processedVariants: list[VariantEntry]
    placeholder: str | None
    configHash: str
    processedAt: str
    durationMs: int
    exif: dict[str, Any] | None
    thumbhash: str | None
    dominantColor: str | None
    focalPoint: dict[str, float] | None  # {x, y}, 0-1 of the displayed picture
    focalOverride: NotRequired[dict[str, float]]  # set by `imgproc focus`; kept across renders
    variantErrors: NotRequired[list[VariantError]]
    withheldVariants: NotRequired[list[WithheldVariant]]
    error: NotRequired[str]
    errorType: NotRequired[str]


class PlaceholderRecord(TypedDict):
    id: str
    type: str
    data: str
    createdAt: str


class ErrorRecord(TypedDict):
    id: str
    type: str
    bucket: str
    key: str
    error: str
    errorType: str
    etag: str | None
    timestamp: str
    retryCount: NotRequired[int]  # added by the store, which increments it atomically


class TriggersRecord(TypedDict):
    id: str
    type: str
    bucket: str
    configuration: dict[str, Any]
    savedAt: str
    previous: NotRequired[dict[str, Any]]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def source_of(bucket: str, info: ObjectInfo, sequencer: str | None) -> Source:
    """Identity of exactly the bytes that were read: never another version's etag."""
    source: Source = {"bucket": bucket, "etag": info.etag, "lastModified": info.last_modified}
    if info.version_id:
        source["versionId"] = info.version_id
    if sequencer:
        source["sequencer"] = sequencer
    return source


def unread_source(bucket: str) -> Source:
    """For a failure before any byte was read (a key no store can hold)."""
    return {"bucket": bucket, "etag": None, "lastModified": now_iso()}


def source_order(source: Source | dict) -> str:
    """A text that sorts like upload order: modification time, then S3's event sequencer.

    S3 sequencers are hex strings comparable only at equal length, so they are left-padded.
    A record whose order sorts lower than the stored one is an older version: never written.
    """
    sequencer = (source.get("sequencer") or "").upper().rjust(32, "0")
    return f"{source.get('lastModified', '')}|{sequencer if source.get('sequencer') else ''}"


def is_done(record: dict | None) -> bool:
    """A finished attempt (what `status --wait` waits for)."""
    return record is not None and record.get("status") in _DONE


def is_settled(record: dict | None, etag: str, config_hash: str) -> bool:
    """Nothing new would come of processing again: COMPLETE, or FAILED for the same bytes."""
    return bool(
        record
        and record.get("status") in _SETTLED
        and record.get("configHash") == config_hash
        and record.get("source", {}).get("etag") == etag
    )


def variant_entry(*, name: str, key: str, width: int, height: int, format: str,
                  content_type: str, size: int, url: str | None) -> VariantEntry:
    entry: VariantEntry = {"name": name, "key": key, "width": width, "height": height,
                           "format": format, "contentType": content_type, "size": size}
    if url:
        entry["url"] = url
    return entry


def image_record(
    *,
    key: str,
    source: Source,
    size: int,
    rendition: Rendition,
    variants: list[VariantEntry],
    config_hash: str,
    duration_ms: int,
    processed_at: str,
    focal_override: FocalPoint | None = None,
) -> ImageRecord:
    """A rendered original: PARTIAL when some variants failed, else COMPLETE (a withheld
    variant is not a failure)."""
    record: ImageRecord = {
        "id": key,
        "type": RecordType.IMAGE,
        "status": Status.PARTIAL if rendition.failures else Status.COMPLETE,
        "originalDimensions": {"width": rendition.width, "height": rendition.height},
        "format": rendition.format,
        "size": size,
        "source": source,
        "sourceOrder": source_order(source),
        "processedVariants": variants,
        "placeholder": rendition.placeholder,
        "configHash": config_hash,
        "processedAt": processed_at,
        "durationMs": duration_ms,
        "exif": rendition.exif,
        "thumbhash": rendition.thumbhash,
        "dominantColor": rendition.dominant_color,
        "focalPoint": rendition.focal_point.to_json(),
    }
    if focal_override is not None:
        record["focalOverride"] = focal_override.to_json()
    if rendition.failures:
        record["variantErrors"] = [
            {"name": name, "error": error} for name, error in rendition.failures.items()
        ]
    if rendition.withheld:
        record["withheldVariants"] = [
            {"name": name, "reason": reason} for name, reason in rendition.withheld.items()
        ]
    return record


def failed_record(
    *,
    key: str,
    existing: dict | None,
    source: Source,
    size: int,
    error,
    config_hash: str,
    duration_ms: int,
    processed_at: str,
) -> ImageRecord:
    """A permanent failure: the record (new or existing) says FAILED and why.

    Variants published for an earlier version stay listed: they are still served.
    """
    base = {
        "originalDimensions": None,
        "format": None,
        "processedVariants": [],
        "placeholder": None,
        "exif": None,
        "thumbhash": None,
        "dominantColor": None,
        "focalPoint": None,
    }
    return {
        **base,
        **(existing or {}),
        "id": key,
        "type": RecordType.IMAGE,
        "status": Status.FAILED,
        "size": size,
        "source": source,
        "sourceOrder": source_order(source),
        "configHash": config_hash,
        "processedAt": processed_at,
        "durationMs": duration_ms,
        "error": str(error),
        "errorType": error.error_type,
    }


def focal_override_of(record: dict | None) -> FocalPoint | None:
    """The focal point `imgproc focus` set for this original, if any."""
    return FocalPoint.from_json((record or {}).get("focalOverride"))


def placeholder_record(key: str, data_url: str, created_at: str) -> PlaceholderRecord:
    return {"id": placeholder_id(key), "type": RecordType.PLACEHOLDER, "data": data_url,
            "createdAt": created_at}


def error_record(*, key: str, bucket: str, error, etag: str | None,
                 timestamp: str) -> ErrorRecord:
    """`retryCount` is added by the store, which increments it atomically."""
    return {
        "id": error_id(key),
        "type": RecordType.ERROR,
        "bucket": bucket,
        "key": key,
        "error": str(error),
        "errorType": error.error_type,
        "etag": etag,
        "timestamp": timestamp,
    }


def triggers_record(bucket: str, configuration: dict, saved: dict | None) -> TriggersRecord:
    """A bucket's whole notification configuration, kept by `triggers disable`.

    Notifications re-added since an earlier disable keep that older copy as `previous`.
    """
    record: TriggersRecord = {"id": TRIGGERS_ID, "type": RecordType.TRIGGERS, "bucket": bucket,
                              "configuration": configuration, "savedAt": now_iso()}
    if saved:
        record["previous"] = {k: saved.get(k) for k in ("bucket", "configuration", "savedAt")}
    return record
