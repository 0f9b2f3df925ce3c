"""Keys: odd characters, case, collisions and event decoding."""

from __future__ import annotations

import pytest

from imgproc.config import Config
from imgproc.core import process_object
from imgproc.keys import decode_event_key, is_candidate, metadata_value, original_of, variant_key
from imgproc.outcome import Result
from tests.support.images import plain_jpeg, transparent_png

CONFIG = Config()


@pytest.mark.parametrize(
    "key",
    ["uploads/with space.jpg", "uploads/a+b.jpg", "uploads/Ünïcødé phöto.jpeg",
     "uploads/日本語/写真.JPG", "uploads/UPPER.PNG", "uploads/noextension"],
)
def test_odd_keys_process_and_land_in_their_own_folder(pipeline, media, upload, key):
    upload(key, plain_jpeg())
    assert process_object(pipeline, key).status == Result.COMPLETE
    assert (media / "processed" / key / "small.jpg").is_file()
    record = pipeline.records.get(key)
    assert record["processedVariants"][0]["key"].startswith(f"processed/{key}/")


def test_same_name_different_extension_never_share_variants(pipeline, media, upload):
    upload("uploads/photo.jpg", plain_jpeg(colour=(255, 0, 0)))
    upload("uploads/photo.png", transparent_png())
    process_object(pipeline, "uploads/photo.jpg")
    process_object(pipeline, "uploads/photo.png")
    jpg = {v["key"] for v in pipeline.records.get("uploads/photo.jpg")["processedVariants"]}
    png = {v["key"] for v in pipeline.records.get("uploads/photo.png")["processedVariants"]}
    assert not jpg & png
    assert (media / "processed/uploads/photo.jpg/small.jpg").is_file()
    assert (media / "processed/uploads/photo.png/small.jpg").is_file()


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("uploads/with+space.jpg", "uploads/with space.jpg"),
     ("uploads/a%2Bb.jpg", "uploads/a+b.jpg"),
     ("uploads/%C3%9Cber+caf%C3%A9.JPG", "uploads/Über café.JPG")],
)
def test_event_keys_decode_exactly(raw, decoded):
    assert decode_event_key(raw) == decoded


def test_layout_round_trips():
    variant = CONFIG.variant("webp-medium")
    key = variant_key("uploads/u1/IMG 1.JPG", variant, CONFIG)
    assert key == "processed/uploads/u1/IMG 1.JPG/webp-medium.webp"
    assert original_of(key, CONFIG) == "uploads/u1/IMG 1.JPG"
    assert metadata_value("uploads/Über 1.jpg") == "uploads/%C3%9Cber%201.jpg"


@pytest.mark.parametrize(
    ("key", "candidate"),
    [("a/b.JPG", True), ("a/b.jpeg", True), ("a/b.HeIc", True), ("a/b", True),
     ("a/b.txt", False), ("a/b.pdf", False), ("a/.hidden", True)],
)
def test_candidates_by_case_insensitive_extension(key, candidate):
    assert is_candidate(key) is candidate
