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
