"""The records of PRODUCT.md, built from what was read and rendered (no I/O here).

Field names are the contract's: the same dicts go to SQLite, DynamoDB and `--json` output.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .keys import error_id, placeholder_id
from .stores.base import ObjectInfo

IMAGE = "IMAGE_METADATA"
PLACEHOLDER = "BLUR_PLACEHOLDER"
ERROR = "PROCESSING_ERROR"
TRIGGERS_ID = "config#triggers"

COMPLETE, PARTIAL, FAILED = "COMPLETE", "PARTIAL", "FAILED"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def source_of(bucket: str, info: ObjectInfo, sequencer: str | None) -> dict:
    """Identity of exactly the bytes that were read: never another version's etag."""
    source = {"bucket": bucket, "etag": info.etag, "lastModified": info.last_modified}
    if info.version_id:
        source["versionId"] = info.version_id
    if sequencer:
        source["sequencer"] = sequencer
    return source


def source_order(source: dict) -> str:
    """A text that sorts like upload order: modification time, then S3's event sequencer.

    S3 sequencers are hex strings comparable only at equal length, so they are left-padded.
    A record whose order sorts lower than the stored one is an older version: never written.
    """
    sequencer = (source.get("sequencer") or "").upper().rjust(32, "0")
    return f"{source.get('lastModified', '')}|{sequencer if source.get('sequencer') else ''}"


def is_settled(record: dict | None, etag: str, config_hash: str) -> bool:
    """Nothing new would come of processing again: COMPLETE, or FAILED for the same bytes."""
    return bool(
        record
        and record.get("status") in (COMPLETE, FAILED)
        and record.get("configHash") == config_hash
        and record.get("source", {}).get("etag") == etag
    )


def image_record(
    *,
    key: str,
    status: str,
    source: dict,
    size: int,
    rendition,
    variants: list[dict],
    config_hash: str,
    duration_ms: int,
    processed_at: str,
) -> dict:
    record = {
        "id": key,
        "type": IMAGE,
        "status": status,
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
    }
    if rendition.failures:
        record["variantErrors"] = [
            {"name": name, "error": error} for name, error in rendition.failures.items()
        ]
    return record


def failed_record(
    *,
    key: str,
    existing: dict | None,
    source: dict,
    size: int,
    error,
    config_hash: str,
    duration_ms: int,
    processed_at: str,
) -> dict:
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
    }
    return {
        **base,
        **(existing or {}),
        "id": key,
        "type": IMAGE,
        "status": FAILED,
        "size": size,
        "source": source,
        "sourceOrder": source_order(source),
        "configHash": config_hash,
        "processedAt": processed_at,
        "durationMs": duration_ms,
        "error": str(error),
        "errorType": error.error_type,
    }


def placeholder_record(key: str, data_url: str, created_at: str) -> dict:
    return {"id": placeholder_id(key), "type": PLACEHOLDER, "data": data_url,
            "createdAt": created_at}


def error_record(*, key: str, bucket: str, error, etag: str | None, timestamp: str) -> dict:
    """`retryCount` is added by the store, which increments it atomically."""
    return {
        "id": error_id(key),
        "type": ERROR,
        "bucket": bucket,
        "key": key,
        "error": str(error),
        "errorType": error.error_type,
        "etag": etag,
        "timestamp": timestamp,
    }
