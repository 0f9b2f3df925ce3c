"""Hostile keys and paths: nothing escapes the output prefix or the store's directory."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from imgproc.core import process_safely
from imgproc.outcome import Result
from tests.support.images import plain_jpeg

SRC = Path(__file__).resolve().parents[1] / "src" / "imgproc"


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("key", [
    "uploads/../../escape.jpg",
    "uploads/a/../../../escape.jpg",
    "/etc/escape.jpg",
    "uploads//double.jpg",
    "uploads/./dot.jpg",
    "uploads/new\nline.jpg",
    "uploads/nul\x00byte.jpg",
    "uploads/" + "x" * 1100 + ".jpg",
    ".imgproc/metadata.db",
])
def test_hostile_keys_fail_cleanly_and_write_nothing_outside(tmp_path, pipeline, media, key):
    outside_before = files_under(tmp_path) - files_under(media)
    outcome = process_safely(pipeline, key)
    assert outcome.status in (Result.FAILED, Result.IGNORED), outcome
    assert "Traceback" not in outcome.message
    if outcome.status == Result.FAILED:  # recorded, with the reason
        assert pipeline.records.get(f"error#{key}")["errorType"] == "BadKey"
    assert files_under(tmp_path) - files_under(media) == outside_before
    for path in files_under(media):
        assert path.resolve().is_relative_to(media.resolve())
    assert not (media / "processed").exists() or all(
        ".." not in p.relative_to(media).parts for p in files_under(media / "processed"))


def test_symlinked_original_outside_the_root_is_refused(tmp_path, pipeline, media):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(plain_jpeg())
    (media / "uploads").mkdir()
    os.symlink(secret, media / "uploads" / "link.jpg")
    outcome = process_safely(pipeline, "uploads/link.jpg")
    assert outcome.status == Result.FAILED and outcome.error_type == "BadKey"
    assert "outside" in outcome.message
    published = media / "processed" / "uploads" / "link.jpg"
    assert [p.name for p in published.iterdir()] == ["manifest.json"]  # the failure, no pixels


def test_symlinked_output_folder_is_never_written_through(tmp_path, pipeline, media, upload):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, media / "processed")
    upload("uploads/a.jpg", plain_jpeg())
    outcome = process_safely(pipeline, "uploads/a.jpg")
    assert outcome.status == Result.FAILED
    assert list(elsewhere.iterdir()) == []


def test_ordinary_odd_keys_still_work(pipeline, upload):
    upload("uploads/..hidden..jpg", plain_jpeg())
    upload("uploads/dots.in.name.JPG", plain_jpeg())
    assert process_safely(pipeline, "uploads/..hidden..jpg").status == Result.COMPLETE
    assert process_safely(pipeline, "uploads/dots.in.name.JPG").status == Result.COMPLETE


def test_no_shell_or_eval_of_user_controlled_strings():
    pattern = re.compile(r"\b(eval|exec)\(|os\.system|shell\s*=\s*True|subprocess|pickle")
    offenders = [f"{path.relative_to(SRC)}:{n}" for path in SRC.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


def test_libvips_parses_no_upload_but_webp():
    # libvips resamples and encodes pixels Pillow decoded; of its loaders only WebP's (the
    # libwebp Pillow would use) is allowed, so no other upload reaches a second set of parsers
    import pyvips

    from imgproc.config import Config
    from imgproc.render import render

    jpeg = plain_jpeg(64, 48)
    assert render(jpeg, Config()).variants  # libvips is set up by a render
    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    for data in (jpeg, png.getvalue()):
        with pytest.raises(pyvips.Error):
            pyvips.Image.new_from_buffer(data, "").avg()
