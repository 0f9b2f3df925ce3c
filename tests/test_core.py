"""process_object on the embedded stores: records, headers, skipping, failures, ordering."""

from __future__ import annotations

import os
import time
from urllib.parse import unquote

import pytest

from imgproc.core import EventHint, process_object, process_safely
from imgproc.errors import TransientError
from imgproc.outcome import Result
from tests.support.contract import OUTPUT_FILES
from tests.support.images import (
    decompression_bomb_png,
    jpeg_with_orientation,
    open_bytes,
    plain_jpeg,
    transparent_png,
)

VARIANT_FILES = OUTPUT_FILES


def variant_files(media, key):
    folder = media / "processed" / key
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_complete_record_and_variants_as_the_contract_says(pipeline, media, upload):
    upload("uploads/u1/IMG 1.JPG", jpeg_with_orientation(6, 600, 400))
    outcome = process_object(pipeline, "uploads/u1/IMG 1.JPG")
    assert outcome.status == Result.COMPLETE

    record = pipeline.records.get("uploads/u1/IMG 1.JPG")
    assert record["type"] == "IMAGE_METADATA" and record["status"] == "COMPLETE"
    assert record["originalDimensions"] == {"width": 600, "height": 400}
    assert record["format"] == "jpeg"
    assert record["size"] == (media / "uploads/u1/IMG 1.JPG").stat().st_size
    assert record["source"]["bucket"] == str(media)
    assert record["configHash"] == pipeline.config.config_hash
    assert record["exif"] is None
    assert record["placeholder"].startswith("data:image/jpeg;base64,")
    assert record["dominantColor"].startswith("#") and len(record["dominantColor"]) == 7
    assert record["thumbhash"]
    assert variant_files(media, "uploads/u1/IMG 1.JPG") == VARIANT_FILES
    for variant in record["processedVariants"]:
        assert variant["key"] == f"processed/uploads/u1/IMG 1.JPG/{variant['name']}." + (
            "webp" if variant["format"] == "webp" else "jpg")
        data = (media / variant["key"]).read_bytes()
        assert variant["size"] == len(data)
        assert open_bytes(data).size == (variant["width"], variant["height"])
        info = pipeline.outputs.head(variant["key"])
        assert info.content_type == variant["contentType"]
        assert unquote(info.metadata["original-key"]) == "uploads/u1/IMG 1.JPG"
        assert info.metadata["original-key"].isascii()
        assert info.metadata["variant"] == variant["name"]
        assert info.metadata["processed-at"] == record["processedAt"]

    placeholder = pipeline.records.get("uploads/u1/IMG 1.JPG#placeholder")
    assert placeholder["type"] == "BLUR_PLACEHOLDER"
    assert placeholder["data"] == record["placeholder"]


def test_variants_are_cached_for_a_year(pipeline, media, upload):
    upload("uploads/a.png", transparent_png())
    process_object(pipeline, "uploads/a.png")
    headers = (media / ".imgproc/objects/processed/uploads/a.png/small.jpg.json").read_text()
    assert "public, max-age=31536000, immutable" in headers


def test_up_to_date_originals_are_skipped_unless_forced(pipeline, upload):
    upload("uploads/a.jpg", plain_jpeg())
    first = process_object(pipeline, "uploads/a.jpg")
    again = process_object(pipeline, "uploads/a.jpg")
    assert again.status == Result.SKIPPED
    assert pipeline.records.get("uploads/a.jpg")["processedAt"] == first.record["processedAt"]
    forced = process_object(pipeline, "uploads/a.jpg", force=True)
    assert forced.status == Result.COMPLETE


def test_changed_original_is_processed_again(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg(colour=(255, 0, 0)))
    process_object(pipeline, "uploads/a.jpg")
    time.sleep(0.01)
    upload("uploads/a.jpg", plain_jpeg(colour=(0, 0, 255)))
    outcome = process_object(pipeline, "uploads/a.jpg")
    assert outcome.status == Result.COMPLETE
    small = open_bytes((media / "processed/uploads/a.jpg/small.jpg").read_bytes())
    assert small.getpixel((10, 10))[2] > 200  # blue now


def test_changed_config_is_processed_again(pipeline, upload):
    from dataclasses import replace

    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    pipeline.config = replace(pipeline.config, background="#000000")
    assert process_object(pipeline, "uploads/a.jpg").status == Result.COMPLETE


@pytest.mark.parametrize("key", ["processed/uploads/a.jpg/small.jpg", "processed/x.jpg"])
def test_outputs_are_never_processed(pipeline, media, upload, key):
    upload(key, plain_jpeg())
    outcome = process_object(pipeline, key)
    assert outcome.status == Result.IGNORED
    assert pipeline.records.get(key) is None
    assert not (media / "processed" / key).exists()


def test_a_missing_original_resurrects_nothing(pipeline, media):
    # a late duplicate create event after the delete
    outcome = process_object(pipeline, "uploads/gone.jpg", event=EventHint(etag="abc"))
    assert outcome.status == Result.IGNORED
    assert pipeline.records.get("uploads/gone.jpg") is None
    assert pipeline.records.get("error#uploads/gone.jpg") is None
    assert not (media / "processed").exists()


def test_non_image_extensions_are_not_candidates(pipeline, upload):
    upload("uploads/notes.txt", b"hello")
    assert process_object(pipeline, "uploads/notes.txt").status == Result.IGNORED
    assert pipeline.records.get("error#uploads/notes.txt") is None


# --- permanent failures -----------------------------------------------------------------


def test_bad_picture_is_recorded_once_per_attempt_and_cleared_on_success(pipeline, upload):
    upload("uploads/a.jpg", b"this is text, not a JPEG")
    outcome = process_object(pipeline, "uploads/a.jpg")
    assert outcome.status == Result.FAILED and outcome.error_type == "UnsupportedFormat"
    error = pipeline.records.get("error#uploads/a.jpg")
    assert error["type"] == "PROCESSING_ERROR"
    assert error["key"] == "uploads/a.jpg" and error["bucket"] == pipeline.originals.name
    assert "plain text" in error["error"] and error["retryCount"] == 1
    assert pipeline.records.get("uploads/a.jpg")["status"] == "FAILED"

    # an unchanged bad picture is not retried by default, but is when forced
    assert process_object(pipeline, "uploads/a.jpg").status == Result.SKIPPED
    process_object(pipeline, "uploads/a.jpg", force=True)
    assert pipeline.records.get("error#uploads/a.jpg")["retryCount"] == 2

    # the user fixes the upload: the error record goes away
    upload("uploads/a.jpg", plain_jpeg())
    assert process_object(pipeline, "uploads/a.jpg").status == Result.COMPLETE
    assert pipeline.records.get("error#uploads/a.jpg") is None
    assert "error" not in pipeline.records.get("uploads/a.jpg")


def test_failure_after_success_keeps_published_variants(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    time.sleep(0.01)
    upload("uploads/a.jpg", plain_jpeg()[:300])  # truncated re-upload
    outcome = process_object(pipeline, "uploads/a.jpg")
    assert outcome.status == Result.FAILED
    record = pipeline.records.get("uploads/a.jpg")
    assert record["status"] == "FAILED" and "truncated" in record["error"]
    assert len(record["processedVariants"]) == 6
    assert variant_files(media, "uploads/a.jpg") == VARIANT_FILES


def test_file_over_the_size_limit_is_refused_before_reading(pipeline, upload, monkeypatch):
    from dataclasses import replace

    pipeline.config = replace(pipeline.config, max_image_size=1000)
    upload("uploads/big.jpg", plain_jpeg())
    reads = []
    original_get = pipeline.originals.get
    monkeypatch.setattr(pipeline.originals, "get", lambda *a, **k: reads.append(a) or
                        original_get(*a, **k))
    outcome = process_object(pipeline, "uploads/big.jpg")
    assert outcome.status == Result.FAILED and outcome.error_type == "FileTooLarge"
    assert "over the limit of 1,000 bytes" in outcome.message
    assert reads == []


def test_decompression_bomb_is_refused_from_the_header(pipeline, upload):
    upload("uploads/bomb.png", decompression_bomb_png())
    started = time.monotonic()
    outcome = process_object(pipeline, "uploads/bomb.png")
    assert time.monotonic() - started < 2
    assert outcome.status == Result.FAILED and outcome.error_type == "TooManyPixels"
    assert "20000×20000" in outcome.message and "100.0 megapixels" in outcome.message


# --- transient failures -----------------------------------------------------------------


class FlakyPuts:
    """Wraps a store so that its Nth put fails as a throttled S3 would."""

    def __init__(self, store, fail_on: int):
        self._store, self._fail_on, self.puts = store, fail_on, 0
        self.name = store.name

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put(self, *args, **kwargs):
        self.puts += 1
        if self.puts == self._fail_on:
            raise TransientError("SlowDown: please reduce your request rate.")
        return self._store.put(*args, **kwargs)


def test_a_put_failing_midway_is_retryable_and_records_nothing(pipeline, upload):
    upload("uploads/a.jpg", plain_jpeg())
    pipeline.outputs = FlakyPuts(pipeline.outputs, fail_on=3)
    with pytest.raises(TransientError):
        process_object(pipeline, "uploads/a.jpg")
    assert pipeline.records.get("uploads/a.jpg") is None
    assert pipeline.records.get("error#uploads/a.jpg") is None
    outcome = process_safely(pipeline, "uploads/a.jpg")  # the retry succeeds
    assert outcome.status == Result.COMPLETE


def test_unreachable_original_store_is_retry_not_missing(pipeline, upload, monkeypatch):
    upload("uploads/a.jpg", plain_jpeg())

    def throttled(key):
        raise TransientError("503 SlowDown")

    monkeypatch.setattr(pipeline.originals, "head", throttled)
    outcome = process_safely(pipeline, "uploads/a.jpg")
    assert outcome.status == Result.RETRY and outcome.retryable
    assert pipeline.records.get("uploads/a.jpg") is None


# --- never back in time -----------------------------------------------------------------


def test_an_older_version_never_overwrites_a_newer_record(pipeline, media, upload):
    # GIVEN version 2 is recorded
    path = upload("uploads/a.jpg", plain_jpeg(colour=(0, 0, 255)))
    process_object(pipeline, "uploads/a.jpg")
    newer = pipeline.records.get("uploads/a.jpg")
    # WHEN the store serves an older version (its mtime in the past), as a stale read would
    path.write_bytes(plain_jpeg(colour=(255, 0, 0)))
    old = time.time() - 3600
    os.utime(path, (old, old))
    outcome = process_object(pipeline, "uploads/a.jpg")
    # THEN nothing goes back in time
    assert outcome.status == Result.SKIPPED
    assert pipeline.records.get("uploads/a.jpg")["source"] == newer["source"]
    small = open_bytes((media / "processed/uploads/a.jpg/small.jpg").read_bytes())
    assert small.getpixel((10, 10))[2] > 200


def test_sequencer_orders_versions_uploaded_in_the_same_instant(pipeline, media, upload):
    path = upload("uploads/a.jpg", plain_jpeg(colour=(0, 0, 255)))
    info = pipeline.originals.head("uploads/a.jpg")
    process_object(pipeline, "uploads/a.jpg", event=EventHint(etag=info.etag, sequencer="00B2"))
    assert pipeline.records.get("uploads/a.jpg")["source"]["sequencer"] == "00B2"
    # an older event (lower sequencer) for content with the same timestamp is refused
    stat = path.stat()
    path.write_bytes(plain_jpeg(colour=(255, 0, 0)))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    stale = pipeline.originals.head("uploads/a.jpg")
    outcome = process_object(pipeline, "uploads/a.jpg",
                             event=EventHint(etag=stale.etag, sequencer="00A1"))
    assert outcome.status == Result.SKIPPED
    assert pipeline.records.get("uploads/a.jpg")["source"]["etag"] == info.etag


def test_event_sequencer_is_kept_only_for_the_bytes_it_describes(pipeline, upload):
    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg", event=EventHint(etag="other", sequencer="FF"))
    assert "sequencer" not in pipeline.records.get("uploads/a.jpg")["source"]


def test_one_bad_original_never_stops_the_others(pipeline, upload):
    from imgproc.core import process_many

    upload("uploads/1.jpg", plain_jpeg())
    upload("uploads/2.jpg", b"")
    upload("uploads/3.png", transparent_png())
    outcomes = process_many(pipeline, ["uploads/1.jpg", "uploads/2.jpg", "uploads/3.png"],
                            workers=2)
    assert [o.status for o in outcomes] == [Result.COMPLETE, Result.FAILED, Result.COMPLETE]
    assert "empty (0 bytes)" in outcomes[1].message


def test_a_picture_over_the_time_budget_fails_clearly(pipeline, upload):
    from dataclasses import replace

    pipeline.config = replace(pipeline.config, time_budget=0.0001)
    upload("uploads/slow.jpg", plain_jpeg(3000, 2000))
    outcome = process_object(pipeline, "uploads/slow.jpg")
    assert outcome.status == Result.FAILED and outcome.error_type == "TooSlow"
    assert "0.0001 s time budget" in outcome.message
    assert pipeline.records.get("error#uploads/slow.jpg")["errorType"] == "TooSlow"
