"""End to end over real HTTP: moto's server stands in for S3, SQS and DynamoDB.

upload under uploads/ → S3 notification on SQS → handler → variants and records →
`imgproc verify` exits 0 → a variant goes missing → exit 1 naming it → `verify --fix` → 0.
The CLI runs as a real subprocess, so boto3's wire path and the console script are exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.aws_fixtures import LambdaContext, create_table
from tests.support.images import jpeg_with_orientation, plain_jpeg, transparent_png

BUCKET, TABLE, QUEUE, REGION = "e2e-media", "e2e-records", "e2e-uploads", "us-east-1"
IMGPROC = str(Path(sys.executable).parent / "imgproc")


@pytest.fixture
def stack(moto_server, aws_env, monkeypatch):
    server = moto_server
    """Bucket → SQS notifications (uploads/ only), the table, and clients over HTTP."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("IMAGE_METADATA_TABLE", TABLE)
    s3 = boto3.client("s3", endpoint_url=server, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=server, region_name=REGION)
    dynamodb = boto3.client("dynamodb", endpoint_url=server, region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{
            "Id": "imgproc-uploads", "QueueArn": queue_arn,
            "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
        }]})
    create_table(dynamodb, TABLE)
    return {"s3": s3, "sqs": sqs, "dynamodb": dynamodb, "queue_url": queue_url,
            "endpoint": server}


def drain_into_handler(stack) -> dict:
    """Receive what S3 sent to the queue and hand it to the handler as Lambda would."""
    from imgproc.lambda_handler import handler

    sqs, queue_url = stack["sqs"], stack["queue_url"]
    failures = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return {"batchItemFailures": failures}
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:{REGION}:123:{QUEUE}",
            "awsRegion": REGION} for m in messages]}
        response = handler(event, LambdaContext())
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        failures += response["batchItemFailures"]
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        if failed:
            return {"batchItemFailures": failures}


def imgproc(stack, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack["endpoint"], "COLUMNS": "200"}
    return subprocess.run(
        [IMGPROC, "--bucket", BUCKET, "--table", TABLE, "--region", REGION, *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_upload_to_verify_fix_over_http(stack):
    s3 = stack["s3"]
    # GIVEN uploads (one with an awkward key) that S3 announces on the queue
    s3.put_object(Bucket=BUCKET, Key="uploads/a/IMG 1+2 Über.JPG", Body=jpeg_with_orientation(6))
    s3.put_object(Bucket=BUCKET, Key="uploads/logo.png", Body=transparent_png())
    s3.put_object(Bucket=BUCKET, Key="notes/readme.txt", Body=b"outside the input prefix")
    # WHEN the handler consumes the queue
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    # THEN variants and records exist and verify agrees
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/")["Contents"]
    assert len(listing) == 14  # 6 variants and a manifest each
    status = imgproc(stack, "--json", "status", "uploads/a/IMG 1+2 Über.JPG")
    assert status.returncode == 0, status.stderr
    record = json.loads(status.stdout)
    assert record["status"] == "COMPLETE" and record["originalDimensions"]["width"] == 600
    first = imgproc(stack, "verify")
    assert first.returncode == 0, first.stdout + first.stderr

    # a variant goes missing
    missing = "processed/uploads/logo.png/webp-medium.webp"
    s3.delete_object(Bucket=BUCKET, Key=missing)
    broken = imgproc(stack, "verify")
    assert broken.returncode == 1
    assert missing in broken.stdout
    fixed = imgproc(stack, "verify", "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    s3.head_object(Bucket=BUCKET, Key=missing)
    assert imgproc(stack, "verify", "--deep").returncode == 0


def test_bad_upload_and_delete_over_http(stack):
    s3 = stack["s3"]
    s3.put_object(Bucket=BUCKET, Key="uploads/fake.jpg", Body=b"<!doctype html><p>hi</p>")
    s3.put_object(Bucket=BUCKET, Key="uploads/ok.jpg", Body=plain_jpeg())
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    failures = imgproc(stack, "--json", "failures")
    errors = [json.loads(line) for line in failures.stdout.splitlines()]
    assert [(e["key"], e["errorType"]) for e in errors] == [("uploads/fake.jpg",
                                                            "UnsupportedFormat")]
    # deleting an original removes its variants and records
    s3.delete_object(Bucket=BUCKET, Key="uploads/ok.jpg")
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/uploads/ok")
    assert imgproc(stack, "status", "uploads/ok.jpg").returncode == 1


def test_reprocess_remote_and_triggers_over_http(stack):
    s3, sqs = stack["s3"], stack["sqs"]
    s3.put_object(Bucket=BUCKET, Key="uploads/one.jpg", Body=plain_jpeg())
    drain_into_handler(stack)
    original = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    original.pop("ResponseMetadata")

    # triggers off: uploads no longer reach the queue; on again: exactly as before
    assert imgproc(stack, "triggers", "disable").returncode == 0
    assert {k: v for k, v in s3.get_bucket_notification_configuration(Bucket=BUCKET).items()
            if k != "ResponseMetadata"} == {}
    s3.put_object(Bucket=BUCKET, Key="uploads/two.jpg", Body=plain_jpeg())
    assert sqs.receive_message(QueueUrl=stack["queue_url"]).get("Messages") is None
    assert imgproc(stack, "triggers", "enable").returncode == 0
    restored = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    restored.pop("ResponseMetadata")
    assert restored == original

    # the backfill goes through the deployed pipeline's queue
    dry = imgproc(stack, "reprocess", "--dry-run")
    assert "would process" in dry.stdout and "uploads/two.jpg" in dry.stdout
    sent = imgproc(stack, "--queue-url", stack["queue_url"], "reprocess", "--remote", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout.splitlines()[-1])["sent"] == 1  # one.jpg is up to date
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    assert imgproc(stack, "verify").returncode == 0
