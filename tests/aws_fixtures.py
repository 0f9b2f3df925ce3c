"""AWS test fixtures on moto: a bucket, the records table (with its error index), a queue.

Imported by the AWS test modules (pytest plugin-style via `pytest_plugins` in conftest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "imgproc-test-bucket"
TABLE = "imgproc-records"
REGION = "eu-west-1"
EVENTS = Path(__file__).parent / "events"


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a real Lambda context."""

    function_name: str = "imgproc-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:imgproc-test"
    aws_request_id: str = "0b0b0b0b-1111-2222-3333-444444444444"
    log_group_name: str = "/aws/lambda/imgproc-test"
    log_stream_name: str = "2026/11/25/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region, and no cached clients or pipelines from other tests."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "IMAGE_METADATA_TABLE": TABLE, "POWERTOOLS_METRICS_NAMESPACE": "imgproc",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "CLOUDFRONT_DISTRIBUTION",
                 "CLOUDFRONT_DISTRIBUTION_ID", "IMGPROC_CONFIG", "MAX_IMAGE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    from imgproc import lambda_handler
    from imgproc.aws import clients

    clients.reset_clients()
    lambda_handler._pipelines.clear()
    yield
    clients.reset_clients()
    lambda_handler._pipelines.clear()


def create_table(dynamodb, name: str = TABLE, error_index: bool = True) -> None:
    options = {}
    if error_index:
        options["GlobalSecondaryIndexes"] = [{
            "IndexName": "errors",
            "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }]
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}]
        + ([{"AttributeName": "key", "AttributeType": "S"}] if error_index else []),
        BillingMode="PAY_PER_REQUEST",
        **options,
    )


@pytest.fixture
def aws(aws_env):
    """moto in-process with the bucket and table created; yields (s3, dynamodb) clients."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb)
        yield s3, dynamodb
