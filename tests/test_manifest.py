"""manifest.json: the public face of a record, for browsers; never EXIF, never bucket names."""

from __future__ import annotations

import json

from imgproc.core import process_object
from tests.support.images import jpeg_with_gps_and_serial, plain_jpeg


def manifest(media, key) -> dict:
    return json.loads((media / "processed" / key / "manifest.json").read_text())


def headers(media, key) -> dict:
    path = media / ".imgproc/objects/processed" / key / "manifest.json.json"
    return json.loads(path.read_text())


def test_complete_manifest_lists_the_variants_and_placeholders(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg(1000, 500))
    record = process_object(pipeline, "uploads/a.jpg").record
    data = manifest(media, "uploads/a.jpg")
    assert data["status"] == "COMPLETE" and (data["width"], data["height"]) == (1000, 500)
    assert data["placeholder"] == record["placeholder"]
    assert data["thumbhash"] == record["thumbhash"]
    assert data["dominantColor"] == record["dominantColor"]
    assert [v["name"] for v in data["variants"]] == [v["name"] for v in
                                                     record["processedVariants"]]
    for variant, published in zip(data["variants"], record["processedVariants"], strict=True):
        assert variant == {"name": published["name"], "key": published["key"],
                           "width": published["width"], "height": published["height"],
                           "format": published["format"],
                           "contentType": published["contentType"],
                           "bytes": published["size"]}
    assert "error" not in data


def test_manifest_never_carries_exif_or_bucket_names(pipeline, media, upload):
    upload("uploads/camera.jpg", jpeg_with_gps_and_serial())
    record = process_object(pipeline, "uploads/camera.jpg").record
    assert record["exif"]["make"] == "Canon"  # the record has it...
    raw = (media / "processed/uploads/camera.jpg/manifest.json").read_text()
    for secret in ("Canon", "EOS", "exif", "GPS", "SERIAL", str(media), "bucket", "etag",
                   record["source"]["etag"]):
        assert secret not in raw, secret  # ...the manifest does not


def test_manifest_is_cached_for_seconds_as_json(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    sent = headers(media, "uploads/a.jpg")
    assert sent["ContentType"] == "application/json"
    max_age = int(sent["CacheControl"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 60
    assert "immutable" not in sent["CacheControl"]


def test_failed_upload_gets_a_manifest_with_the_error_sentence(pipeline, media, upload):
    upload("uploads/bad.jpg", b"not a picture at all")
    outcome = process_object(pipeline, "uploads/bad.jpg")
    data = manifest(media, "uploads/bad.jpg")
    assert data["status"] == "FAILED"
    assert data["error"] == outcome.message
    assert data["variants"] == []


def test_manifest_is_rewritten_on_every_outcome(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    assert manifest(media, "uploads/a.jpg")["status"] == "COMPLETE"
    upload("uploads/a.jpg", b"broken re-upload")
    process_object(pipeline, "uploads/a.jpg")
    failed = manifest(media, "uploads/a.jpg")
    assert failed["status"] == "FAILED" and "not a supported image" in failed["error"]
    assert len(failed["variants"]) == 6  # the earlier variants are still served


def test_verify_reports_a_missing_manifest_and_fix_restores_it(pipeline, media, upload):
    from imgproc.core.problems import find_problems

    upload("uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    (media / "processed/uploads/a.jpg/manifest.json").unlink()
    problems = find_problems(pipeline, "uploads/")
    assert [(p.key, p.kind) for p in problems] == [("uploads/a.jpg", "missing-manifest")]
    process_object(pipeline, "uploads/a.jpg", force=True)
    assert find_problems(pipeline, "uploads/") == []
