"""Races found by bench/load.py, replayed deterministically on moto in-process.

Worker A has read version 1 of an original; before it writes anything, the key is
re-uploaded (version 2, which worker B processes) or deleted (B removes its outputs). Whatever
the interleaving, the end state must describe what is in the bucket: version 2's record,
variants and manifest, or nothing at all.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from imgproc.core import EventHint, Pipeline, process_object, remove_object
from imgproc.outcome import Result
from imgproc.stores.dynamodb import DynamoRecordStore
from imgproc.stores.s3 import S3ObjectStore
from tests.aws_fixtures import BUCKET, TABLE
from tests.support.images import plain_jpeg

KEY = "uploads/race/photo.jpg"


class Interleaved(S3ObjectStore):
    """Reads an original, then lets another worker act before handing the bytes over."""

    def __init__(self, bucket: str, meanwhile):
        super().__init__(bucket)
        self.meanwhile = meanwhile

    def get(self, key, version_id=None, **conditions):
        got = super().get(key, version_id, **conditions)
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return got


@pytest.fixture
def world(aws):
    s3, _dynamodb = aws
    records = DynamoRecordStore(TABLE)
    plain = S3ObjectStore(BUCKET)
    version_1 = s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg(640, 480, (255, 0, 0)))
    return s3, records, plain, version_1["ETag"].strip('"')


def large_size(s3) -> tuple[int, int]:
    body = s3.get_object(Bucket=BUCKET, Key=f"processed/{KEY}/large.jpg")["Body"].read()
    return Image.open(io.BytesIO(body)).size


def manifest(s3) -> dict:
    body = s3.get_object(Bucket=BUCKET, Key=f"processed/{KEY}/manifest.json")["Body"].read()
    return json.loads(body)


@pytest.mark.parametrize("sequencers", [True, False], ids=["s3-events", "no-sequencer"])
def test_reupload_during_a_render_ends_with_the_new_version_everywhere(world, sequencers):
    s3, records, plain, etag_1 = world
    worker_b = Pipeline(plain, plain, records)

    def reupload():
        put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg(300, 900, (0, 0, 255)))
        hint = EventHint(etag=put["ETag"].strip('"'), sequencer="0002" if sequencers else None)
        assert process_object(worker_b, KEY, event=hint).status == Result.COMPLETE

    worker_a = Pipeline(Interleaved(BUCKET, reupload), plain, records)
    hint = EventHint(etag=etag_1, sequencer="0001" if sequencers else None)
    process_object(worker_a, KEY, event=hint)
    # THEN the record, every variant and the manifest describe version 2
    current = s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"')
    record = records.get(KEY)
    assert record["source"]["etag"] == current != etag_1
    assert record["originalDimensions"] == {"width": 300, "height": 900}
    assert large_size(s3) == (300, 900)
    assert (manifest(s3)["width"], manifest(s3)["height"]) == (300, 900)


def test_delete_during_a_render_leaves_nothing(world):
    s3, records, plain, etag_1 = world
    worker_b = Pipeline(plain, plain, records)

    def delete():
        s3.delete_object(Bucket=BUCKET, Key=KEY)
        assert remove_object(worker_b, KEY).status == Result.DELETED

    worker_a = Pipeline(Interleaved(BUCKET, delete), plain, records)
    outcome = process_object(worker_a, KEY, event=EventHint(etag=etag_1, sequencer="0001"))
    assert outcome.status == Result.IGNORED
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/").get("KeyCount", 0) == 0
    assert records.get(KEY) is None and records.get(f"{KEY}#placeholder") is None


def test_a_late_create_event_cleans_up_what_a_racing_run_left(world):
    s3, records, plain, etag_1 = world
    pipeline = Pipeline(plain, plain, records)
    process_object(pipeline, KEY)
    s3.delete_object(Bucket=BUCKET, Key=KEY)  # the delete event was lost
    outcome = process_object(pipeline, KEY, event=EventHint(etag=etag_1))
    assert outcome.status == Result.IGNORED and "removed 7 leftover" in outcome.message
    assert records.get(KEY) is None
