"""The Lambda handler answering S3 Batch Operations, on moto.

The events are AWS's documented examples (`tests/events/batch_operations_1_0.json` and
`batch_operations_2_0.json`: the 1.0 request of the "Invoke AWS Lambda function" page and the
2.0 request with `userArguments` and `s3Bucket`), with this suite's bucket and key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from imgproc.aws.events import parse_batch_operations
from imgproc.lambda_handler import handler, pipeline_for
from tests.aws_fixtures import BUCKET, TABLE, LambdaContext, load_event
from tests.support.images import plain_jpeg

KEY = "uploads/u1/My Photo+1 Über.jpg"  # what the fixtures' "My+Photo%2B1+%C3%9Cber.jpg" is
SCHEMAS = ["batch_operations_1_0.json", "batch_operations_2_0.json"]
CONTEXT = LambdaContext()


def record(key: str) -> dict | None:
    from imgproc.stores.dynamodb import DynamoRecordStore

    return DynamoRecordStore(TABLE).get(key)


def invocation(fixture: str, *raw_keys: str, force: bool | None = None) -> dict:
    """The fixture with one task per (still URL-encoded) key."""
    event = load_event(fixture)
    template = event["tasks"][0]
    event["tasks"] = [{**copy.deepcopy(template), "taskId": f"task-{i}", "s3Key": raw}
                      for i, raw in enumerate(raw_keys)]
    if force is not None:
        event["job"]["userArguments"] = {"force": "true" if force else "false"}
    return event


def by_task(response: dict) -> dict[str, dict]:
    return {result["taskId"]: result for result in response["results"]}


@pytest.mark.parametrize("fixture", SCHEMAS)
def test_the_documented_events_render_their_decoded_key(aws, fixture):
    s3, _dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg())
    event = load_event(fixture)
    response = handler(event, CONTEXT)
    assert response == {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event["invocationId"],
        "results": [{"taskId": event["tasks"][0]["taskId"], "resultCode": "Succeeded",
                     "resultString": "COMPLETE"}],
    }
    assert record(KEY)["status"] == "COMPLETE"


@pytest.mark.parametrize("fixture", SCHEMAS)
def test_good_bad_and_transient_objects_in_one_invocation(aws, monkeypatch, fixture):
    # GIVEN a picture, a text file named .jpg, and a picture whose HEAD S3 answers with 503
    s3, _dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key="uploads/good.jpg", Body=plain_jpeg())
    s3.put_object(Bucket=BUCKET, Key="uploads/bad.jpg", Body=b"<html>not an image</html>")
    s3.put_object(Bucket=BUCKET, Key="uploads/busy.jpg", Body=plain_jpeg())
    originals = pipeline_for(BUCKET).originals
    real_head = originals.s3.head_object

    def head(**kwargs):
        if kwargs["Key"] == "uploads/busy.jpg":
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "HeadObject")
        return real_head(**kwargs)

    monkeypatch.setattr(originals.s3, "head_object", head)
    # WHEN Batch Operations sends all three in one invocation
    response = handler(invocation(fixture, "uploads/good.jpg", "uploads/bad.jpg",
                                  "uploads/busy.jpg"), CONTEXT)
    # THEN each task has its own result, and the records are those of any other event
    results = by_task(response)
    assert [r["taskId"] for r in response["results"]] == ["task-0", "task-1", "task-2"]
    assert results["task-0"] == {"taskId": "task-0", "resultCode": "Succeeded",
                                 "resultString": "COMPLETE"}
    assert results["task-1"]["resultCode"] == "PermanentFailure"
    error = record("error#uploads/bad.jpg")
    assert error["errorType"] == "UnsupportedFormat" and error["retryCount"] == 1
    assert results["task-1"]["resultString"] == error["error"]
    assert error["error"].endswith(".") and "html" in error["error"].lower()
    assert results["task-2"]["resultCode"] == "TemporaryFailure"
    assert "SlowDown" in results["task-2"]["resultString"]
    assert record("uploads/good.jpg")["status"] == "COMPLETE"
    assert record("uploads/busy.jpg") is None and record("error#uploads/busy.jpg") is None


@pytest.mark.parametrize("raw,key", [
    ("uploads/My+Photo.jpg", "uploads/My Photo.jpg"),  # '+' is a space
    ("uploads/a%2Bb.jpg", "uploads/a+b.jpg"),  # '%2B' is a plus
    ("uploads/%C3%9Cber%20caf%C3%A9.jpg", "uploads/Über café.jpg"),  # UTF-8, '%20' a space
    ("uploads/%E7%8C%AB/%F0%9F%90%88.jpg", "uploads/猫/🐈.jpg"),
    ("uploads/100%25+done%2C+really.jpg", "uploads/100% done, really.jpg"),
])
@pytest.mark.parametrize("fixture", SCHEMAS)
def test_url_encoded_keys_decode_exactly(aws, fixture, raw, key):
    s3, _dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg())
    response = handler(invocation(fixture, raw), CONTEXT)
    assert response["results"][0]["resultCode"] == "Succeeded"
    assert record(key)["status"] == "COMPLETE"
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"processed/{key}/")
    assert listing["KeyCount"] == 7  # six variants and the manifest


def test_a_key_that_is_not_utf8_fails_that_task_only(aws):
    s3, _dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key="uploads/ok.jpg", Body=plain_jpeg())
    response = handler(invocation(SCHEMAS[1], "uploads/%FF%FE.jpg", "uploads/ok.jpg"), CONTEXT)
    results = by_task(response)
    assert results["task-0"]["resultCode"] == "PermanentFailure"
    assert results["task-0"]["resultString"] == (
        "The key 'uploads/%FF%FE.jpg' is not URL-encoded UTF-8, so it names no object imgproc "
        "can read.")
    assert results["task-1"]["resultCode"] == "Succeeded"


def test_force_comes_from_the_jobs_user_arguments(aws):
    s3, _dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg())
    handler(load_event(SCHEMAS[1]), CONTEXT)
    before = record(KEY)["processedAt"]
    again = handler(invocation(SCHEMAS[1], "uploads/u1/My+Photo%2B1+%C3%9Cber.jpg",
                               force=False), CONTEXT)
    assert again["results"][0] == {"taskId": "task-0", "resultCode": "Succeeded",
                                   "resultString": "SKIPPED: up to date"}
    assert record(KEY)["processedAt"] == before
    forced = handler(invocation(SCHEMAS[1], "uploads/u1/My+Photo%2B1+%C3%9Cber.jpg",
                                force=True), CONTEXT)
    assert forced["results"][0]["resultString"] == "COMPLETE"
    assert record(KEY)["processedAt"] > before


def test_objects_outside_the_input_prefix_succeed_as_ignored(aws):
    """An inventory manifest lists the whole bucket: its variants and reports are no work."""
    _s3, dynamodb = aws
    response = handler(invocation(SCHEMAS[0], "processed/uploads/a.jpg/thumbnail.jpg",
                                  "imgproc-reports/job-1/manifest.json"), CONTEXT)
    assert [r["resultCode"] for r in response["results"]] == ["Succeeded", "Succeeded"]
    assert response["results"][0]["resultString"] == "IGNORED: outside the input prefix uploads/"
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


@dataclass
class AlmostOutOfTime(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 2_000


def test_a_task_not_started_for_lack_of_time_is_a_temporary_failure(aws):
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg())
    response = handler(load_event(SCHEMAS[1]), AlmostOutOfTime())
    (result,) = response["results"]
    assert result["resultCode"] == "TemporaryFailure"
    assert result["resultString"].startswith("not started: 2.0 s left in this invocation")
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


@pytest.mark.parametrize("task,bucket", [
    ({"s3BucketArn": "arn:aws:s3:::media"}, "media"),
    ({"s3BucketArn": "arn:aws:s3:us-east-1:0123456788:media"}, "media"),  # AWS's own example
    ({"s3Bucket": "media"}, "media"),
    ({"s3BucketName": "media"}, "media"),
])
def test_the_bucket_is_read_from_either_schema(task, bucket):
    event = {"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
             "tasks": [{"taskId": "t", "s3Key": "uploads/a.jpg", "s3VersionId": None, **task}]}
    (parsed,) = parse_batch_operations(event).tasks
    assert parsed.event.bucket == bucket and parsed.event.key == "uploads/a.jpg"
