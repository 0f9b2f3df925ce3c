"""The `imgproc` command line, as a user meets it: exit codes, what is printed, files, records.

Every command runs through click's CliRunner against `imgproc.cli.main` (one test runs the real
console script). Nothing here reaches inside the package except the single store method that
the `-v` test makes fail on purpose.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from imgproc.cli import main
from imgproc.stores import SqliteRecordStore
from tests.support.contract import DEFAULT_VARIANTS
from tests.support.images import (
    encode,
    jpeg_with_orientation,
    plain_jpeg,
    transparent_png,
    upright_marked,
)

VARIANTS = DEFAULT_VARIANTS  # name -> extension of the six default variants
PIL_FORMAT = {"jpg": "JPEG", "webp": "WEBP"}
ERROR_FIELDS = {"id", "type", "bucket", "key", "error", "errorType", "timestamp", "retryCount"}

# A wide console so rich never folds a key across lines, and no settings from the developer's
# shell (None removes the variable for the duration of the invocation).
CLEAN_ENV = {
    "COLUMNS": "300",
    "IMGPROC_BUCKET": None,
    "IMGPROC_TABLE": None,
    "IMGPROC_STACK": None,
    "IMGPROC_QUEUE_URL": None,
    "IMGPROC_CONFIG": None,
    "MAX_IMAGE_SIZE": None,
    "AWS_ENDPOINT_URL": None,
}

TEXT_AS_JPEG = b"These are my holiday notes, not a picture.\n" * 4


# --- helpers ---------------------------------------------------------------------------------


def run(*args, env: dict | None = None, clean: bool = True) -> Result:
    """Invoke the CLI; by default also assert that no traceback or stray exception escaped."""
    runner = CliRunner(env={**CLEAN_ENV, **(env or {})})
    result = runner.invoke(main, [str(arg) for arg in args])
    if clean:
        assert_no_traceback(result)
    return result


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def flat(text: str) -> str:
    """Whitespace collapsed, so a message rich wrapped over lines reads as one line."""
    return " ".join(text.split())


def assert_one_sentence(text: str) -> str:
    """A user-facing error: one short sentence, no traceback; returns it flattened."""
    message = flat(text)
    assert message, "expected an error message"
    assert "Traceback" not in message
    body = message.removeprefix("Error:").strip()
    assert body[-1] in ".)", f"not a sentence: {message!r}"
    assert ". " not in body.rstrip("."), f"more than one sentence: {message!r}"
    assert len(body) < 400, message
    return message


def json_lines(stdout: str) -> list[dict]:
    """Every stdout line is one JSON object, and there is nothing else on stdout."""
    objects = []
    for line in stdout.splitlines():
        data = json.loads(line)  # a blank line or a table fails here, as it should
        assert isinstance(data, dict), line
        objects.append(data)
    return objects


def table_row(output: str, key: str) -> list[str]:
    """The cells of the first table row that mentions `key`."""
    for line in output.splitlines():
        if key in line:
            return [cell.strip() for cell in re.split(r"[│┃|]", line) if cell.strip()]
    raise AssertionError(f"no row for {key!r} in:\n{output}")


def assert_variants(root: Path, key: str) -> None:
    """All six default variants exist at root/processed/{key}/ as real images of their format."""
    folder = root / "processed" / key
    for name, ext in VARIANTS.items():
        path = folder / f"{name}.{ext}"
        assert path.is_file(), f"missing {path}"
        with Image.open(path) as image:
            assert image.format == PIL_FORMAT[ext], path


def variant_files(root: Path, key: str) -> set[str]:
    folder = root / "processed" / key
    return {p.name for p in folder.iterdir() if p.is_file() and p.name != "manifest.json"}


def records_json(out: Path) -> dict[str, dict]:
    records = json.loads((out / "records.json").read_text(encoding="utf-8"))
    assert isinstance(records, list)
    return {record["id"]: record for record in records}


def stored_record(bucket: str, key: str) -> dict | None:
    """What `imgproc status KEY --json` says, or None when it knows no record."""
    result = run("--bucket", bucket, "status", key, "--json")
    lines = json_lines(result.stdout)
    return lines[0] if lines else None


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def bucket(media: Path) -> str:
    """The embedded default: a directory given to --bucket (an absolute path contains '/')."""
    return str(media)


# --- process ---------------------------------------------------------------------------------


def test_process_files_writes_six_variants_and_complete_records(tmp_path: Path):
    first = write(tmp_path / "in" / "beach.jpg", plain_jpeg(1600, 1200))
    second = write(tmp_path / "in" / "logo.png", transparent_png())
    out = tmp_path / "out"

    result = run("process", first, second, "--out", out)

    assert result.exit_code == 0, result.output
    records = records_json(out)
    assert set(records) == {"beach.jpg", "logo.png"}
    for key, record in records.items():
        assert_variants(out, key)
        assert variant_files(out, key) == {f"{n}.{e}" for n, e in VARIANTS.items()}
        assert record["type"] == "IMAGE_METADATA"
        assert record["status"] == "COMPLETE"
        assert {v["name"] for v in record["processedVariants"]} == set(VARIANTS)
        for variant in record["processedVariants"]:
            expected = f"processed/{key}/{variant['name']}.{VARIANTS[variant['name']]}"
            assert variant["key"] == expected
            assert (out / expected).stat().st_size == variant["size"]
        assert key in result.stdout
    assert records["beach.jpg"]["originalDimensions"] == {"width": 1600, "height": 1200}


def test_process_orientation_is_applied_to_recorded_dimensions(tmp_path: Path):
    photo = write(tmp_path / "portrait.jpg", jpeg_with_orientation(6, 600, 400))
    out = tmp_path / "out"

    result = run("process", photo, "--out", out)

    assert result.exit_code == 0, result.output
    record = records_json(out)["portrait.jpg"]
    assert record["originalDimensions"] == {"width": 600, "height": 400}


def test_process_dir_keys_files_by_relative_path(tmp_path: Path):
    album = tmp_path / "album"
    write(album / "top.jpg", plain_jpeg())
    write(album / "2024" / "summer" / "deep.png", transparent_png())
    write(album / "notes.txt", b"not an image, and not an image name")
    write(album / ".gitignore", b"node_modules/\n")  # hidden: never an upload
    write(album / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(album / ".cache" / "old.jpg", plain_jpeg())
    out = tmp_path / "out"

    result = run("process", album, "--out", out)

    assert result.exit_code == 0, result.output
    records = records_json(out)
    assert set(records) == {"top.jpg", "2024/summer/deep.png"}
    assert all(r["status"] == "COMPLETE" for r in records.values())
    assert_variants(out, "top.jpg")
    assert_variants(out, "2024/summer/deep.png")


class _ImgSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources += [value for name, value in attrs if name == "src" and value]


def test_process_html_contact_sheet_references_every_variant(tmp_path: Path):
    first = write(tmp_path / "in" / "one photo.jpg", plain_jpeg())
    second = write(tmp_path / "in" / "two+two.png", transparent_png())
    out = tmp_path / "out"

    result = run("process", first, second, "--out", out, "--html")

    assert result.exit_code == 0, result.output
    page = out / "index.html"
    assert page.is_file()
    parser = _ImgSources()
    parser.feed(page.read_text(encoding="utf-8"))
    linked = {unquote(src) for src in parser.sources if not src.startswith("data:")}
    for key in ("one photo.jpg", "two+two.png"):
        for name, ext in VARIANTS.items():
            assert f"processed/{key}/{name}.{ext}" in linked
    for src in linked:  # relative links that open from disk
        assert (out / src).is_file(), src


def test_process_defaults_to_imgproc_out_and_skips_its_own_output(tmp_path: Path, monkeypatch):
    write(tmp_path / "a.jpg", plain_jpeg())
    write(tmp_path / "sub" / "b.png", transparent_png())
    monkeypatch.chdir(tmp_path)

    first = run("process", ".")
    second = run("process", ".")  # ./imgproc-out now sits inside the input directory

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    out = tmp_path / "imgproc-out"
    assert set(records_json(out)) == {"a.jpg", "sub/b.png"}
    assert_variants(out, "a.jpg")
    assert_variants(out, "sub/b.png")
    assert not (out / "processed" / "imgproc-out").exists()


def test_process_without_html_writes_no_contact_sheet(tmp_path: Path):
    photo = write(tmp_path / "a.jpg", plain_jpeg())
    out = tmp_path / "out"

    assert run("process", photo, "--out", out).exit_code == 0
    assert not (out / "index.html").exists()


@pytest.mark.parametrize(
    "where",
    [pytest.param("before", id="imgproc --json process"),
     pytest.param("after", id="imgproc process --json")],
)
def test_process_json_stdout_is_only_json_lines(tmp_path: Path, where: str):
    good = write(tmp_path / "in" / "good.jpg", plain_jpeg())
    bad = write(tmp_path / "in" / "bad.jpg", TEXT_AS_JPEG)
    out = tmp_path / "out"
    command = ["process", good, bad, "--out", out]
    argv = ["--json", *command] if where == "before" else [*command, "--json"]

    result = run(*argv)

    assert result.exit_code == 1
    lines = json_lines(result.stdout)
    assert {line["key"] for line in lines} == {"good.jpg", "bad.jpg"}
    by_key = {line["key"]: line for line in lines}
    assert by_key["good.jpg"]["outcome"] == "COMPLETE"
    assert by_key["good.jpg"]["record"]["status"] == "COMPLETE"
    assert by_key["bad.jpg"]["outcome"] == "FAILED"


# --- bad files among good ones ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "word"),
    [
        pytest.param("notes.jpg", TEXT_AS_JPEG, "image", id="text named .jpg"),
        pytest.param("empty.png", b"", "empty", id="zero-byte .png"),
        pytest.param("cut.jpg", plain_jpeg(800, 600)[:300], "truncated", id="truncated jpeg"),
    ],
)
def test_process_bad_file_among_good_ones(tmp_path: Path, name: str, data: bytes, word: str):
    good = [write(tmp_path / "in" / f"good{i}.jpg", plain_jpeg()) for i in range(2)]
    bad = write(tmp_path / "in" / name, data)
    out = tmp_path / "out"

    result = run("process", good[0], bad, good[1], "--out", out)

    assert result.exit_code == 1
    records = records_json(out)
    for path in good:
        assert records[path.name]["status"] == "COMPLETE"
        assert_variants(out, path.name)
    failed = records[name]
    assert failed["status"] == "FAILED"
    sentence = failed["error"]
    assert "\n" not in sentence and "Traceback" not in sentence
    assert_one_sentence(sentence)
    assert word in sentence.lower()
    assert sentence in flat(result.output)  # the user is told, in that sentence
    assert name in result.output
    # only the manifest, which tells browsers the upload failed
    assert [p.name for p in (out / "processed" / name).iterdir()] == ["manifest.json"]
    assert bad.read_bytes() == data  # the original is never changed


def test_process_only_bad_files_exits_1(tmp_path: Path):
    bad = write(tmp_path / "bad.jpg", TEXT_AS_JPEG)
    result = run("process", bad, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert records_json(tmp_path / "out")["bad.jpg"]["status"] == "FAILED"


# --- awkward keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("IMG 1.JPG", plain_jpeg()),
        ("a+b.jpeg", plain_jpeg()),
        ("Ünïcødé phöto+1.JPG", plain_jpeg()),
        ("日本の写真.png", transparent_png()),
        ("SHOUTING.PNG", transparent_png()),
        ("Mixed.WebP", encode(upright_marked(), "WEBP")),
        ("100% real (copy).Jpeg", plain_jpeg()),
    ],
)
def test_process_awkward_file_names(tmp_path: Path, name: str, data: bytes):
    photo = write(tmp_path / "in" / name, data)
    out = tmp_path / "out"

    result = run("process", photo, "--out", out)

    assert result.exit_code == 0, result.output
    assert records_json(out)[name]["status"] == "COMPLETE"
    assert_variants(out, name)
    assert name in result.stdout


def test_same_stem_different_extension_gets_two_variant_folders(tmp_path: Path):
    folder = tmp_path / "in"
    write(folder / "photo.jpg", plain_jpeg(colour=(10, 200, 10)))
    write(folder / "photo.png", transparent_png())
    out = tmp_path / "out"

    result = run("process", folder, "--out", out)

    assert result.exit_code == 0, result.output
    records = records_json(out)
    assert set(records) == {"photo.jpg", "photo.png"}
    assert_variants(out, "photo.jpg")
    assert_variants(out, "photo.png")
    jpg_thumb = (out / "processed/photo.jpg/thumbnail.jpg").read_bytes()
    png_thumb = (out / "processed/photo.png/thumbnail.jpg").read_bytes()
    assert jpg_thumb != png_thumb
    keys = [v["key"] for r in records.values() for v in r["processedVariants"]]
    assert len(keys) == len(set(keys)) == 12


def test_two_files_that_would_share_a_key_is_a_usage_error(tmp_path: Path):
    first = write(tmp_path / "a" / "same.jpg", plain_jpeg())
    second = write(tmp_path / "b" / "same.jpg", plain_jpeg())

    result = run("process", first, second, "--out", tmp_path / "out")

    assert result.exit_code == 2
    assert "same.jpg" in assert_one_sentence(result.stderr)


# --- reprocess on the embedded default -------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    ["absolute", "file-url", "relative", "env"],
)
def test_reprocess_processes_new_originals(media: Path, upload, monkeypatch, tmp_path, form):
    upload("uploads/u1/IMG 1.JPG", plain_jpeg(1000, 2000))
    upload("uploads/Ünïcødé phöto+1.JPG", plain_jpeg())
    upload("uploads/notes.txt", b"not an image name: never a candidate")
    monkeypatch.chdir(tmp_path)
    options = {
        "absolute": (["--bucket", str(media)], None),
        "file-url": (["--bucket", f"file://{media}"], None),
        "relative": (["--bucket", "./media"], None),
        "env": ([], {"IMGPROC_BUCKET": str(media)}),
    }
    global_options, env = options[form]

    result = run(*global_options, "reprocess", env=env)

    assert result.exit_code == 0, result.output
    for key in ("uploads/u1/IMG 1.JPG", "uploads/Ünïcødé phöto+1.JPG"):
        assert_variants(media, key)
        assert stored_record(str(media), key)["status"] == "COMPLETE"
    assert (media / "processed/uploads/u1/IMG 1.JPG/webp-medium.webp").is_file()
    small = stored_record(str(media), "uploads/u1/IMG 1.JPG")["processedVariants"]
    assert {(v["width"], v["height"]) for v in small if v["name"] == "small"} == {(400, 800)}
    assert not (media / "processed/uploads/notes.txt").exists()


def test_reprocess_again_skips_up_to_date_originals(bucket: str, media: Path, upload):
    keys = ["uploads/a.jpg", "uploads/b.png"]
    upload(keys[0], plain_jpeg())
    upload(keys[1], transparent_png())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    before = {key: stored_record(bucket, key) for key in keys}
    mtimes = {p: p.stat().st_mtime_ns for p in (media / "processed").rglob("*") if p.is_file()}

    again = run("--bucket", bucket, "reprocess")

    assert again.exit_code == 0, again.output
    assert {key: stored_record(bucket, key) for key in keys} == before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    as_json = json_lines(run("--bucket", bucket, "reprocess", "--json").stdout)
    assert {line["outcome"] for line in as_json} == {"SKIPPED"}


def test_reprocess_force_renders_again(bucket: str, upload):
    upload("uploads/a.jpg", plain_jpeg())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    before = stored_record(bucket, "uploads/a.jpg")

    result = run("--bucket", bucket, "reprocess", "--force")

    assert result.exit_code == 0, result.output
    after = stored_record(bucket, "uploads/a.jpg")
    assert after["status"] == "COMPLETE"
    assert after["processedAt"] > before["processedAt"]


def test_reprocess_picks_up_a_changed_original(bucket: str, upload):
    upload("uploads/a.jpg", plain_jpeg(640, 480))
    assert run("--bucket", bucket, "reprocess").exit_code == 0

    upload("uploads/a.jpg", plain_jpeg(300, 200))
    result = run("--bucket", bucket, "reprocess")

    assert result.exit_code == 0, result.output
    record = stored_record(bucket, "uploads/a.jpg")
    assert record["originalDimensions"] == {"width": 300, "height": 200}


def test_reprocess_dry_run_changes_nothing(bucket: str, media: Path, upload):
    upload("uploads/old.jpg", plain_jpeg())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    before = stored_record(bucket, "uploads/old.jpg")
    upload("uploads/new.jpg", plain_jpeg())

    result = run("--bucket", bucket, "reprocess", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "uploads/new.jpg" in result.stdout
    assert stored_record(bucket, "uploads/new.jpg") is None
    assert not (media / "processed/uploads/new.jpg").exists()
    assert stored_record(bucket, "uploads/old.jpg") == before
    forced = run("--bucket", bucket, "reprocess", "--dry-run", "--force")
    assert forced.exit_code == 0
    assert stored_record(bucket, "uploads/old.jpg") == before


def test_reprocess_key_limits_to_that_original(bucket: str, media: Path, upload):
    upload("uploads/a.jpg", plain_jpeg())
    upload("uploads/b.jpg", plain_jpeg())

    result = run("--bucket", bucket, "reprocess", "--key", "uploads/b.jpg")

    assert result.exit_code == 0, result.output
    assert stored_record(bucket, "uploads/b.jpg")["status"] == "COMPLETE"
    assert_variants(media, "uploads/b.jpg")
    assert stored_record(bucket, "uploads/a.jpg") is None
    assert not (media / "processed/uploads/a.jpg").exists()


def test_reprocess_with_two_workers(bucket: str, media: Path, upload):
    keys = [f"uploads/batch/{i:02}.jpg" for i in range(5)]
    for i, key in enumerate(keys):
        upload(key, plain_jpeg(colour=(40 * i, 100, 200)))

    result = run("--bucket", bucket, "reprocess", "--workers", "2", "--json")

    assert result.exit_code == 0, result.output
    assert [line["key"] for line in json_lines(result.stdout)] == keys
    for key in keys:
        assert stored_record(bucket, key)["status"] == "COMPLETE"
        assert_variants(media, key)


def test_bad_original_fails_reprocess_and_is_listed_in_failures(bucket: str, upload):
    upload("uploads/good.jpg", plain_jpeg())
    upload("uploads/broken.jpg", TEXT_AS_JPEG)

    result = run("--bucket", bucket, "reprocess")

    assert result.exit_code == 1
    assert "uploads/broken.jpg" in result.output
    assert stored_record(bucket, "uploads/good.jpg")["status"] == "COMPLETE"
    failed = stored_record(bucket, "uploads/broken.jpg")
    assert failed["status"] == "FAILED"
    assert_one_sentence(failed["error"])

    listing = run("--bucket", bucket, "failures")
    assert listing.exit_code == 0, listing.output
    row = table_row(listing.stdout, "uploads/broken.jpg")
    assert failed["errorType"] in row
    assert "1" in row  # retry count
    assert "uploads/good.jpg" not in listing.stdout

    errors = json_lines(run("--bucket", bucket, "failures", "--json").stdout)
    assert len(errors) == 1
    error = errors[0]
    assert set(error) >= ERROR_FIELDS
    assert error["id"] == "error#uploads/broken.jpg"
    assert error["type"] == "PROCESSING_ERROR"
    assert error["key"] == "uploads/broken.jpg"
    assert error["bucket"]
    assert error["error"] == failed["error"]
    assert error["errorType"] == failed["errorType"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", error["timestamp"])
    assert error["retryCount"] == 1


def test_failures_retry_count_grows_per_failed_attempt(bucket: str, upload):
    upload("uploads/broken.jpg", TEXT_AS_JPEG)
    assert run("--bucket", bucket, "reprocess").exit_code == 1

    again = run("--bucket", bucket, "reprocess", "--failed")

    assert again.exit_code == 1
    listing = run("--bucket", bucket, "failures")
    assert "2" in table_row(listing.stdout, "uploads/broken.jpg")
    (error,) = json_lines(run("--bucket", bucket, "failures", "--json").stdout)
    assert error["retryCount"] == 2


def test_failures_with_none_recorded(bucket: str, upload):
    upload("uploads/good.jpg", plain_jpeg())
    assert run("--bucket", bucket, "reprocess").exit_code == 0

    result = run("--bucket", bucket, "failures")

    assert result.exit_code == 0
    assert run("--bucket", bucket, "failures", "--json").stdout == ""


def test_reprocess_failed_retries_only_error_recorded_originals(bucket: str, upload):
    upload("uploads/good.jpg", plain_jpeg())
    upload("uploads/broken.jpg", TEXT_AS_JPEG)
    assert run("--bucket", bucket, "reprocess").exit_code == 1
    good_before = stored_record(bucket, "uploads/good.jpg")
    upload("uploads/broken.jpg", plain_jpeg())  # the user re-uploads a real picture
    upload("uploads/untouched.jpg", plain_jpeg())  # new, but not a failure

    result = run("--bucket", bucket, "reprocess", "--failed")

    assert result.exit_code == 0, result.output
    assert stored_record(bucket, "uploads/broken.jpg")["status"] == "COMPLETE"
    assert stored_record(bucket, "uploads/good.jpg") == good_before
    assert stored_record(bucket, "uploads/untouched.jpg") is None
    assert run("--bucket", bucket, "failures", "--json").stdout == ""


# --- verify ----------------------------------------------------------------------------------


@pytest.fixture
def processed(bucket: str, upload) -> str:
    """Two originals, reprocessed: everything in place."""
    upload("uploads/a.jpg", plain_jpeg(1600, 1200))
    upload("uploads/b b+.png", transparent_png())
    assert run("--bucket", bucket, "reprocess").exit_code == 0
    return bucket


def test_verify_after_reprocess_is_clean(processed: str):
    result = run("--bucket", processed, "verify")
    assert result.exit_code == 0, result.output
    assert run("--bucket", processed, "verify", "--json").stdout == ""
    assert run("--bucket", processed, "verify", "--deep").exit_code == 0


@pytest.mark.parametrize("variant", ["medium.jpg", "webp-large.webp", "thumbnail.jpg"])
def test_verify_finds_a_deleted_variant_and_fix_restores_it(processed: str, media: Path,
                                                            variant: str):
    variant_key = f"processed/uploads/a.jpg/{variant}"
    (media / variant_key).unlink()

    found = run("--bucket", processed, "verify")

    assert found.exit_code == 1
    assert variant_key in found.output
    assert "uploads/b b+.png" not in found.output
    as_json = json_lines(run("--bucket", processed, "verify", "--json").stdout)
    assert any(variant_key in line["detail"] for line in as_json)

    fixed = run("--bucket", processed, "verify", "--fix")

    assert fixed.exit_code == 0, fixed.output
    assert (media / variant_key).is_file()
    assert run("--bucket", processed, "verify").exit_code == 0


def test_verify_reports_an_original_never_processed(processed: str, upload):
    upload("uploads/new.jpg", plain_jpeg())

    result = run("--bucket", processed, "verify")

    assert result.exit_code == 1
    assert "uploads/new.jpg" in result.output
    problems = json_lines(run("--bucket", processed, "verify", "--json").stdout)
    assert {(p["key"], p["problem"]) for p in problems} == {("uploads/new.jpg", "missing-record")}
    assert run("--bucket", processed, "verify", "--fix").exit_code == 0
    assert stored_record(processed, "uploads/new.jpg")["status"] == "COMPLETE"


def test_verify_reports_a_failed_original(processed: str, upload):
    upload("uploads/broken.jpg", TEXT_AS_JPEG)
    assert run("--bucket", processed, "reprocess").exit_code == 1

    result = run("--bucket", processed, "verify")

    assert result.exit_code == 1
    assert "uploads/broken.jpg" in result.output


def test_verify_reports_orphans_and_delete_orphans_removes_them(processed: str, media: Path):
    (media / "uploads/a.jpg").unlink()  # deleted without the pipeline noticing

    found = run("--bucket", processed, "verify")

    assert found.exit_code == 1
    assert "processed/uploads/a.jpg/" in found.output
    assert "orphan" in found.output.lower()

    cleaned = run("--bucket", processed, "verify", "--delete-orphans")

    assert cleaned.exit_code == 0, cleaned.output
    assert not (media / "processed/uploads/a.jpg").exists()
    assert_variants(media, "uploads/b b+.png")
    assert run("--bucket", processed, "verify").exit_code == 0


def test_verify_deep_detects_a_variant_of_the_wrong_dimensions(processed: str, media: Path):
    variant_key = "processed/uploads/a.jpg/small.jpg"
    (media / variant_key).write_bytes(plain_jpeg(37, 21))

    deep = run("--bucket", processed, "verify", "--deep")

    assert deep.exit_code == 1
    assert variant_key in deep.output
    assert run("--bucket", processed, "verify", "--deep", "--fix").exit_code == 0
    with Image.open(media / variant_key) as image:
        assert image.size == (400, 300)


# --- status ----------------------------------------------------------------------------------


def test_status_of_a_complete_record(processed: str):
    result = run("--bucket", processed, "status", "uploads/a.jpg")

    assert result.exit_code == 0, result.output
    assert "uploads/a.jpg" in result.stdout
    assert "COMPLETE" in result.stdout
    for name in VARIANTS:
        assert name in result.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_status_json_is_exactly_the_record(bucket: str, upload, where: str):
    upload("uploads/a.jpg", plain_jpeg(1000, 2000))
    reprocessed = run("--bucket", bucket, "reprocess", "--json")
    (outcome,) = json_lines(reprocessed.stdout)
    command = ["status", "uploads/a.jpg"]
    argv = ["--json", *command] if where == "before" else [*command, "--json"]

    result = run("--bucket", bucket, *argv)

    assert result.exit_code == 0, result.output
    (record,) = json_lines(result.stdout)
    assert record == outcome["record"]
    assert record["id"] == "uploads/a.jpg"
    assert record["type"] == "IMAGE_METADATA"
    assert record["status"] == "COMPLETE"
    assert record["originalDimensions"] == {"width": 1000, "height": 2000}
    assert [v["name"] for v in record["processedVariants"]] == list(VARIANTS)
    for field in ("format", "size", "source", "placeholder", "configHash", "processedAt",
                  "durationMs", "exif", "thumbhash", "dominantColor"):
        assert field in record
    assert record["placeholder"].startswith("data:image/jpeg;base64,")
    assert re.fullmatch(r"#[0-9a-f]{6}", record["dominantColor"])


def test_status_of_a_failed_record_exits_1(bucket: str, upload):
    upload("uploads/broken.jpg", TEXT_AS_JPEG)
    run("--bucket", bucket, "reprocess")

    result = run("--bucket", bucket, "status", "uploads/broken.jpg", "--json")

    assert result.exit_code == 1
    (record,) = json_lines(result.stdout)
    assert record["status"] == "FAILED"
    assert record["error"]


def test_status_of_an_unknown_key(bucket: str):
    result = run("--bucket", bucket, "status", "uploads/nope.jpg")

    assert result.exit_code == 1
    assert "uploads/nope.jpg" in assert_one_sentence(result.stderr)
    assert result.stdout == ""


def test_status_wait_times_out_with_exit_3(bucket: str):
    result = run("--bucket", bucket, "status", "uploads/nope.jpg", "--wait", "--timeout", "0.5")

    assert result.exit_code == 3
    assert "uploads/nope.jpg" in flat(result.stderr)
    assert result.stdout == ""


def test_status_wait_returns_at_once_for_a_finished_record(processed: str):
    result = run("--bucket", processed, "status", "uploads/a.jpg", "--wait", "--timeout", "0.5")
    assert result.exit_code == 0, result.output


# --- --json before or after, for every command -----------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(
    "command",
    [
        ["reprocess"],
        ["reprocess", "--dry-run"],
        ["reprocess", "--failed"],
        ["verify"],
        ["failures"],
        ["status", "uploads/a.jpg"],
        ["status", "uploads/broken.jpg"],
    ],
    ids=" ".join,
)
def test_json_output_is_only_json_lines(processed: str, upload, command: list[str], where: str):
    upload("uploads/broken.jpg", TEXT_AS_JPEG)
    upload("uploads/fresh.jpg", plain_jpeg())
    run("--bucket", processed, "reprocess", "--key", "uploads/broken.jpg")
    argv = ["--json", *command] if where == "before" else [*command, "--json"]

    result = run("--bucket", processed, *argv)

    assert result.exit_code in (0, 1), result.output
    assert json_lines(result.stdout), "expected at least one JSON line"


# --- usage and configuration errors: exit 2, one sentence ------------------------------------


BAD_VARIANTS = [
    pytest.param('quality = 101\nformat = "jpeg"', ["quality", "101"], id="quality 101"),
    pytest.param('quality = 80\nformat = "bmp"', ["format", "bmp"], id="format bmp"),
    pytest.param('quality = "high"\nformat = "jpeg"', ["quality", "high"], id="quality string"),
]


@pytest.mark.parametrize(("fields", "needles"), BAD_VARIANTS)
def test_invalid_config_value_names_variant_field_and_value(tmp_path: Path, fields, needles):
    config = tmp_path / "imgproc.toml"
    config.write_text(
        f'[[variant]]\nname = "thumbnail"\nwidth = 150\nheight = 150\nfit = "cover"\n{fields}\n',
        encoding="utf-8",
    )
    photo = write(tmp_path / "a.jpg", plain_jpeg())

    result = run("--config", config, "process", photo, "--out", tmp_path / "out")

    assert result.exit_code == 2
    message = assert_one_sentence(result.stderr)
    assert "thumbnail" in message
    for needle in needles:
        assert needle in message
    assert result.stdout == ""


@pytest.mark.parametrize("how", ["--config", "IMGPROC_CONFIG"])
def test_quality_out_of_range_names_the_expected_range(tmp_path: Path, bucket: str, how: str):
    config = tmp_path / "imgproc.toml"
    config.write_text(
        '[[variant]]\nname = "thumbnail"\nwidth = 150\nheight = 150\nfit = "cover"\n'
        'quality = 101\nformat = "jpeg"\n',
        encoding="utf-8",
    )

    if how == "--config":
        result = run("--bucket", bucket, "--config", config, "reprocess")
    else:
        result = run("--bucket", bucket, "reprocess", env={"IMGPROC_CONFIG": str(config)})

    assert result.exit_code == 2
    message = assert_one_sentence(result.stderr)
    assert "thumbnail" in message
    assert "quality" in message
    assert re.search(r"\b1\b\D{1,12}\b100\b", message), message
    assert "101" in message


def test_usage_and_configuration_errors_exit_2(tmp_path: Path):
    photo = write(tmp_path / "a.jpg", plain_jpeg())
    out = tmp_path / "out"
    not_toml = tmp_path / "broken.toml"
    not_toml.write_text("this is = = not toml\n", encoding="utf-8")
    cases = [
        (["--bucket", tmp_path / "no-such-dir", "reprocess"], "no-such-dir"),
        (["--bucket", tmp_path / "no-such-dir", "verify"], "no-such-dir"),
        (["--bucket", tmp_path / "no-such-dir", "status", "uploads/a.jpg"], "no-such-dir"),
        (["--config", tmp_path / "missing.toml", "process", photo, "--out", out], "missing.toml"),
        (["--config", not_toml, "process", photo, "--out", out], "broken.toml"),
        (["status", "uploads/a.jpg"], "--bucket"),
        (["--bucket", tmp_path, "--table", "postgres://x", "status", "k"], "--table"),
    ]
    for argv, needle in cases:
        result = run(*argv)
        assert result.exit_code == 2, (argv, result.output)
        assert needle in assert_one_sentence(result.stderr), argv
        assert result.stdout == "", argv


@pytest.mark.parametrize(
    "argv",
    [
        ["process", "/no/such/file.jpg"],
        ["process"],
        ["reprocess", "--workers", "0"],
        ["status"],
        ["no-such-command"],
        ["status", "k", "--timeout", "-1"],
    ],
    ids=" ".join,
)
def test_click_usage_errors_exit_2(argv: list[str]):
    result = run(*argv)
    assert result.exit_code == 2
    assert result.stdout == ""


# --- -v and unexpected errors ----------------------------------------------------------------


def _failing_errors(self):
    raise RuntimeError("the disk said no")


def test_unexpected_error_is_one_sentence_unless_verbose(bucket: str, monkeypatch):
    monkeypatch.setattr(SqliteRecordStore, "errors", _failing_errors)

    quiet = run("--bucket", bucket, "failures")

    assert quiet.exit_code != 0
    assert "Traceback" not in quiet.output
    assert isinstance(quiet.exception, SystemExit)
    message = flat(quiet.stderr)
    assert "the disk said no" in message
    assert "-v" in message

    loud = run("-v", "--bucket", bucket, "failures", clean=False)

    assert loud.exit_code == quiet.exit_code
    assert isinstance(loud.exception, SystemExit)
    assert "Traceback" in loud.stderr
    assert "the disk said no" in loud.stderr


# --- the real console script -----------------------------------------------------------------


def test_console_script_runs_end_to_end(tmp_path: Path):
    script = Path(sys.executable).parent / "imgproc"
    assert script.is_file(), script
    photo = write(tmp_path / "Ünïcødé phöto+1.JPG", plain_jpeg())
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGPROC_")}

    completed = subprocess.run(
        [str(script), "--json", "process", str(photo), "--out", str(out)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    (line,) = json_lines(completed.stdout)
    assert line["key"] == photo.name
    assert line["outcome"] == "COMPLETE"
    assert_variants(out, photo.name)
    assert records_json(out)[photo.name]["status"] == "COMPLETE"

    usage = subprocess.run(
        [str(script), "--bucket", str(tmp_path / "nowhere"), "reprocess"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr
    assert "nowhere" in flat(usage.stderr)
