"""Bad uploads: each a clear, recorded failure; the original untouched; the others unaffected."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from imgproc.core import process_many
from imgproc.outcome import Result
from tests.support.images import decompression_bomb_png, plain_jpeg, transparent_png

TWELVE_BIT_JPEG = (Path(__file__).parent / "pictures" / "monkey12.jpg").read_bytes()
HTML = b"<!DOCTYPE html>\n<html><head><title>Not a picture</title></head></html>\n"

# key, content, errorType, words the sentence must contain
BAD = [
    ("uploads/empty.jpg", b"", "EmptyFile", ["empty", "0 bytes"]),
    ("uploads/notes.jpg", b"Dear diary,\ntoday I uploaded text.\n", "UnsupportedFormat",
     ["plain text", "supported formats are JPEG"]),
    ("uploads/page.png", HTML, "UnsupportedFormat", ["HTML page"]),
    ("uploads/cut.jpg", plain_jpeg(1200, 900)[:2000], "CorruptImage", ["truncated"]),
    ("uploads/camera12.jpg", TWELVE_BIT_JPEG, "UnsupportedFormat",
     ["12-bit JPEG", "only 8-bit JPEG"]),
    ("uploads/bomb.png", decompression_bomb_png(), "TooManyPixels",
     ["20000×20000", "limit of 100.0 megapixels"]),
    ("uploads/strip.png", decompression_bomb_png(1, 200_000), "TooManyPixels",
     ["1×200000", "100,000 pixels a side"]),
    ("uploads/huge.jpg", plain_jpeg(2000, 2000) + b"\0" * 300_000, "FileTooLarge",
     ["over the limit of 200.0 KiB", "MAX_IMAGE_SIZE"]),
]
GOOD = [("uploads/good1.jpg", plain_jpeg()), ("uploads/good2.png", transparent_png())]


@pytest.fixture
def batch(pipeline, upload):
    pipeline.config = replace(pipeline.config, max_image_size=200 * 1024)
    digests = {}
    keys = []
    for key, data, *_ in [BAD[0], GOOD[0], *BAD[1:], GOOD[1]]:
        upload(key, data)
        digests[key] = hashlib.sha256(data).hexdigest()
        keys.append(key)
    started = time.monotonic()
    outcomes = {o.key: o for o in process_many(pipeline, keys)}
    return outcomes, digests, time.monotonic() - started


@pytest.mark.parametrize(("key", "content", "error_type", "words"), BAD,
                         ids=[case[0] for case in BAD])
def test_bad_upload_is_a_clear_recorded_failure(batch, pipeline, media, key, content,
                                                error_type, words):
    outcomes, digests, _ = batch
    outcome = outcomes[key]
    assert outcome.status == Result.FAILED
    assert outcome.error_type == error_type
    error = pipeline.records.get(f"error#{key}")
    assert error["errorType"] == error_type and error["retryCount"] == 1
    for word in words:
        assert word in error["error"], error["error"]
    assert error["error"].endswith(".") and "\n" not in error["error"]
    assert "Traceback" not in error["error"]
    record = pipeline.records.get(key)
    assert record["status"] == "FAILED" and record["error"] == error["error"]
    # the original is untouched; only the manifest tells browsers what went wrong
    assert hashlib.sha256((media / key).read_bytes()).hexdigest() == digests[key]
    assert sorted(p.name for p in (media / "processed" / key).iterdir()) == ["manifest.json"]
    manifest = json.loads((media / "processed" / key / "manifest.json").read_text())
    assert manifest["status"] == "FAILED" and manifest["error"] == error["error"]
    assert manifest["variants"] == []


def test_good_uploads_in_the_same_run_are_unaffected_and_it_is_quick(batch):
    outcomes, _, elapsed = batch
    assert all(outcomes[key].status == Result.COMPLETE for key, _ in GOOD)
    assert elapsed < 30  # "in seconds", generous for shared machines
