"""The deployed pipeline's shape on moto's HTTP server: bucket → S3 notification → SQS →
handler, the records table, and the `imgproc` console script run as a subprocess.

`drain_into_handler` hands what S3 queued to the Lambda handler as the event source mapping
would; `QueuePump` does it in the background so a command that waits (`upload --wait`,
`smoke`) sees its records arrive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.aws_fixtures import LambdaContext, create_table

BUCKET, TABLE, QUEUE, REGION = "e2e-media", "e2e-records", "e2e-uploads", "us-east-1"
STACK = "imgproc"
IMGPROC = str(Path(sys.executable).parent / "imgproc")


@dataclass
class MotoStack:
    s3: object
    sqs: object
    dynamodb: object
    queue_url: str
    endpoint: str


def make_stack(server: str, input_prefix: str = "uploads/") -> MotoStack:
    """Bucket → SQS notifications (the input prefix only) and the table, over HTTP."""
    import boto3

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
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": input_prefix}]}},
        }]})
    create_table(dynamodb, TABLE)
    _describe_as_stack(server, {"BucketName": BUCKET, "TableName": TABLE, "QueueUrl": queue_url})
    return MotoStack(s3=s3, sqs=sqs, dynamodb=dynamodb, queue_url=queue_url, endpoint=server)


def _describe_as_stack(server: str, outputs: dict[str, str]) -> None:
    """A CloudFormation stack named STACK whose outputs name these resources, so `--stack`
    works as after `cdk deploy` (its one resource is a stand-in; moto cannot run the CDK's)."""
    import json

    import boto3

    template = {"Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
    boto3.client("cloudformation", endpoint_url=server, region_name=REGION).create_stack(
        StackName=STACK, TemplateBody=json.dumps(template))


def drain_into_handler(stack: MotoStack) -> dict:
    """Receive what S3 sent to the queue and hand it to the handler as Lambda would."""
    from imgproc.lambda_handler import handler

    failures = []
    while True:
        messages = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
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
                stack.sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
        if failed:
            return {"batchItemFailures": failures}


class QueuePump:
    """The event source mapping in a thread: drains the queue into the handler until stopped."""

    def __init__(self, stack: MotoStack, interval: float = 0.2):
        self.stack, self.interval = stack, interval
        self.failures: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-pump", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.failures += drain_into_handler(self.stack)["batchItemFailures"]
            self._stop.wait(self.interval)

    def __enter__(self) -> QueuePump:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def imgproc(stack: MotoStack, *args: str, timeout: float = 120,
            config: Path | None = None) -> subprocess.CompletedProcess:
    """The console script against the stack, as a user runs it."""
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint, "COLUMNS": "200"}
    if config is not None:
        env["IMGPROC_CONFIG"] = str(config)
    return subprocess.run(
        [IMGPROC, "--bucket", BUCKET, "--table", TABLE, "--region", REGION, *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )
