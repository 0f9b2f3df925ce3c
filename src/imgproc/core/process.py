"""`process_object`: one original in, its variants and records out, whoever calls.

It decides what a failure means: a bad picture is recorded (FAILED, with an `error#` record)
and not retried; a store that is throttled or unreachable raises `TransientError` and nothing
is recorded against the picture. One attempt runs in phases: read, render, publish, commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import records as rec
from ..config import Fit
from ..errors import BadImage, BadKey, StaleWrite, UnsupportedFormat
from ..focal import FocalPoint
from ..keys import (
    check_key,
    check_output_keys,
    error_id,
    is_candidate,
    is_output,
    is_storable_key,
    manifest_key,
    metadata_value,
    output_keys,
    variant_key,
)
from ..outcome import Outcome, Result
from ..render import Rendition
from ..render.limits import check_bytes
from ..render.sniff import name_unread_format
from ..stores.base import ObjectInfo, StoredObject
from ..web.manifest import MANIFEST_CACHE_CONTROL, MANIFEST_CONTENT_TYPE, manifest_bytes
from .pipeline import EventHint, Pipeline, Stopwatch, TimeLimit
from .remove import remove_outputs

CACHE_FOREVER = "public, max-age=31536000, immutable"
MAX_RACE_ATTEMPTS = 3


class Stale(Exception):
    """The original changed (re-uploaded or deleted) while we worked on it: start again."""


@dataclass(frozen=True)
class Refocus:
    """`imgproc focus`: the focal point to set for an original (None: drop the one set)."""

    point: FocalPoint | None


@dataclass(frozen=True)
class Job:
    """One attempt at one original."""

    pipeline: Pipeline
    key: str
    event: EventHint | None
    force: bool
    clock: Stopwatch
    time_limit: TimeLimit | None = None
    refocus: Refocus | None = None

    def focus_for(self, existing: dict | None, etag: str) -> FocalPoint | None:
        """The focal point set for these bytes: asked for now, else kept from the record
        (a re-upload is a new picture: an override set for the old one does not apply)."""
        if self.refocus is not None:
            return self.refocus.point
        if (existing or {}).get("source", {}).get("etag") != etag:
            return None
        return rec.focal_override_of(existing)

    def outcome(self, result: Result, message: str = "", **fields) -> Outcome:
        return Outcome(self.key, result, message, duration_ms=self.clock.ms(), **fields)


def process_object(
    pipeline: Pipeline, key: str, *, event: EventHint | None = None, force: bool = False,
    time_limit: TimeLimit | None = None, refocus: Refocus | None = None,
) -> Outcome:
    """Render `key` unless it is up to date; raise TransientError when it should be retried.

    `time_limit`: less than the config's budget when the caller has less time left.
    `refocus`: set (or drop) the original's focal point and render again."""
    clock = Stopwatch()
    if is_output(key, pipeline.config):
        return Outcome(key, Result.IGNORED, "under the output prefix; outputs are never processed")
    if not is_candidate(key):
        return Outcome(key, Result.IGNORED,
                       "not an image file name (see the accepted extensions)")
    for _attempt in range(MAX_RACE_ATTEMPTS):
        try:
            return _attempt_once(Job(pipeline, key, event, force or refocus is not None, clock,
                                     time_limit, refocus))
        except Stale:
            # Our outputs may describe bytes that are gone: redo with what is there now.
            force, event = True, None
    raise StaleWrite(f"{key} kept changing while it was processed; try again.")


def _attempt_once(job: Job) -> Outcome:
    pipeline, key, config = job.pipeline, job.key, job.pipeline.config
    try:
        check_key(key)
        check_output_keys(key, config)
        for output_key in output_keys(key, config):
            pipeline.outputs.check_key(output_key)
        info = pipeline.originals.head(key)
    except BadImage as exc:
        return _fail(job, None, exc)
    if info is None:  # deleted, or a late duplicate after the delete: resurrect nothing
        removed = remove_outputs(pipeline, key)  # and leave nothing a racing run wrote
        note = f"; removed {removed} leftover object(s)" if removed else ""
        return job.outcome(Result.IGNORED, f"the original does not exist (deleted?){note}")
    existing = pipeline.records.get(key)
    if not job.force and rec.is_settled(existing, info.etag, config.config_hash):
        reason = "up to date" if existing["status"] == rec.Status.COMPLETE else (
            "already failed for this version (retry with --failed or --force)")
        return job.outcome(Result.SKIPPED, reason, record=existing)
    try:
        original = _read(pipeline, key, info)
        if original is None:
            return job.outcome(Result.IGNORED, "the original was deleted while being processed")
        info = original.info
        focus = job.focus_for(existing, info.etag)
        kept = _kept_for_refocus(job, existing, info.etag)
        only = replace(config, variants=_covers(config)) if kept is not None else config
        rendition = pipeline.renderer(original.data, only, job.time_limit, focus)
    except UnsupportedFormat as exc:
        return _fail(job, info, name_unread_format(key, exc))
    except BadImage as exc:
        return _fail(job, info, exc)
    source = _source(job, info, existing)
    if existing and rec.source_order(existing.get("source", {})) > rec.source_order(source):
        return job.outcome(Result.SKIPPED, "a newer version is already recorded", record=existing)
    if not rendition.variants:
        failures = "; ".join(rendition.failures.values())
        return _fail(job, info, BadImage(f"No variant could be made: {failures}"))
    if kept is not None:
        rendition = _keep_published(rendition, existing)
    return _publish(job, info, source, existing, rendition, focus, kept or [])


# --- refocus: only the crops change --------------------------------------------------------


def _kept_for_refocus(job: Job, existing: dict | None,
                      etag: str) -> list[rec.VariantEntry] | None:
    """For `imgproc focus` on an up-to-date record: its variants that are not crops, which
    stay as published (only cover variants move with the focal point). None: render all."""
    config = job.pipeline.config
    if job.refocus is None or not _covers(config) or existing is None \
            or existing.get("status") != rec.Status.COMPLETE \
            or not rec.is_settled(existing, etag, config.config_hash):
        return None
    covers = {v.name for v in _covers(config)}
    return [v for v in existing.get("processedVariants", []) if v["name"] not in covers]


def _covers(config) -> tuple:
    return tuple(v for v in config.variants if v.fit == Fit.COVER)


def _keep_published(rendition: Rendition, existing: dict) -> Rendition:
    """The placeholders come from the whole picture, which did not change; so do the
    whole-picture variants withheld last time (their siblings were not rendered again)."""
    withheld = {w["name"]: w["reason"] for w in existing.get("withheldVariants", [])}
    return replace(rendition, placeholder=existing["placeholder"],
                   thumbhash=existing["thumbhash"], dominant_color=existing["dominantColor"],
                   withheld={**withheld, **rendition.withheld})


# --- read -----------------------------------------------------------------------------------


def _read(pipeline: Pipeline, key: str, info: ObjectInfo) -> StoredObject | None:
    """The original's bytes, refused on its size before a byte is downloaded."""
    check_bytes(info.size, pipeline.config.max_image_size)
    return pipeline.originals.get(key, etag=info.etag, max_bytes=pipeline.config.max_image_size)


def _source(job: Job, info: ObjectInfo, existing: dict | None) -> rec.Source:
    """Which bytes the record describes, ordered among the versions of the key.

    Bytes already recorded (same etag) keep that record's sequencer: they are the same
    version, so a retry without the event must not sort below the event that wrote it.
    """
    source = rec.source_of(job.pipeline.originals.name, info, _matching_sequencer(info, job.event))
    recorded = (existing or {}).get("source", {})
    if recorded.get("etag") == source["etag"] and recorded.get("sequencer") \
            and not source.get("sequencer"):
        return {**source, "sequencer": recorded["sequencer"]}
    return source


def _matching_sequencer(info: ObjectInfo, event: EventHint | None) -> str | None:
    """The event's sequencer describes the event's version: keep it only for those bytes."""
    if event is None or not event.sequencer:
        return None
    if event.version_id and info.version_id and event.version_id != info.version_id:
        return None
    if event.etag and event.etag.strip('"') != info.etag:
        return None
    return event.sequencer


# --- publish --------------------------------------------------------------------------------


def _publish(job: Job, info: ObjectInfo, source: rec.Source, existing: dict | None,
             rendition: Rendition, focus: FocalPoint | None,
             kept: list[rec.VariantEntry]) -> Outcome:
    """Variants first, then (if they replaced an older version's) the CDN, then the record.
    `kept`: variants already published for these bytes that were not rendered again."""
    pipeline, key = job.pipeline, job.key
    processed_at = rec.now_iso()
    variants = _publish_variants(pipeline, key, info, rendition, processed_at, focus)
    if kept:
        order = [v.name for v in pipeline.config.variants]
        variants = sorted(kept + variants, key=lambda v: order.index(v["name"]))
    if pipeline.on_replaced and _replaces_published(existing, info):
        pipeline.on_replaced(key)  # before the record: a failure here retries everything
    record = rec.image_record(
        key=key,
        source=source,
        size=info.size,
        rendition=rendition,
        variants=variants,
        config_hash=pipeline.config.config_hash,
        duration_ms=job.clock.ms(),
        processed_at=processed_at,
        focal_override=focus,
    )
    if not _commit(job, info, record):
        return job.outcome(Result.SKIPPED, "a newer version is already recorded")
    _drop_withheld(pipeline, key, rendition)
    pipeline.records.put(rec.placeholder_record(key, rendition.placeholder, processed_at))
    pipeline.records.delete([error_id(key)])
    message = "; ".join(f"{n}: {e}" for n, e in rendition.failures.items())
    return job.outcome(Result(record["status"]), message, record=record)


def _publish_variants(pipeline: Pipeline, key: str, info: ObjectInfo, rendition: Rendition,
                      processed_at: str, focus: FocalPoint | None) -> list[rec.VariantEntry]:
    """Upload every rendered variant with the contract's headers; a failed put raises.

    A crop centred on a focal point set for the picture gets its own URL version: its pixels
    changed while the original's etag did not, and CDNs and browsers keep variants a year.
    """
    published = []
    for variant in rendition.variants:
        spec = pipeline.config.variant(variant.name)
        object_key = variant_key(key, spec, pipeline.config)
        version = info.etag if focus is None or spec.fit != Fit.COVER \
            else f"{info.etag}-{focus.token}"
        pipeline.outputs.put(
            object_key,
            variant.data,
            content_type=variant.content_type,
            cache_control=CACHE_FOREVER,
            metadata={"original-key": metadata_value(key), "variant": variant.name,
                      "processed-at": processed_at},
        )
        published.append(rec.variant_entry(
            name=variant.name, key=object_key, width=variant.width, height=variant.height,
            format=variant.format, content_type=variant.content_type, size=len(variant.data),
            url=pipeline.url_for(object_key, version),
        ))
    return published


def _drop_withheld(pipeline: Pipeline, key: str, rendition: Rendition) -> None:
    """A withheld variant's file from an earlier render goes, after the record stops listing
    it: the record and the folder then agree, and `verify` finds no orphan."""
    config = pipeline.config
    pipeline.outputs.delete([variant_key(key, config.variant(name), config)
                             for name in rendition.withheld])


def _replaces_published(existing: dict | None, info: ObjectInfo) -> bool:
    return bool(existing and existing.get("processedVariants")
                and existing.get("source", {}).get("etag") != info.etag)


def _publish_manifest(pipeline: Pipeline, key: str, record: dict) -> None:
    """What browsers poll: rewritten on every outcome, FAILED included, cached for seconds.

    A key no store can hold (a path escape, control characters) gets no manifest; its
    failure is still recorded.
    """
    if not is_storable_key(key) or not is_storable_key(manifest_key(key, pipeline.config)):
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


# --- fail -----------------------------------------------------------------------------------


def _fail(job: Job, info: ObjectInfo | None, error: BadImage) -> Outcome:
    """A bad picture: a FAILED record plus an `error#` record, unless a newer version won."""
    pipeline, key = job.pipeline, job.key
    bucket = pipeline.originals.name
    existing = pipeline.records.get(key)
    source = _source(job, info, existing) if info else rec.unread_source(bucket)
    record = rec.failed_record(
        key=key,
        existing=existing,
        source=source,
        size=info.size if info else 0,
        error=error,
        config_hash=pipeline.config.config_hash,
        duration_ms=job.clock.ms(),
        processed_at=rec.now_iso(),
    )
    if not _commit(job, info, record):
        return job.outcome(Result.SKIPPED, "a newer version is already recorded")
    pipeline.records.add_error(rec.error_record(
        key=key, bucket=bucket, error=error, etag=source.get("etag"),
        timestamp=record["processedAt"]))
    return job.outcome(Result.FAILED, str(error), error_type=error.error_type, record=record)


# --- commit ---------------------------------------------------------------------------------


def _commit(job: Job, info: ObjectInfo | None, record: rec.ImageRecord) -> bool:
    """Manifest, then record, for success and failure alike; False if a newer version won.

    The record must describe the bytes that are there: a re-upload or delete during the work
    (or right after the record) raises `Stale`. A write lost to a newer version's record puts
    that version's manifest back, so browsers see the winner.
    """
    pipeline, key = job.pipeline, job.key
    _publish_manifest(pipeline, key, record)  # before the record: a failed put retries all
    _check_current(pipeline, key, info)
    written = pipeline.records.put_unless_newer(record)
    _check_current(pipeline, key, info)
    if not written and (newer := pipeline.records.get(key)) is not None:
        _publish_manifest(pipeline, key, newer)
    return written


def _check_current(pipeline: Pipeline, key: str, info: ObjectInfo | None) -> None:
    """Raise `Stale` unless the original is still exactly the bytes we read."""
    if info is None:  # nothing was read (a key no store can hold)
        return
    current = pipeline.originals.head(key)
    if current is None or current.etag != info.etag or (
            current.version_id and info.version_id and current.version_id != info.version_id):
        raise Stale(key)


__all__ = ["process_object"]
