"""Crops on the subject: gravity, the recorded focal point, and `imgproc focus`.

Pictures are asserted in pixels: the share of a thumbnail that shows the marked subject.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from imgproc.aws.cdn import url_builder
from imgproc.config import Config, ConfigError, Gravity, Variant, parse_config
from imgproc.core import Refocus, process_object
from imgproc.focal import FocalPoint
from imgproc.render import render
from tests.support.images import (
    BLUE,
    GREEN,
    RED,
    encode,
    jpeg_with_orientation,
    subject_share,
    with_subject,
)
from tests.support.pixels import close, colour_at
from tests.test_cli import run, stored_record

DEFAULT = Config()


def thumbnail_of(data: bytes, config: Config = DEFAULT, focus=None) -> Image.Image:
    rendition = render(data, config, focus=focus)
    thumb = next(v for v in rendition.variants if v.name == "thumbnail")
    return Image.open(io.BytesIO(thumb.data))


def cover(gravity: str, width: int = 150, height: int = 150) -> Config:
    return Config(variants=(Variant("thumbnail", width, height, "cover", gravity=gravity),
                            Variant("small", 400)))


def three_bands() -> bytes:
    """900×300: red left third, blue middle, green right third."""
    image = Image.new("RGB", (900, 300), BLUE)
    image.paste(RED, (0, 0, 300, 300))
    image.paste(GREEN, (600, 0, 900, 300))
    return encode(image, "PNG")


# --- gravity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "at"), [
    ((1200, 400), (0.88, 0.5)),   # landscape, subject at the right edge
    ((1200, 400), (0.10, 0.6)),   # ... and at the left
    ((400, 1200), (0.5, 0.10)),   # portrait, subject at the top
])
def test_attention_keeps_an_off_centre_subject_in_the_thumbnail(size, at):
    data = encode(with_subject(*size, at), "JPEG", quality=92)
    # the disc is ~7 % of the 400×400 region a thumbnail shows: all of it, or none
    assert subject_share(thumbnail_of(data)) > 0.05  # the default gravity is attention
    assert subject_share(thumbnail_of(data, cover("centre"))) < 0.01


def test_attention_finds_the_subject_in_a_rotated_original():
    # GIVEN a portrait photo stored sideways (EXIF orientation 6), its subject at the top
    upright = with_subject(400, 1200, (0.5, 0.1))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", quality=92, exif=exif.tobytes())
    # THEN the record is upright and the crop holds the subject
    rendition = render(data, Config())
    assert (rendition.width, rendition.height) == (400, 1200)
    assert rendition.focal_point.y < 0.25
    assert subject_share(thumbnail_of(data)) > 0.05


def test_the_focal_point_is_recorded_where_the_subject_is():
    rendition = render(encode(with_subject(1200, 400, (0.88, 0.5)), "JPEG"), Config())
    assert abs(rendition.focal_point.x - 0.88) < 0.08
    assert abs(rendition.focal_point.y - 0.5) < 0.15


def test_a_featureless_picture_is_focused_on_its_centre():
    rendition = render(encode(Image.new("RGB", (800, 300), (90, 90, 90)), "PNG"), Config())
    assert rendition.focal_point == FocalPoint(0.5, 0.5)


def test_entropy_crops_the_detailed_part():
    # GIVEN a flat grey picture whose right quarter is busy black-and-white checks
    image = Image.new("RGB", (1200, 400), (128, 128, 128))
    checks = Image.new("RGB", (300, 400), (0, 0, 0))
    for x in range(0, 300, 20):
        for y in range(0, 400, 20):
            if (x + y) // 20 % 2:
                checks.paste((255, 255, 255), (x, y, x + 20, y + 20))
    image.paste(checks, (900, 0))
    data = encode(image, "PNG")
    # THEN an entropy crop shows the checks, a centre crop only grey
    entropy, centre = thumbnail_of(data, cover("entropy")), thumbnail_of(data, cover("centre"))
    assert _spread(entropy) > 80
    assert _spread(centre) < 5


def _spread(image: Image.Image) -> float:
    low, high = image.convert("L").getextrema()
    return high - low


def test_a_focal_point_given_for_the_picture_centres_every_crop():
    # gravity centre included: a point set for one picture beats the variant's default
    data = three_bands()
    for config in (Config(), cover("centre"), cover("entropy")):
        thumb = thumbnail_of(data, config, focus=FocalPoint(0.05, 0.5))
        assert close(colour_at(thumb, 0.5, 0.5), RED, 20)
        assert render(data, config, focus=FocalPoint(0.05, 0.5)).focal_point \
            == FocalPoint(0.05, 0.5)


def test_the_crop_stays_inside_the_picture_whatever_the_point():
    data = three_bands()
    for point in (FocalPoint(0.0, 0.0), FocalPoint(1.0, 1.0)):
        thumb = thumbnail_of(data, Config(), focus=point)
        assert thumb.size == (150, 150)
        edge = RED if point.x == 0.0 else GREEN
        assert close(colour_at(thumb, 0.1, 0.5), edge, 20)
        assert close(colour_at(thumb, 0.9, 0.5), edge, 20)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_crops_of_rotated_originals_are_upright(orientation):
    # the marked picture: red top-left quadrant, green top-right, blue below (600×400 upright)
    wide = Config(variants=(Variant("wide", 300, 100, "cover", gravity="centre"),))
    rendition = render(jpeg_with_orientation(orientation), wide)
    assert (rendition.width, rendition.height) == (600, 400)
    crop = Image.open(io.BytesIO(rendition.variants[0].data))
    assert close(colour_at(crop, 0.25, 0.05), RED, 40)
    assert close(colour_at(crop, 0.75, 0.05), GREEN, 40)
    assert close(colour_at(crop, 0.5, 0.95), BLUE, 40)


# --- config ----------------------------------------------------------------------------------


def test_gravity_is_validated_with_a_sentence():
    with pytest.raises(ConfigError, match=r"variant 'thumb': expected gravity to be one of "
                                          r"attention, entropy, centre, got 'middle'"):
        parse_config({"variant": [{"name": "thumb", "width": 100, "height": 100,
                                   "fit": "cover", "gravity": "middle"}]})
    with pytest.raises(ConfigError, match=r"variant 'wide': gravity applies to fit 'cover' only"):
        parse_config({"variant": [{"name": "wide", "width": 100, "gravity": "attention"}]})
    spelled = parse_config({"variant": [{"name": "thumb", "width": 100, "height": 100,
                                         "fit": "cover", "gravity": "center"}]})
    assert spelled.variants[0].gravity == Gravity.CENTRE


def test_changing_gravity_makes_earlier_records_stale():
    assert cover("attention").config_hash != cover("centre").config_hash
    assert Config().variant("thumbnail").gravity == Gravity.ATTENTION


# --- the pipeline: records, URLs, overrides --------------------------------------------------


def test_records_and_manifests_carry_the_focal_point(pipeline, upload, media: Path):
    upload("uploads/shop/lamp.jpg", encode(with_subject(1200, 400, (0.88, 0.5)), "JPEG"))
    record = process_object(pipeline, "uploads/shop/lamp.jpg").record
    assert abs(record["focalPoint"]["x"] - 0.88) < 0.08
    assert "focalOverride" not in record
    manifest = json.loads((media / "processed/uploads/shop/lamp.jpg/manifest.json").read_bytes())
    assert manifest["focalPoint"] == record["focalPoint"]


def test_a_set_focal_point_versions_only_the_crops_urls(pipeline, upload):
    pipeline.url_for = url_builder("cdn.example")
    upload("uploads/bands.png", three_bands())
    before = _urls(process_object(pipeline, "uploads/bands.png").record)
    after = _urls(process_object(pipeline, "uploads/bands.png",
                                 refocus=Refocus(FocalPoint(0.05, 0.5))).record)
    assert after["thumbnail"] != before["thumbnail"]  # browsers and the CDN fetch the new crop
    assert {n: u for n, u in after.items() if n != "thumbnail"} == \
        {n: u for n, u in before.items() if n != "thumbnail"}


def _urls(record: dict) -> dict[str, str]:
    return {v["name"]: v["url"] for v in record["processedVariants"]}


def test_a_re_uploaded_picture_drops_the_old_focal_point(pipeline, upload):
    upload("uploads/bands.png", three_bands())
    process_object(pipeline, "uploads/bands.png", refocus=Refocus(FocalPoint(0.05, 0.5)))
    upload("uploads/bands.png", encode(with_subject(1200, 400, (0.88, 0.5)), "PNG"))
    record = process_object(pipeline, "uploads/bands.png").record
    assert "focalOverride" not in record
    assert record["focalPoint"]["x"] > 0.7


# --- imgproc focus ---------------------------------------------------------------------------


@pytest.fixture
def bucket(media: Path) -> str:
    return str(media)


def _files(media: Path, key: str) -> dict[str, bytes]:
    folder = media / "processed" / key
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "manifest.json"}


def test_focus_moves_the_crop_and_survives_reprocess_force(bucket, media: Path, upload):
    key = "uploads/bands.png"
    upload(key, three_bands())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    before = _files(media, key)

    # WHEN the subject is said to be at the left edge
    result = run("--bucket", bucket, "focus", key, "0.05", "0.5")
    assert result.exit_code == 0, result.output
    # THEN the thumbnail shows the left (red) band, the other variants are untouched
    after = _files(media, key)
    thumb = Image.open(io.BytesIO(after["thumbnail.jpg"]))
    assert close(colour_at(thumb, 0.5, 0.5), RED, 20)
    assert {n: d for n, d in after.items() if n != "thumbnail.jpg"} == \
        {n: d for n, d in before.items() if n != "thumbnail.jpg"}
    record = stored_record(bucket, key)
    assert record["focalOverride"] == {"x": 0.05, "y": 0.5} == record["focalPoint"]
    assert record["status"] == "COMPLETE" and len(record["processedVariants"]) == 6

    # AND a forced re-render keeps it
    assert run("--bucket", bucket, "reprocess", "--force").exit_code == 0
    thumb = Image.open(io.BytesIO(_files(media, key)["thumbnail.jpg"]))
    assert close(colour_at(thumb, 0.5, 0.5), RED, 20)
    assert stored_record(bucket, key)["focalOverride"] == {"x": 0.05, "y": 0.5}

    # AND --clear gives the crop back to the variant's gravity
    assert run("--bucket", bucket, "focus", key, "--clear").exit_code == 0
    record = stored_record(bucket, key)
    assert "focalOverride" not in record and record["focalPoint"] != {"x": 0.05, "y": 0.5}
    assert _files(media, key)["thumbnail.jpg"] == before["thumbnail.jpg"]


@pytest.mark.parametrize(("args", "words"), [
    (["1.5", "0.5"], "1.5 is not in the range 0.0<=x<=1.0"),
    (["0.5"], "give X and Y"),
    ([], "give X and Y"),
    (["0.5", "0.5", "--clear"], "give X and Y"),
])
def test_focus_usage_errors_exit_2(bucket, upload, args, words):
    upload("uploads/bands.png", three_bands())
    result = run("--bucket", bucket, "focus", "uploads/bands.png", *args)
    assert result.exit_code == 2
    assert words in " ".join(result.stderr.split())


def test_focus_on_an_unknown_key_exits_1(bucket):
    result = run("--bucket", bucket, "focus", "uploads/never.jpg", "0.5", "0.5")
    assert result.exit_code == 1
    assert "no record for 'uploads/never.jpg'" in " ".join(result.stderr.split())


def _variant_toml(variant: Variant) -> str:
    lines = [f'name = "{variant.name}"', f"width = {variant.width}", f'fit = "{variant.fit}"',
             f"quality = {variant.quality}", f'format = "{variant.format}"',
             f"sharpen = {str(variant.sharpen).lower()}"]
    if variant.height:
        lines += [f"height = {variant.height}", 'gravity = "centre"']
    return "[[variant]]\n" + "\n".join(lines) + "\n"


def test_verify_reports_records_of_an_earlier_gravity_as_stale(bucket, upload, tmp_path):
    upload("uploads/bands.png", three_bands())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    # the default variants, but the thumbnail cropped at the centre
    config = tmp_path / "imgproc.toml"
    config.write_text("".join(_variant_toml(v) for v in Config().variants), encoding="utf-8")
    stale = run("--bucket", bucket, "--config", config, "verify")
    assert stale.exit_code == 1 and "stale" in stale.output
    assert run("--bucket", bucket, "--config", config, "reprocess").exit_code == 0
    assert run("--bucket", bucket, "--config", config, "verify").exit_code == 0
