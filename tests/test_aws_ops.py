"""Stack outputs, trigger switches and `reprocess --remote`, against moto in-process."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote_plus

import boto3
import pytest
from click.testing import CliRunner

from imgproc import records as rec
from imgproc.aws import clients
from imgproc.aws.clients import AwsSettings
from imgproc.aws.fanout import s3_created_message, send_remote
from imgproc.aws.stack_outputs import StackOutputs, read_stack_outputs
from imgproc.aws.switches import disable_triggers, enable_triggers, pause, resume, triggers_status
from imgproc.cli import main
from imgproc.config import Config
from imgproc.errors import ConfigError, NotFound
from imgproc.records import TRIGGERS_ID
from imgproc.stores import SqliteRecordStore
from imgproc.stores.dynamodb import DynamoRecordStore
from tests.aws_fixtures import BUCKET as AWS_BUCKET
from tests.aws_fixtures import REGION, TABLE

BUCKET = "media-bucket"


@pytest.fixture
def records(tmp_path):
    return SqliteRecordStore(tmp_path / "r.db")


# --- stack outputs --------------------------------------------------------------------------

TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "uploads"}}},
    "Outputs": {
        "BucketName": {"Value": BUCKET},
        "TableName": {"Value": "images"},
        "QueueUrl": {"Value": {"Ref": "Queue"}},
        "FunctionName": {"Value": "imgproc-fn"},
        "DistributionDomainName": {"Value": "d111.cloudfront.net"},
        "DistributionId": {"Value": "E2EXAMPLE"},
    },
}


def test_read_stack_outputs(aws_clients):
    aws_clients("cloudformation").create_stack(StackName="imgproc",
                                               TemplateBody=json.dumps(TEMPLATE))
    outputs = read_stack_outputs("imgproc", AwsSettings(region=REGION),
                                 cfn=aws_clients("cloudformation"))
    queue_url = aws_clients("sqs").get_queue_url(QueueName="uploads")["QueueUrl"]
    assert outputs == StackOutputs(bucket=BUCKET, table="images", queue_url=queue_url,
                                   function_name="imgproc-fn",
                                   distribution_domain="d111.cloudfront.net",
                                   distribution_id="E2EXAMPLE")


def test_read_stack_outputs_through_the_cached_client(aws_clients):
    aws_clients("cloudformation").create_stack(StackName="imgproc",
                                               TemplateBody=json.dumps(TEMPLATE))
    assert read_stack_outputs("imgproc", AwsSettings(region=REGION)).table == "images"


def test_missing_stack_is_a_configuration_error(aws_clients):
    with pytest.raises(ConfigError, match=f"Stack nope was not found in region {REGION}"):
        read_stack_outputs("nope", AwsSettings(region=REGION), cfn=aws_clients("cloudformation"))


# --- triggers disable / enable / status -----------------------------------------------------


@pytest.fixture
def bucket(aws_clients):
    """A bucket whose notifications go to a queue: created uploads, and removals."""
    s3, sqs = aws_clients("s3"), aws_clients("sqs")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    # moto accepts only lower-case filter names (AWS takes either and answers "Prefix")
    prefix = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": "created", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix},
            {"Id": "removed", "QueueArn": arn, "Events": ["s3:ObjectRemoved:*"], "Filter": prefix},
        ]})
    return s3


def notifications(s3) -> dict:
    response = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_disable_then_enable_restores_exactly(aws_clients, bucket, records):
    original = notifications(bucket)
    assert len(original["QueueConfigurations"]) == 2

    result = disable_triggers(bucket, records, BUCKET)
    assert result["action"] == "disabled" and result["removed"] == 2
    assert notifications(bucket) == {}
    saved = records.get(TRIGGERS_ID)
    assert saved["type"] == "TRIGGERS" and saved["bucket"] == BUCKET
    assert saved["configuration"] == original and saved["savedAt"]

    result = enable_triggers(bucket, records, BUCKET)
    assert result["action"] == "enabled" and result["restored"] == 2
    assert notifications(bucket) == original
    assert records.get(TRIGGERS_ID) is None


def test_disable_twice_keeps_the_original(aws_clients, bucket, records):
    original = notifications(bucket)
    disable_triggers(bucket, records, BUCKET)
    first = records.get(TRIGGERS_ID)
    assert disable_triggers(bucket, records, BUCKET)["action"] == "already-disabled"
    assert records.get(TRIGGERS_ID) == first
    enable_triggers(bucket, records, BUCKET)
    assert notifications(bucket) == original


def test_enable_without_saved_record(aws_clients, bucket, records):
    assert enable_triggers(bucket, records, BUCKET)["action"] == "already-enabled"
    bucket.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    with pytest.raises(NotFound, match="Nothing to enable"):
        enable_triggers(bucket, records, BUCKET)


def test_status_before_and_after(aws_clients, bucket, records):
    before = triggers_status(bucket, None, records, BUCKET, None)
    assert before["enabled"] and not before["saved"] and before["mappings"] is None
    assert before["counts"] == {"Queue": 2, "Topic": 0, "Lambda": 0, "EventBridge": 0}
    created = before["notifications"][0]
    assert created["events"] == ["s3:ObjectCreated:*"]
    assert created["filters"] == {"prefix": "uploads/"}
    assert created["arn"].startswith("arn:aws:sqs:")

    disable_triggers(bucket, records, BUCKET)
    after = triggers_status(bucket, None, records, BUCKET, None)
    assert not after["enabled"] and after["saved"] and after["savedCount"] == 2
    assert after["counts"]["Queue"] == 0


def test_missing_bucket_is_a_configuration_error(aws_clients, records):
    with pytest.raises(ConfigError, match="not found"):
        disable_triggers(aws_clients("s3"), records, "no-such-bucket")


# --- pause / resume ---------------------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def function(aws_clients):
    """A Lambda function (never invoked: no Docker) with an SQS event source mapping."""
    role = aws_clients("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]
    }))["Role"]["Arn"]
    lambda_ = aws_clients("lambda")
    lambda_.create_function(FunctionName="imgproc-fn", Runtime="python3.12", Role=role,
                            Handler="handler.handler", Code={"ZipFile": _zip()})
    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName="pipeline")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName="imgproc-fn")
    return lambda_


def test_pause_and_resume_flip_the_mapping(aws_clients, function, records):
    def states():
        found = function.list_event_source_mappings(FunctionName="imgproc-fn")
        return [m["State"] for m in found["EventSourceMappings"]]

    assert states() == ["Enabled"]
    paused = pause(function, "imgproc-fn")
    assert [(m["before"], m["state"], m["changed"]) for m in paused] == [
        ("Enabled", "Disabled", True)]
    assert states() == ["Disabled"]
    assert pause(function, "imgproc-fn")[0]["changed"] is False

    status = triggers_status(aws_clients("s3"), function, records, _empty_bucket(aws_clients),
                             "imgproc-fn")
    assert status["mappings"][0]["state"] == "Disabled"
    assert status["mappings"][0]["queueArn"].endswith(":pipeline")

    assert resume(function, "imgproc-fn")[0]["state"] == "Enabled"
    assert states() == ["Enabled"]


def _empty_bucket(aws_clients) -> str:
    aws_clients("s3").create_bucket(Bucket="plain",
                            CreateBucketConfiguration={"LocationConstraint": REGION})
    return "plain"


def test_pause_without_mappings(aws_clients, function):
    with pytest.raises(ConfigError, match="no SQS event source mapping"):
        pause(function, "some-other-fn")


# --- reprocess --remote -----------------------------------------------------------------------

ODD_KEYS = ["uploads/with space.jpg", "uploads/a+b.jpg", "uploads/Ü ber/Größe 1+1=2.JPG"]


def test_message_shape():
    body = s3_created_message(BUCKET, "uploads/u1/IMG 1.JPG", 123, '"abc"', region=REGION)
    record = body["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put" and record["eventSource"] == "aws:s3"
    assert record["userIdentity"] == {"principalId": "imgproc-reprocess"}
    assert record["s3"]["bucket"] == {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"}
    assert record["s3"]["object"] == {"key": "uploads/u1/IMG+1.JPG", "size": 123, "eTag": "abc"}
    assert s3_created_message(BUCKET, "uploads/a+b.jpg", None, None)["Records"][0]["s3"][
        "object"] == {"key": "uploads/a%2Bb.jpg"}


def test_send_remote_batches_of_ten(aws_clients):
    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName="remote")["QueueUrl"]
    keys = [f"uploads/{i:02d}.jpg" for i in range(20)] + ODD_KEYS
    calls: list[int] = []
    result = send_remote(sqs, url, BUCKET, [(k, 10, "etag") for k in keys], calls.append)
    assert calls == [10, 10, 3]
    assert (result.sent, result.failed, result.batches) == (23, 0, 3)

    received = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        received += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    assert len(received) == 23
    decoded = []
    for message in received:
        record = json.loads(message["Body"])["Records"][0]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["awsRegion"] == REGION
        assert record["s3"]["bucket"]["name"] == BUCKET
        decoded.append(unquote_plus(record["s3"]["object"]["key"]))
    assert sorted(decoded) == sorted(keys)


def test_send_remote_retries_failed_entries_once(aws_clients):
    class FlakySqs:
        """Refuses entry 1 of the first call and succeeds afterwards."""

        meta = type("Meta", (), {"region_name": REGION})()

        def __init__(self):
            self.calls = []

        def send_message_batch(self, QueueUrl, Entries):
            self.calls.append([e["Id"] for e in Entries])
            if len(self.calls) == 1:
                return {"Failed": [{"Id": "1", "Code": "InternalError", "SenderFault": False}]}
            return {"Successful": []}

    flaky = FlakySqs()
    result = send_remote(flaky, "url", BUCKET, [("a", 1, None), ("b", 1, None)])
    assert flaky.calls == [["0", "1"], ["1"]]
    assert (result.sent, result.failed) == (2, 0)


def test_send_remote_reports_what_still_fails(aws_clients):
    class BrokenSqs:
        meta = type("Meta", (), {"region_name": REGION})()

        def send_message_batch(self, QueueUrl, Entries):
            return {"Failed": [{"Id": e["Id"], "Code": "X", "Message": "no"} for e in Entries
                               if e["Id"] == "0"]}

    result = send_remote(BrokenSqs(), "url", BUCKET, [("a", 1, None), ("b", 1, None)])
    assert (result.sent, result.failed, [f["key"] for f in result.failures]) == (1, 1, ["a"])


def test_send_remote_to_a_missing_queue(aws_clients):
    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ConfigError, match="does not exist"):
        send_remote(sqs, url, BUCKET, [("a", 1, None)])


def test_send_remote_with_several_workers_sends_each_key_once(aws_clients):
    sqs = aws_clients("sqs")
    url = sqs.create_queue(QueueName="parallel")["QueueUrl"]
    keys = [f"uploads/{i:03d}.jpg" for i in range(95)]
    calls: list[int] = []
    result = send_remote(sqs, url, BUCKET, [(k, 1, "e") for k in keys], calls.append, workers=4)
    assert (result.sent, result.failed, result.batches) == (95, 0, 10)
    assert sorted(calls) == [5] + [10] * 9
    received = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        received += [unquote_plus(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"])
                     for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    assert sorted(received) == keys


def test_send_remote_with_workers_lists_failures_in_key_order():
    class RefusesOdd:
        meta = type("Meta", (), {"region_name": REGION})()

        def send_message_batch(self, QueueUrl, Entries):
            return {"Failed": [{"Id": e["Id"], "Code": "X", "Message": "no"} for e in Entries
                               if json.loads(e["MessageBody"])["Records"][0]["s3"]["object"]
                               ["key"].endswith(("1.jpg", "3.jpg"))]}

    keys = [(f"uploads/{i:02d}.jpg", 1, None) for i in range(40)]
    result = send_remote(RefusesOdd(), "url", BUCKET, keys, workers=3)
    expected = [k for k, _, _ in keys if k.endswith(("1.jpg", "3.jpg"))]
    assert [f["key"] for f in result.failures] == expected
    assert (result.sent, result.failed) == (40 - len(expected), len(expected))


def test_reprocess_remote_plans_a_prefix_from_the_listing_and_batched_record_reads(aws):
    """250 originals, 50 of them up to date: the plan HEADs nothing (the listing has each
    size and ETag) and reads the records 100 at a time; only the 200 others are queued."""
    s3, dynamodb = aws
    url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="backfill")["QueueUrl"]
    keys = [f"uploads/many/{i:03d}.jpg" for i in range(250)]
    for key in keys:
        s3.put_object(Bucket=AWS_BUCKET, Key=key, Body=b"x")
    etag = s3.head_object(Bucket=AWS_BUCKET, Key=keys[0])["ETag"].strip('"')
    table = DynamoRecordStore(TABLE, dynamodb=dynamodb)
    for key in keys[:50]:
        table.put({"id": key, "key": key, "type": rec.RecordType.IMAGE, "status": "COMPLETE",
                   "configHash": Config().config_hash, "source": {"etag": etag}})
    calls: list[str] = []
    clients._session(None, REGION).events.register(
        "after-call", lambda event_name, **_: calls.append(event_name.split(".", 2)[2]))
    result = CliRunner(env={"IMGPROC_STACK": None, "IMGPROC_CONFIG": None}).invoke(main, [
        "--bucket", AWS_BUCKET, "--table", TABLE, "--queue-url", url, "--region", REGION,
        "reprocess", "--remote", "--prefix", "uploads/many/", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["sent"] == 200
    counted = {name: calls.count(name) for name in set(calls)}
    assert counted == {"ListObjectsV2": 1, "BatchGetItem": 3, "SendMessageBatch": 20}
