"""Nothing lost, nothing poisoned: one key's clean-up never reaches another key's pictures.

`uploads/alice` (an extensionless key, accepted by design) owns `processed/uploads/alice/*`,
and that folder also holds `processed/uploads/alice/cat.jpg/*`, the outputs of a longer key.
Removing alice's outputs (its delete event, a late create event after the delete, or
`reprocess --key uploads/alice` once it is gone) must leave cat.jpg's variants and record.
"""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from click.testing import CliRunner

from imgproc.cli import main
from imgproc.core import process_object, remove_object
from imgproc.lambda_handler import handler
from imgproc.records import Status
from tests.aws_fixtures import BUCKET, TABLE, LambdaContext
from tests.support.contract import OUTPUT_FILES
from tests.support.images import plain_jpeg

SHORT, LONG = "uploads/alice", "uploads/alice/cat.jpg"


def s3_event(name: str, key: str) -> dict:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": name,
                         "s3": {"bucket": {"name": BUCKET},
                                "object": {"key": quote_plus(key, safe="/")}}}]}


def own_files(listing: list[str], key: str) -> list[str]:
    folder = f"processed/{key}/"
    return sorted(k[len(folder):] for k in listing
                  if k.startswith(folder) and "/" not in k[len(folder):])


# --- the directory store -------------------------------------------------------------------


def directory_listing(media) -> list[str]:
    return [p.relative_to(media).as_posix() for p in (media / "processed").rglob("*")
            if p.is_file()]


@pytest.mark.parametrize("removal", ["delete event", "late create event", "reprocess --key"])
def test_removing_a_short_key_leaves_the_longer_keys_pictures_on_a_directory(
        pipeline, upload, media, removal):
    # alice is processed, then deleted; before its removal is handled, alice/cat.jpg arrives
    # (a directory can hold uploads/alice/cat.jpg only once the file uploads/alice is gone)
    upload(SHORT, plain_jpeg())
    assert process_object(pipeline, SHORT).status == "COMPLETE"
    (media / SHORT).unlink()
    upload(LONG, plain_jpeg(500, 300))
    assert process_object(pipeline, LONG).status == "COMPLETE"

    if removal == "delete event":
        assert remove_object(pipeline, SHORT).status == "DELETED"
    elif removal == "late create event":
        assert process_object(pipeline, SHORT).status == "IGNORED"
    else:
        result = CliRunner().invoke(main, ["--bucket", str(media), "reprocess", "--key", SHORT])
        assert result.exit_code == 0, result.output

    listing = directory_listing(media)
    assert own_files(listing, SHORT) == []  # alice's own outputs are gone
    assert own_files(listing, LONG) == OUTPUT_FILES  # cat.jpg's are all there
    assert pipeline.records.get(SHORT) is None
    assert pipeline.records.get(LONG)["status"] == Status.COMPLETE
    verify = CliRunner().invoke(main, ["--bucket", str(media), "verify"])
    assert verify.exit_code == 0, verify.output


# --- S3, through the handler ----------------------------------------------------------------


def s3_listing(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/")
            .get("Contents", [])]


@pytest.mark.parametrize("removal", ["delete event", "late create event", "reprocess --key"])
def test_removing_a_short_key_leaves_the_longer_keys_pictures_on_s3(aws, removal):
    from imgproc.stores.dynamodb import DynamoRecordStore

    s3, _dynamodb = aws
    for key in (SHORT, LONG):  # on S3 both originals exist side by side
        s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg())
        assert handler(s3_event("ObjectCreated:Put", key), LambdaContext())["outcome"] \
            == "COMPLETE"
    s3.delete_object(Bucket=BUCKET, Key=SHORT)

    if removal == "delete event":
        outcome = handler(s3_event("ObjectRemoved:Delete", SHORT), LambdaContext())
        assert outcome["outcome"] == "DELETED"
    elif removal == "late create event":
        outcome = handler(s3_event("ObjectCreated:Put", SHORT), LambdaContext())
        assert outcome["outcome"] == "IGNORED"
    else:
        result = CliRunner().invoke(main, ["--bucket", BUCKET, "--table", TABLE, "reprocess",
                                           "--key", SHORT])
        assert result.exit_code == 0, result.output

    listing = s3_listing(s3)
    assert own_files(listing, SHORT) == []
    assert own_files(listing, LONG) == OUTPUT_FILES
    records = DynamoRecordStore(TABLE)
    assert records.get(SHORT) is None
    assert records.get(LONG)["status"] == Status.COMPLETE


# --- keys whose outputs cannot exist, and dot segments: FAILED once, never retried ------------


def sqs_batch(*keys: str) -> dict:
    import json

    from tests.aws_fixtures import load_event

    template = load_event("sqs_s3_put.json")["Records"][0]
    records = []
    for index, key in enumerate(keys):
        body = json.loads(template["body"])
        body["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
        body["Records"][0]["s3"]["object"].pop("eTag", None)
        records.append({**template, "messageId": f"m{index}", "body": json.dumps(body)})
    return {"Records": records}


def error_of(key: str) -> dict | None:
    from imgproc.stores.dynamodb import DynamoRecordStore

    return DynamoRecordStore(TABLE).get(f"error#{key}")


@pytest.mark.parametrize(("key", "sentence"), [
    ("uploads/" + "k" * 990 + ".jpg", "over S3's limit of 1024 bytes (keys of at most"),
    ("uploads/mallory/../alice/x.jpg", "has a '.' or '..' path segment"),
    ("uploads/./x.jpg", "has a '.' or '..' path segment"),
])
def test_keys_whose_outputs_cannot_exist_fail_once_with_the_rule(aws, key, sentence):
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg())
    s3.put_object(Bucket=BUCKET, Key="uploads/fine.jpg", Body=plain_jpeg())
    response = handler(sqs_batch(key, "uploads/fine.jpg"), LambdaContext())
    assert response == {"batchItemFailures": []}  # recorded, not retried
    from imgproc.stores.dynamodb import DynamoRecordStore

    record = DynamoRecordStore(TABLE).get(key)
    assert record["status"] == Status.FAILED and record["errorType"] == "BadKey"
    assert sentence in record["error"]
    assert error_of(key)["retryCount"] == 1
    assert not [k for k in s3_listing(s3) if k.startswith(f"processed/{key}/")]
    assert DynamoRecordStore(TABLE).get("uploads/fine.jpg")["status"] == Status.COMPLETE


def test_a_name_too_long_for_a_directory_fails_once_and_preview_answers_404(
        pipeline, upload, media):
    from imgproc.web.server import make_server

    key = "uploads/" + "n" * 249 + ".jpg"  # 253 bytes: a file, but its header file is not
    upload(key, plain_jpeg())
    outcome = process_object(pipeline, key)
    assert outcome.status == "FAILED"
    assert "over the limit of 255 bytes per file name" in outcome.message
    assert pipeline.records.get(f"error#{key}")["retryCount"] == 1

    import threading
    import urllib.error
    import urllib.request

    server = make_server(pipeline.outputs, pipeline.records, pipeline.config, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for path in (f"processed/{key}/thumbnail.jpg", "processed/uploads/" + "x" * 300):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/{path}")
            assert answer.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


# --- the download: what HEAD saw, and no more than the limit -----------------------------------


def test_an_object_swapped_between_head_and_get_is_retried_not_recorded(aws):
    from imgproc.config import Config
    from imgproc.core import Pipeline, process_safely
    from imgproc.stores.dynamodb import DynamoRecordStore
    from imgproc.stores.s3 import S3ObjectStore

    s3, _ = aws
    key = "uploads/swapped.jpg"
    s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg(640, 480, (255, 0, 0)))

    class SwappedAfterHead(S3ObjectStore):
        def head(self, key):
            info = super().head(key)
            s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg(2000, 1500, (0, 0, 255)))
            return info

    store = SwappedAfterHead(BUCKET)
    records = DynamoRecordStore(TABLE)
    outcome = process_safely(Pipeline(store, store, records, Config()), key)
    assert outcome.status == "RETRY"
    assert "changed between its HEAD and GET" in outcome.message
    assert records.get(key) is None and records.get(f"error#{key}") is None
    # the retry reads what is there now
    plain = S3ObjectStore(BUCKET)
    assert process_safely(Pipeline(plain, plain, records, Config()), key).status == "COMPLETE"
    assert records.get(key)["originalDimensions"] == {"width": 2000, "height": 1500}


def test_the_download_never_reads_past_the_limit(pipeline, upload, media):
    key = "uploads/grows.jpg"
    upload(key, plain_jpeg())
    info = pipeline.originals.head(key)
    (media / key).write_bytes(plain_jpeg() + b"\0" * 50_000)  # it grew after the check
    from imgproc.errors import FileTooLarge

    with pytest.raises(FileTooLarge, match="over the limit of 20000 bytes"):
        pipeline.originals.get(key, max_bytes=20_000)
    with pytest.raises(Exception, match="changed between its check and its read"):
        pipeline.originals.get(key, etag=info.etag)


# --- image formats imgproc does not read: a FAILED record naming them ---------------------------


UNREAD = {
    "uploads/scan.bmp": (b"BM" + bytes(60), "BMP (.bmp)"),
    "uploads/favicon.ico": (b"\x00\x00\x01\x00" + bytes(60), "ICO (.ico)"),
    "uploads/logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG (.svg)"),
    "uploads/old.tga": (bytes(18) + b"\xff" * 40, "TGA (.tga)"),
    "uploads/frame.ppm": (b"P6\n2 2\n255\n" + bytes(12), "PPM (.ppm)"),
    "uploads/mask.pgm": (b"P5\n2 2\n255\n" + bytes(4), "PGM (.pgm)"),
    "uploads/bits.pbm": (b"P4\n8 1\n\x00", "PBM (.pbm)"),
    "uploads/layers.psd": (b"8BPS" + bytes(60), "Photoshop (PSD) (.psd)"),
    "uploads/next.jxl": (b"\xff\x0a" + bytes(60), "JPEG XL (.jxl)"),
    "uploads/burst.heics": (b"\x00\x00\x00\x18ftypisom" + bytes(40), "HEIF image sequence"),
}


@pytest.mark.parametrize("key", list(UNREAD))
def test_an_unread_image_format_gets_a_failed_record_naming_it(pipeline, upload, key):
    data, named = UNREAD[key]
    upload(key, data)
    outcome = process_object(pipeline, key)
    assert outcome.status == "FAILED", outcome.message
    record = pipeline.records.get(key)
    assert record["errorType"] == "UnsupportedFormat"
    assert f"The file is {named}" in record["error"]
    assert "supported formats are JPEG, WebP, PNG" in record["error"]


@pytest.mark.parametrize("key", ["uploads/report.pdf", "uploads/notes.txt"])
def test_names_that_are_not_pictures_stay_ignored(pipeline, upload, key):
    upload(key, b"%PDF-1.7" if key.endswith(".pdf") else b"hello")
    assert process_object(pipeline, key).status == "IGNORED"
    assert pipeline.records.get(key) is None


def test_a_misnamed_supported_picture_is_still_rendered(pipeline, upload):
    upload("uploads/actually-a-jpeg.bmp", plain_jpeg())
    assert process_object(pipeline, "uploads/actually-a-jpeg.bmp").status == "COMPLETE"
