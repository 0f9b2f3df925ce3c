"""One contract, two record stores: SQLite (embedded) and DynamoDB (moto, in-process)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from imgproc import records as rec
from imgproc.aws.clients import AwsSettings
from imgproc.errors import BadImage, TransientError
from imgproc.focal import FocalPoint
from imgproc.keys import error_id
from imgproc.stores import SqliteRecordStore
from imgproc.stores.base import ObjectInfo
from imgproc.stores.dynamodb import DynamoRecordStore
from tests.aws_fixtures import create_table

TABLE = "image-metadata"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def dynamodb(aws_clients):
    """A low-level DynamoDB client on moto; no table yet."""
    return aws_clients("dynamodb")


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SqliteRecordStore(tmp_path / "metadata.db")
    dynamodb = request.getfixturevalue("dynamodb")
    create_table(dynamodb, TABLE)
    return DynamoRecordStore(TABLE, dynamodb=dynamodb)


# --- records ---------------------------------------------------------------------------------


EXIF = {"make": "Google", "model": "Pixel 7", "fNumber": 1.7, "exposureTime": "1/250",
        "iso": 640, "focalLength": 4.2, "lensModel": None, "dateTaken": None}


def image(key: str = "uploads/u1/IMG 1.JPG", last_modified: str = "2024-05-01T10:00:00.000000Z",
          sequencer: str | None = "0055AED6DCD90281E5") -> dict:
    info = ObjectInfo(key=key, size=123456, etag="9b2cf535f27731c974343645a3985328",
                      last_modified=last_modified, version_id=None)
    rendition = SimpleNamespace(
        width=4032, height=3024, format="jpeg", placeholder="data:image/jpeg;base64,AAAA",
        exif=EXIF, thumbhash="1QcSHQRnh493V4dIh4eXh1h4kJUI", dominant_color="#6f7a5c",
        failures={"avif-large": "AVIF encoder unavailable"}, withheld={},
        focal_point=FocalPoint(0.62, 0.41),
    )
    variants = [
        {"name": "webp-medium", "key": f"processed/{key}/webp-medium.webp", "width": 1024,
         "height": 768, "format": "webp", "contentType": "image/webp", "size": 54321},
        {"name": "jpg-thumb", "key": f"processed/{key}/jpg-thumb.jpg", "url": None,
         "width": 320, "height": 240, "format": "jpeg", "contentType": "image/jpeg",
         "size": 9876},
    ]
    return rec.image_record(
        key=key, source=rec.source_of("media", info, sequencer),
        size=info.size, rendition=rendition, variants=variants, config_hash="c0ffee",
        duration_ms=812, processed_at="2024-05-01T10:00:01.250Z",
    )


def error(key: str, message: str = "The file is empty.") -> dict:
    return rec.error_record(key=key, bucket="media", error=BadImage(message), etag=None,
                            timestamp="2024-05-01T10:00:02.000Z")


# --- the contract, for both stores ---------------------------------------------------------


def test_get_missing_is_none(store):
    assert store.get("uploads/none.jpg") is None


def test_put_get_round_trip(store):
    record = image()
    assert record["exif"]["fNumber"] == 1.7 and record["variantErrors"]
    store.put(record)
    got = store.get(record["id"])
    assert got == record
    assert isinstance(got["exif"]["fNumber"], float) and isinstance(got["size"], int)
    assert got["focalPoint"] == {"x": 0.62, "y": 0.41} and isinstance(got["focalPoint"]["x"], float)
    assert got["processedVariants"][1]["url"] is None and got["exif"]["lensModel"] is None


def test_put_replaces(store):
    store.put({"id": "a", "type": "X", "old": True})
    store.put({"id": "a", "type": "X", "flag": False, "ratio": 0.5, "empty": ""})
    assert store.get("a") == {"id": "a", "type": "X", "flag": False, "ratio": 0.5, "empty": ""}


def test_put_unless_newer_writes_when_absent_equal_or_newer(store):
    first = image(last_modified="2024-05-01T10:00:00.000000Z")
    assert store.put_unless_newer(first) is True
    again = {**first, "status": rec.Status.COMPLETE}
    assert store.put_unless_newer(again) is True
    newer = {**image(last_modified="2024-05-02T10:00:00.000000Z"), "size": 1}
    assert store.put_unless_newer(newer) is True
    assert store.get(first["id"]) == newer


def test_put_unless_newer_never_goes_back_in_time(store):
    newer = image(last_modified="2024-05-02T10:00:00.000000Z")
    store.put(newer)
    older = {**image(last_modified="2024-05-01T10:00:00.000000Z"), "status": rec.Status.COMPLETE}
    assert store.put_unless_newer(older) is False
    assert store.get(newer["id"]) == newer
    same_time_lower_sequencer = image(sequencer="0055AED6DCD9028100")
    assert store.put_unless_newer(same_time_lower_sequencer) is False


def test_put_unless_newer_over_a_record_without_order(store):
    store.put({"id": "k", "type": rec.RecordType.IMAGE, "sourceOrder": None})
    assert store.put_unless_newer(image(key="k")) is True
    store.put({"id": "j", "type": rec.RecordType.IMAGE})
    assert store.put_unless_newer(image(key="j")) is True


def test_add_error_counts_attempts(store):
    record = error("uploads/bad.jpg")
    for count in (1, 2, 3):
        returned = store.add_error({**record, "timestamp": f"2024-05-01T10:00:0{count}.000Z"})
        assert returned == {**record, "timestamp": returned["timestamp"], "retryCount": count}
        assert store.get(record["id"]) == returned
    assert store.get(record["id"])["timestamp"] == "2024-05-01T10:00:03.000Z"


def test_delete_several_including_missing(store):
    for key in ("a", "b", "c"):
        store.put(image(key=key))
    store.delete(["a", "c", "nope", "a"])
    store.delete([])
    assert [r["id"] for r in store.scan()] == ["b"]


def test_scan_by_type_and_errors(store):
    store.put(image(key="uploads/a.jpg"))
    store.put(rec.placeholder_record("uploads/a.jpg", "data:image/png;base64,AA", "2024-05-01"))
    store.add_error(error("uploads/b.jpg"))
    store.add_error(error("uploads/c.jpg"))
    store.put({"id": rec.TRIGGERS_ID, "type": "CONFIG", "configuration": {"key": "k"}})
    assert sorted(r["id"] for r in store.scan()) == sorted(
        ["uploads/a.jpg", "uploads/a.jpg#placeholder", error_id("uploads/b.jpg"),
         error_id("uploads/c.jpg"), rec.TRIGGERS_ID]
    )
    assert [r["id"] for r in store.scan(rec.RecordType.IMAGE)] == ["uploads/a.jpg"]
    assert list(store.scan("NO_SUCH_TYPE")) == []
    errors = sorted(store.errors(), key=lambda r: r["key"])
    assert [r["key"] for r in errors] == ["uploads/b.jpg", "uploads/c.jpg"]
    assert all(r["type"] == rec.RecordType.ERROR and r["retryCount"] == 1 for r in errors)


# --- DynamoDB only -------------------------------------------------------------------------


def test_errors_fall_back_to_a_scan_without_the_index(dynamodb):
    create_table(dynamodb, "plain", error_index=False)
    store = DynamoRecordStore("plain", dynamodb=dynamodb)
    store.put(image(key="uploads/a.jpg"))
    store.add_error(error("uploads/b.jpg"))
    assert [r["key"] for r in store.errors()] == ["uploads/b.jpg"]
    assert store._has_error_index is False
    assert [r["key"] for r in store.errors()] == ["uploads/b.jpg"]


def test_errors_use_the_index(dynamodb, monkeypatch):
    create_table(dynamodb, TABLE)
    store = DynamoRecordStore(TABLE, dynamodb=dynamodb)
    store.add_error(error("uploads/b.jpg"))
    assert [r["retryCount"] for r in store.errors()] == [1]
    assert store._has_error_index is True


def test_a_missing_table_is_transient(dynamodb):
    store = DynamoRecordStore("no-such-table", dynamodb=dynamodb)
    calls = [
        lambda: store.get("a"),
        lambda: store.put(image()),
        lambda: store.put_unless_newer(image()),
        lambda: store.add_error(error("a")),
        lambda: store.delete(["a"]),
        lambda: list(store.scan()),
        lambda: list(store.errors()),
    ]
    for call in calls:
        with pytest.raises(TransientError, match=r"no-such-table.*ResourceNotFoundException"):
            call()


@pytest.mark.parametrize("failure", [
    ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                           "Message": "Rate exceeded"}}, "PutItem"),
    EndpointConnectionError(endpoint_url="http://localhost:1"),
])
def test_throttling_and_connection_errors_are_transient(dynamodb, monkeypatch, failure):
    create_table(dynamodb, TABLE)
    store = DynamoRecordStore(TABLE, dynamodb=dynamodb)

    def fail(**_):
        raise failure

    for method in ("put_item", "get_item", "update_item", "batch_write_item"):
        monkeypatch.setattr(dynamodb, method, fail)
    for call in (lambda: store.put_unless_newer(image()), lambda: store.get("a"),
                 lambda: store.add_error(error("a")), lambda: store.delete(["a"])):
        with pytest.raises(TransientError, match=TABLE):
            call()


def test_unprocessed_deletes_are_retried_then_transient(dynamodb, monkeypatch):
    create_table(dynamodb, TABLE)
    store = DynamoRecordStore(TABLE, dynamodb=dynamodb)
    monkeypatch.setattr("imgproc.stores.dynamodb._BACKOFF", 0)
    store.put(image(key="a"))
    real, calls = dynamodb.batch_write_item, []

    def flaky(RequestItems):
        calls.append(RequestItems)
        if len(calls) == 1:  # the first answer leaves everything unprocessed
            return {"UnprocessedItems": RequestItems}
        return real(RequestItems=RequestItems)

    monkeypatch.setattr(dynamodb, "batch_write_item", flaky)
    store.delete(["a"])
    assert len(calls) == 2 and store.get("a") is None
    monkeypatch.setattr(dynamodb, "batch_write_item", lambda RequestItems: {
        "UnprocessedItems": RequestItems})
    with pytest.raises(TransientError, match="unprocessed"):
        store.delete(["a"])


def test_many_deletes(dynamodb):
    create_table(dynamodb, TABLE)
    store = DynamoRecordStore(TABLE, dynamodb=dynamodb)
    ids = [f"uploads/{i:03}.jpg" for i in range(60)]
    for record_id in ids:
        store.put({"id": record_id, "type": rec.RecordType.IMAGE})
    store.delete(record_id for record_id in [*ids[:55], "uploads/none.jpg"])
    assert sorted(r["id"] for r in store.scan()) == ids[55:]


def test_over_moto_http_server(moto_server, aws_env):
    """The real wire path: cached client from AwsSettings, HTTP, JSON, retries config."""
    settings = AwsSettings(endpoint_url=moto_server, region="eu-west-1")
    store = DynamoRecordStore("wire", settings)
    create_table(store.dynamodb, "wire")
    record = image()
    assert store.put_unless_newer(record) is True
    assert store.put_unless_newer(image(last_modified="2000-01-01T00:00:00Z")) is False
    assert store.get(record["id"]) == record
    assert store.add_error(error("x"))["retryCount"] == 1
    assert [r["key"] for r in store.errors()] == ["x"]
    store.delete([record["id"], error_id("x")])
    assert list(store.scan()) == []


def test_get_many_returns_the_existing_records_across_batches(store):
    ids = [f"uploads/{i:03}.jpg" for i in range(230)]
    for record_id in ids[::3]:
        store.put({"id": record_id, "type": rec.RecordType.IMAGE, "n": int(record_id[8:11])})
    asked = [*ids, ids[0], "uploads/none.jpg"]  # a repeat and a missing id
    found = store.get_many(asked)
    assert sorted(found) == ids[::3]
    assert all(found[i]["n"] == int(i[8:11]) for i in found)
    assert store.get_many([]) == {}


def test_unprocessed_reads_are_retried_then_transient(dynamodb, monkeypatch):
    create_table(dynamodb, TABLE)
    store = DynamoRecordStore(TABLE, dynamodb=dynamodb)
    monkeypatch.setattr("imgproc.stores.dynamodb._BACKOFF", 0)
    store.put(image(key="a"))
    store.put(image(key="b"))
    real, calls = dynamodb.batch_get_item, []

    def flaky(RequestItems):
        calls.append(RequestItems)
        if len(calls) == 1:  # the first answer returns nothing and leaves every key unprocessed
            return {"Responses": {TABLE: []}, "UnprocessedKeys": RequestItems}
        return real(RequestItems=RequestItems)

    monkeypatch.setattr(dynamodb, "batch_get_item", flaky)
    assert sorted(store.get_many(["a", "b"])) == ["a", "b"] and len(calls) == 2
    assert calls[0][TABLE]["ConsistentRead"] is True
    monkeypatch.setattr(dynamodb, "batch_get_item", lambda RequestItems: {
        "Responses": {}, "UnprocessedKeys": RequestItems})
    with pytest.raises(TransientError, match="unprocessed"):
        store.get_many(["a"])
