"""Faults between the pipeline and its stores, injected at botocore's wire hook.

Throttling (503 SlowDown, ProvisionedThroughputExceeded), 500s, dropped connections and
latency: a fault botocore's retries absorb changes nothing; one that persists is reported for
retry (`batchItemFailures`), never recorded as the picture's fault, and never leaves a
COMPLETE record with missing variants.
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

from imgproc.lambda_handler import handler, pipeline_for
from tests.aws_fixtures import BUCKET, TABLE, LambdaContext, load_event
from tests.support.images import plain_jpeg

KEY = "uploads/u1/My Photo+1 Über.jpg"
CONTEXT = LambdaContext()


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        return self._body


def s3_error(status: int, code: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    return AWSResponse("https://s3", status, {"Content-Type": "application/xml"}, _Raw(body))


def dynamodb_error(status: int, code: str) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                       "message": "injected"}).encode()
    return AWSResponse("https://dynamodb", status,
                       {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))


class Fault:
    """A before-send hook answering the first `times` matching calls with a fault."""

    def __init__(self, make, times: int = 10**9):
        self.make, self.times, self.calls = make, times, 0

    def __call__(self, **_):
        self.calls += 1
        if self.calls <= self.times:
            return self.make()
        return None


def inject(client, operation: str, fault: Fault) -> Fault:
    service = client.meta.service_model.service_name
    client.meta.events.register_first(f"before-send.{service}.{operation}", fault)
    return fault


def drop_connection():
    raise ConnectionClosedError(endpoint_url="https://injected")


def records(dynamodb) -> dict:
    from imgproc.stores.dynamodb import DynamoRecordStore

    return {r["id"]: r for r in DynamoRecordStore(TABLE).scan()}


def assert_no_complete_record_with_missing_variants(s3, dynamodb):
    for record in records(dynamodb).values():
        if record.get("type") == "IMAGE_METADATA" and record["status"] == "COMPLETE":
            for variant in record["processedVariants"]:
                s3.head_object(Bucket=BUCKET, Key=variant["key"])


def sqs_batch():
    """A TestEvent (always succeeds) and the upload: a partial batch failure is visible."""
    event = load_event("sqs_s3_put.json")
    template = event["Records"][0]
    event["Records"] = [
        {**template, "messageId": "test-event", "body": json.dumps(load_event(
            "s3_test_event.json"))},
        {**template, "messageId": "upload"},
    ]
    return event


@pytest.fixture
def stores(aws, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")  # two faults absorbed; persistent ones fail fast
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg())
    pipeline = pipeline_for(BUCKET)
    return s3, dynamodb, pipeline.outputs.s3, pipeline.records.dynamodb


@pytest.mark.parametrize(("service", "operation", "make"), [
    ("s3", "PutObject", lambda: s3_error(503, "SlowDown")),
    ("s3", "GetObject", lambda: s3_error(500, "InternalError")),
    ("s3", "HeadObject", drop_connection),
    ("dynamodb", "PutItem",
     lambda: dynamodb_error(400, "ProvisionedThroughputExceededException")),
    ("dynamodb", "GetItem", lambda: dynamodb_error(500, "InternalServerError")),
])
def test_a_fault_that_retries_absorb_changes_nothing(stores, service, operation, make):
    s3, dynamodb, s3_client, dynamodb_client = stores
    client = s3_client if service == "s3" else dynamodb_client
    fault = inject(client, operation, Fault(make, times=2))
    assert handler(sqs_batch(), CONTEXT) == {"batchItemFailures": []}
    assert fault.calls >= 3  # two faults, then the call that went through
    assert records(dynamodb)[KEY]["status"] == "COMPLETE"
    assert_no_complete_record_with_missing_variants(s3, dynamodb)


@pytest.mark.parametrize(("service", "operation", "make"), [
    ("s3", "PutObject", lambda: s3_error(503, "SlowDown")),
    ("s3", "GetObject", drop_connection),
    ("s3", "HeadObject", lambda: s3_error(500, "InternalError")),
    ("dynamodb", "PutItem",
     lambda: dynamodb_error(400, "ProvisionedThroughputExceededException")),
    ("dynamodb", "UpdateItem", lambda: dynamodb_error(500, "InternalServerError")),
    ("dynamodb", "GetItem", drop_connection),
])
def test_a_persistent_fault_is_reported_for_retry_and_never_recorded(stores, service,
                                                                     operation, make):
    s3, dynamodb, s3_client, dynamodb_client = stores
    if operation == "UpdateItem":  # only a failed picture writes an error record
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"not a picture")
    client = s3_client if service == "s3" else dynamodb_client
    fault = inject(client, operation, Fault(make))
    # WHEN the fault persists beyond botocore's retries
    response = handler(sqs_batch(), CONTEXT)
    # THEN only the upload's message is retried, and nothing blames the picture
    assert response == {"batchItemFailures": [{"itemIdentifier": "upload"}]}
    assert fault.calls >= 2
    stored = records(dynamodb)
    if operation != "UpdateItem":
        assert KEY not in stored or stored[KEY]["status"] != "FAILED"
        assert f"error#{KEY}" not in stored
    assert_no_complete_record_with_missing_variants(s3, dynamodb)
    # AND once the store recovers, the retry completes the work
    fault.times = 0
    assert handler(sqs_batch(), CONTEXT) == {"batchItemFailures": []}
    final = records(dynamodb)[KEY]
    assert final["status"] == ("FAILED" if operation == "UpdateItem" else "COMPLETE")
    assert_no_complete_record_with_missing_variants(s3, dynamodb)


def test_latency_slows_but_never_fails(stores):
    _s3, dynamodb, s3_client, dynamodb_client = stores

    def slow(**_):
        time.sleep(0.05)

    s3_client.meta.events.register_first("before-send.s3.*", slow)
    dynamodb_client.meta.events.register_first("before-send.dynamodb.*", slow)
    started = time.monotonic()
    assert handler(sqs_batch(), CONTEXT) == {"batchItemFailures": []}
    assert time.monotonic() - started > 0.05 * 8  # every call was slowed
    assert records(dynamodb)[KEY]["status"] == "COMPLETE"
