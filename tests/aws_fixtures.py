"""AWS test fixtures on moto: fake credentials (`aws_env`), in-process clients (`aws_clients`),
the bucket and records table (`aws`), and moto's HTTP server (`moto_server`).

Imported by the AWS test modules (pytest plugin-style via `pytest_plugins` in conftest).
"""

from __future__ import annotations

import json
import urllib.request
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
def aws_clients(aws_env):
    """moto in-process, nothing created yet; yields a client factory: `aws_clients("sqs")`."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def aws(aws_clients):
    """moto in-process with the bucket and table created; yields (s3, dynamodb) clients."""
    s3 = aws_clients("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    dynamodb = aws_clients("dynamodb")
    create_table(dynamodb)
    return s3, dynamodb


@pytest.fixture(scope="session")
def _moto_http_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_server(_moto_http_server):
    """moto's HTTP server (AWS over real HTTP; one per session), emptied for each test;
    yields its URL."""
    request = urllib.request.Request(f"{_moto_http_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()
    return _moto_http_server


@pytest.fixture
def stack(moto_server, aws_env, monkeypatch):
    """The pipeline's AWS side on moto's HTTP server (`tests.support.moto_pipeline`); the
    handler in this process reaches it through AWS_ENDPOINT_URL."""
    from tests.support.moto_pipeline import REGION, TABLE, make_stack

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("IMAGE_METADATA_TABLE", TABLE)
    return make_stack(moto_server)
