"""End to end over real HTTP: moto's server stands in for S3, SQS and DynamoDB.

upload under uploads/ → S3 notification on SQS → handler → variants and records →
`imgproc verify` exits 0 → a variant goes missing → exit 1 naming it → `verify --fix` → 0.
The CLI runs as a real subprocess, so boto3's wire path and the console script are exercised.
"""

from __future__ import annotations

import json

from tests.support.images import jpeg_with_orientation, plain_jpeg, transparent_png
from tests.support.moto_pipeline import BUCKET, drain_into_handler, imgproc


def test_upload_to_verify_fix_over_http(stack):
    s3 = stack.s3
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
    s3 = stack.s3
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
    s3, sqs = stack.s3, stack.sqs
    s3.put_object(Bucket=BUCKET, Key="uploads/one.jpg", Body=plain_jpeg())
    drain_into_handler(stack)
    original = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    original.pop("ResponseMetadata")

    # triggers off: uploads no longer reach the queue; on again: exactly as before
    assert imgproc(stack, "triggers", "disable").returncode == 0
    assert {k: v for k, v in s3.get_bucket_notification_configuration(Bucket=BUCKET).items()
            if k != "ResponseMetadata"} == {}
    s3.put_object(Bucket=BUCKET, Key="uploads/two.jpg", Body=plain_jpeg())
    assert sqs.receive_message(QueueUrl=stack.queue_url).get("Messages") is None
    assert imgproc(stack, "triggers", "enable").returncode == 0
    restored = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    restored.pop("ResponseMetadata")
    assert restored == original

    # the backfill goes through the deployed pipeline's queue
    dry = imgproc(stack, "reprocess", "--dry-run")
    assert "would process" in dry.stdout and "uploads/two.jpg" in dry.stdout
    sent = imgproc(stack, "--queue-url", stack.queue_url, "reprocess", "--remote", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout.splitlines()[-1])["sent"] == 1  # one.jpg is up to date
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    assert imgproc(stack, "verify").returncode == 0
