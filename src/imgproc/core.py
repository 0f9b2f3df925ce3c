"""`process_object`: one original in, its variants and records out, whoever calls.

The Lambda handler and every CLI command call this. It decides what a failure means: a bad
picture is recorded (FAILED, with an `error#` record) and not retried; a store that is
throttled or unreachable raises `TransientError` and nothing is recorded against the picture.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import records as rec
from .config import Config
from .errors import BadImage, BadKey, ImgprocError, StaleWrite
from .keys import (
    check_key,
    error_id,
    is_candidate,
    is_output,
    is_storable_key,
    manifest_key,
    metadata_value,
    output_prefix_of,
    placeholder_id,
    variant_key,
)
from .manifest import CONTENT_TYPE as MANIFEST_CONTENT_TYPE
from .manifest import MANIFEST_CACHE_CONTROL, manifest_bytes
from .outcome import COMPLETE, DELETED, FAILED, IGNORED, PARTIAL, RETRY, SKIPPED, Outcome
from .render import Rendition, render
from .render.limits import check_bytes
from .stores.base import ObjectInfo, ObjectStore, RecordStore

CACHE_FOREVER = "public, max-age=31536000, immutable"
MAX_RACE_ATTEMPTS = 3


@dataclass(frozen=True)
class EventHint:
    """What an event said about the object; used only where it matches what was read."""

    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    size: int | None = None


@dataclass
class Pipeline:
    """The stores and settings `process_object` works with.

    `originals` and `outputs` are the same bucket in production; `imgproc process` reads local
    files and writes to an output directory.
    """

    originals: ObjectStore
    outputs: ObjectStore
    records: RecordStore
    config: Config = field(default_factory=Config)
    url_for: Callable[[str, str], str | None] = lambda key, etag: None
    # Called after new variants replaced an earlier version's (CDN invalidation).
    on_replaced: Callable[[str], None] | None = None


def process_object(
    pipeline: Pipeline, key: str, *, event: EventHint | None = None, force: bool = False
) -> Outcome:
    """Render `key` unless it is up to date; raise TransientError when it should be retried."""
    started = time.monotonic()
    if is_output(key, pipeline.config):
        return Outcome(key, IGNORED, "under the output prefix; outputs are never processed")
    if not is_candidate(key):
        return Outcome(key, IGNORED, "not an image file name (see the accepted extensions)")
    for _attempt in range(MAX_RACE_ATTEMPTS):
        outcome = _attempt_once(pipeline, key, event, force, started)
        if outcome is not None:
            return outcome
        # The original changed (re-uploaded or deleted) while we rendered it, or a newer
        # version won the record: our outputs may be stale, so redo with what is there now.
        force, event = True, None
    raise StaleWrite(f"{key} kept changing while it was processed; try again.")


def process_safely(pipeline: Pipeline, key: str, **options) -> Outcome:
    """`process_object` with transient and unexpected failures as a RETRY outcome."""
    return safely(process_object, pipeline, key, **options)


def safely(action: Callable[..., Outcome], pipeline: Pipeline, key: str, **options) -> Outcome:
    """Run `process_object` or `remove_object`; failures become outcomes, never exceptions."""
    started = time.monotonic()
    try:
        return action(pipeline, key, **options)
    except ImgprocError as exc:
        status = RETRY if exc.retryable else FAILED
        return Outcome(key, status, str(exc), exc.error_type, duration_ms=_ms(started))
    except Exception as exc:  # a bug or an unwrapped client error: retrying is the safe side
        return Outcome(key, RETRY, f"{type(exc).__name__}: {exc}", type(exc).__name__,
                       duration_ms=_ms(started))


def _attempt_once(
    pipeline: Pipeline, key: str, event: EventHint | None, force: bool, started: float
) -> Outcome | None:
    """One try; None means the world changed under us and the caller should try again."""
    config, records = pipeline.config, pipeline.records
    try:
        check_key(key)
        info = pipeline.originals.head(key)
    except BadImage as exc:
        return _record_failure(pipeline, key, None, exc, started)
    if info is None:  # deleted, or a late duplicate after the delete: resurrect nothing
        removed = _remove_outputs(pipeline, key)  # and leave nothing a racing run wrote
        note = f"; removed {removed} leftover object(s)" if removed else ""
        return Outcome(key, IGNORED, f"the original does not exist (deleted?){note}",
                       duration_ms=_ms(started))
    existing = records.get(key)
    if not force and rec.is_settled(existing, info.etag, config.config_hash):
        reason = "up to date" if existing["status"] == COMPLETE else (
            "already failed for this version (retry with --failed or --force)")
        return Outcome(key, SKIPPED, reason, record=existing, duration_ms=_ms(started))
    try:
        check_bytes(info.size, config.max_image_size)  # before downloading a byte
        original = pipeline.originals.get(key)
        if original is None:
            return Outcome(key, IGNORED, "the original was deleted while being processed",
                           duration_ms=_ms(started))
        info = original.info
        rendition = render(original.data, config)
    except BadImage as exc:
        return _record_failure(pipeline, key, info, exc, started, event)
    source = rec.source_of(pipeline.originals.name, info, _matching_sequencer(info, event))
    source = _same_version_order(source, existing)
    if existing and rec.source_order(existing.get("source", {})) > rec.source_order(source):
        return Outcome(key, SKIPPED, "a newer version is already recorded", record=existing,
                       duration_ms=_ms(started))
    if not rendition.variants:
        failure = BadImage("No variant could be made: " + "; ".join(rendition.failures.values()))
        return _record_failure(pipeline, key, info, failure, started, event)
    processed_at = rec.now_iso()
    variants = _publish(pipeline, key, info, rendition, processed_at)
    if pipeline.on_replaced and _replaces_published(existing, info):
        pipeline.on_replaced(key)  # before the record: a failure here retries everything
    record = rec.image_record(
        key=key,
        status=PARTIAL if rendition.failures else COMPLETE,
        source=source,
        size=info.size,
        rendition=rendition,
        variants=variants,
        config_hash=config.config_hash,
        duration_ms=_ms(started),
        processed_at=processed_at,
    )
    _publish_manifest(pipeline, key, record)  # before the record: a failed put retries all
    # Published outputs and the record must describe the bytes that are there: a re-upload
    # or delete during the render (or right after the record) means redo from the start.
    if not _still_current(pipeline, key, info) or not records.put_unless_newer(record) \
            or not _still_current(pipeline, key, info):
        return None
    records.put(rec.placeholder_record(key, rendition.placeholder, processed_at))
    records.delete([error_id(key)])
    message = "; ".join(f"{n}: {e}" for n, e in rendition.failures.items())
    return Outcome(key, record["status"], message, record=record, duration_ms=_ms(started))


def remove_object(pipeline: Pipeline, key: str) -> Outcome:
    """An original was deleted: delete its variants and records, unless it is back already.

    A delete event can arrive after a re-upload of the same key (events are not ordered);
    the original's presence now is what counts.
    """
    started = time.monotonic()
    if is_output(key, pipeline.config):
        return Outcome(key, IGNORED, "under the output prefix; outputs are never processed")
    if pipeline.originals.head(key) is not None:
        return Outcome(key, IGNORED, "the original exists again; nothing deleted",
                       duration_ms=_ms(started))
    had_record = pipeline.records.get(key) is not None
    removed = _remove_outputs(pipeline, key)
    return Outcome(key, DELETED, f"deleted {removed} object(s)"
                   + (" and the records" if had_record else ""), duration_ms=_ms(started))


def _remove_outputs(pipeline: Pipeline, key: str) -> int:
    """Delete an original's variants, manifest and records; how many objects went."""
    prefix = output_prefix_of(key, pipeline.config)
    outputs = [info.key for info in pipeline.outputs.list(prefix)]
    pipeline.outputs.delete(outputs)
    pipeline.records.delete([key, placeholder_id(key), error_id(key)])
    if outputs and pipeline.on_replaced:
        pipeline.on_replaced(key)
    return len(outputs)


def _still_current(pipeline: Pipeline, key: str, info: ObjectInfo) -> bool:
    """Is the original still exactly the bytes we read (same etag and version)?"""
    current = pipeline.originals.head(key)
    return current is not None and current.etag == info.etag and (
        not current.version_id or not info.version_id or current.version_id == info.version_id)


def _same_version_order(source: dict, existing: dict | None) -> dict:
    """Bytes already recorded (same etag) keep that record's sequencer: they are the same
    version, so a retry without the event must not sort below the event that wrote it."""
    recorded = (existing or {}).get("source", {})
    if recorded.get("etag") == source["etag"] and recorded.get("sequencer") \
            and not source.get("sequencer"):
        return {**source, "sequencer": recorded["sequencer"]}
    return source


def _replaces_published(existing: dict | None, info: ObjectInfo) -> bool:
    return bool(existing and existing.get("processedVariants")
                and existing.get("source", {}).get("etag") != info.etag)


def _publish(
    pipeline: Pipeline, key: str, info: ObjectInfo, rendition: Rendition, processed_at: str
) -> list[dict]:
    """Upload every rendered variant with the contract's headers; a failed put raises."""
    published = []
    for variant in rendition.variants:
        spec = pipeline.config.variant(variant.name)
        object_key = variant_key(key, spec, pipeline.config)
        pipeline.outputs.put(
            object_key,
            variant.data,
            content_type=variant.content_type,
            cache_control=CACHE_FOREVER,
            metadata={
                "original-key": metadata_value(key),
                "variant": variant.name,
                "processed-at": processed_at,
            },
        )
        entry = {
            "name": variant.name,
            "key": object_key,
            "width": variant.width,
            "height": variant.height,
            "format": variant.format,
            "contentType": variant.content_type,
            "size": len(variant.data),
        }
        url = pipeline.url_for(object_key, info.etag)
        if url:
            entry["url"] = url
        published.append(entry)
    return published


def _publish_manifest(pipeline: Pipeline, key: str, record: dict) -> None:
    """What browsers poll: rewritten on every outcome, FAILED included, cached for seconds.

    A key no store can hold (a path escape, control characters) gets no manifest; its
    failure is still recorded.
    """
    if not is_storable_key(key):
        return
    try:
        pipeline.outputs.put(
            manifest_key(key, pipeline.config),
            manifest_bytes(record),
            content_type=MANIFEST_CONTENT_TYPE,
            cache_control=MANIFEST_CACHE_CONTROL,
            metadata={"original-key": metadata_value(key),
                      "processed-at": record["processedAt"]},
        )
    except BadKey:
        return


def _record_failure(
    pipeline: Pipeline,
    key: str,
    info: ObjectInfo | None,
    error: BadImage,
    started: float,
    event: EventHint | None = None,
) -> Outcome | None:
    """A bad picture: FAILED record plus `error#` record; older than the record? nothing.

    None (try again) when the original changed while it was read: the failure may belong to
    bytes that are no longer there.
    """
    records = pipeline.records
    bucket = pipeline.originals.name
    existing = records.get(key)
    source = (
        rec.source_of(bucket, info, _matching_sequencer(info, event)) if info else {
            "bucket": bucket, "etag": None, "lastModified": rec.now_iso()}
    )
    source = _same_version_order(source, existing) if info else source
    timestamp = rec.now_iso()
    record = rec.failed_record(
        key=key,
        existing=existing,
        source=source,
        size=info.size if info else 0,
        error=error,
        config_hash=pipeline.config.config_hash,
        duration_ms=_ms(started),
        processed_at=timestamp,
    )
    if info is not None and not _still_current(pipeline, key, info):
        return None
    _publish_manifest(pipeline, key, record)
    written = records.put_unless_newer(record)
    if info is not None and not _still_current(pipeline, key, info):
        return None
    if not written:
        newer = records.get(key)
        if newer is not None:  # put back the manifest of the version that won
            _publish_manifest(pipeline, key, newer)
        return Outcome(key, SKIPPED, "a newer version is already recorded",
                       duration_ms=_ms(started))
    records.add_error(
        rec.error_record(key=key, bucket=bucket, error=error, etag=source.get("etag"),
                         timestamp=timestamp)
    )
    return Outcome(key, FAILED, str(error), error.error_type, record=record,
                   duration_ms=_ms(started))


def _matching_sequencer(info: ObjectInfo, event: EventHint | None) -> str | None:
    """The event's sequencer describes the event's version: keep it only for those bytes."""
    if event is None or not event.sequencer:
        return None
    if event.version_id and info.version_id and event.version_id != info.version_id:
        return None
    if event.etag and event.etag.strip('"') != info.etag:
        return None
    return event.sequencer


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


__all__ = ["EventHint", "Pipeline", "process_object", "process_safely", "remove_object", "safely"]
