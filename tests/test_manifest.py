"""manifest.json: the public face of a record, for browsers; never EXIF, never bucket names."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from imgproc.config import Config, load_config
from imgproc.core import process_object
from tests.support.images import encode, jpeg_with_gps_and_serial, photo_like, plain_jpeg


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


# --- formats by size, and AVIF where it pays --------------------------------------------

EXAMPLE_AVIF = Path(__file__).parents[1] / "examples" / "config" / "avif.toml"


def with_config(pipeline, config):
    return dataclasses.replace(pipeline, config=config)


def test_sources_say_which_sizes_exist_in_which_formats_for_picture(pipeline, media, upload):
    upload("uploads/a.jpg", plain_jpeg(1000, 500))
    process_object(pipeline, "uploads/a.jpg")
    sources = manifest(media, "uploads/a.jpg")["sources"]
    # WebP before JPEG (the <img>); the 150×150 crop is not a size of the picture
    assert [(s["format"], s["contentType"]) for s in sources] == [
        ("webp", "image/webp"), ("jpeg", "image/jpeg")]
    assert [(v["name"], v["width"], v["height"]) for v in sources[0]["sizes"]] == [
        ("webp-medium", 800, 400), ("webp-large", 1000, 500)]
    assert [v["name"] for v in sources[1]["sizes"]] == ["small", "medium", "large"]
    assert sources[1]["sizes"][0]["key"] == "processed/uploads/a.jpg/small.jpg"
    assert all(v["bytes"] > 0 for s in sources for v in s["sizes"])


def test_the_avif_example_adds_avif_first_where_it_pays(pipeline, media, upload):
    config = load_config(EXAMPLE_AVIF, env={})
    assert config.variants[:6] == Config().variants  # JPEG and WebP exactly as by default
    upload("uploads/photo.png", encode(photo_like(), "PNG"))
    record = process_object(with_config(pipeline, config), "uploads/photo.png").record
    assert record["status"] == "COMPLETE"
    published = {v["name"] for v in record["processedVariants"]}
    withheld = {v["name"] for v in record.get("withheldVariants", [])}
    assert published | withheld == {v.name for v in config.variants}
    assert not published & withheld
    sources = manifest(media, "uploads/photo.png")["sources"]
    formats = [s["format"] for s in sources]
    assert formats[-2:] == ["webp", "jpeg"]
    assert ("avif" in formats) == bool(published & {"avif-medium", "avif-large"})
    if "avif" in formats:
        assert formats[0] == "avif"


def test_a_withheld_avif_is_recorded_not_failed_and_verify_expects_no_file(
        pipeline, media, upload):
    from imgproc.core.problems import find_problems

    upload("uploads/photo.png", encode(photo_like(), "PNG"))
    config = load_config(EXAMPLE_AVIF, env={})
    # GIVEN a render that published both AVIFs (no margin to meet)...
    paid = with_config(pipeline, dataclasses.replace(config, keep_margin=0.0))
    paid_record = process_object(paid, "uploads/photo.png").record
    avif = media / "processed/uploads/photo.png/avif-large.avif"
    assert "avif-large" in {v["name"] for v in paid_record["processedVariants"]}
    assert avif.exists()
    # WHEN the margin becomes one no AVIF meets (a new configHash: the record is stale)
    strict = with_config(pipeline, dataclasses.replace(config, keep_margin=0.99))
    assert [p.kind for p in find_problems(strict, "uploads/")] == ["stale"]
    outcome = process_object(strict, "uploads/photo.png")
    # THEN the upload is COMPLETE, the AVIFs are listed as withheld with why, their files gone
    assert outcome.status == "COMPLETE" and outcome.record["status"] == "COMPLETE"
    withheld = {v["name"]: v["reason"] for v in outcome.record["withheldVariants"]}
    assert set(withheld) == {"avif-medium", "avif-large"}
    assert "not smaller than webp-large" in withheld["avif-large"]
    assert "avif" not in {v["format"] for v in outcome.record["processedVariants"]}
    assert not avif.exists()
    data = manifest(media, "uploads/photo.png")
    assert [s["format"] for s in data["sources"]] == ["webp", "jpeg"]
    assert "withheldVariants" not in data and "avif" not in json.dumps(data["variants"])
    assert find_problems(strict, "uploads/") == []  # nothing missing, nothing orphaned
