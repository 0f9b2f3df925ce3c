"""Enqueueing a backfill: `reprocess --remote` on each engine, against moto's server.

Puts N tiny originals under one prefix (not rendered: only listed, HEADed and enqueued), then
runs the real CLI twice over the same plan, the whole prefix:

- `--engine sqs`: lists the prefix, reads the records 100 at a time to skip what is up to
  date (size and ETag come from the listing), and sends batches of 10 from this machine,
  `--workers` (the CLI's default, 4) at once;
- `--engine batch-operations`: asks STS for the account and creates one job; S3 then lists the
  prefix and invokes the function itself. moto has no S3 Batch Operations, so `create_job` is
  answered by botocore's Stubber (after the request is validated against the service model)
  and counted as the one request it is.

Every API call the CLI makes is counted and timed with botocore event hooks (once per call;
botocore's own retries are not counted). moto's SQS slows down with the number of messages in
a queue (each SendMessageBatch took 0.2 s on an empty queue and 1.5 s with 3,000 messages in
it), which a real queue does not; as the function would, a consumer empties the queue every
second while the CLI sends, and the table shows the time spent in each kind of call.
Rerunnable; prints a rich table.

    python bench/enqueue.py [--keys 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console
from rich.table import Table

REGION = "us-east-1"
BUCKET, TABLE, PREFIX = "bench-media", "bench-records", "uploads/backfill/"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:imgproc"
ROLE_ARN = "arn:aws:iam::123456789012:role/imgproc-BatchOperationsRole"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--json", dest="json_file", help="also write the figures here")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        _environment(endpoint)
        started = time.perf_counter()
        queue_url = _setup(args.keys)
        _note(f"put {args.keys:,} originals in {time.perf_counter() - started:.0f} s")
        rows = [_run_sqs(endpoint, queue_url, args.keys)]
        _note(f"sqs: {rows[0]['seconds']:.0f} s")
        rows.append(_run_batch(endpoint, args.keys))
    finally:
        server.stop()
    _print(rows, args.keys)
    if args.json_file:
        with open(args.json_file, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


def _note(message: str) -> None:
    Console(stderr=True).print(message)


def _environment(endpoint: str) -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_ENDPOINT_URL=endpoint)
    for name in ("AWS_PROFILE", "IMGPROC_CONFIG", "IMGPROC_STACK"):
        os.environ.pop(name, None)


def _setup(keys: int) -> str:
    """Bucket, records table (with the error index), queue and N one-byte originals."""
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "key", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "errors",
                                 "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{i:06d}.jpg",
                                              Body=b"x"), range(keys)))
    return boto3.client("sqs").create_queue(QueueName="bench-uploads")["QueueUrl"]


def _counting() -> tuple[Counter, dict]:
    """Fresh imgproc clients whose every API call is counted and timed, as 'service.Operation'."""
    from imgproc.aws import clients

    clients.reset_clients()
    calls: Counter = Counter()
    seconds: dict = defaultdict(float)

    def start(event_name: str, context: dict, **_) -> None:
        context["bench_started"] = time.perf_counter()

    def count(event_name: str, context: dict, **_) -> None:
        _, service, operation = event_name.split(".", 2)
        calls[f"{service}.{operation}"] += 1
        seconds[f"{service}.{operation}"] += time.perf_counter() - context.get(
            "bench_started", time.perf_counter())

    events = clients._session(None, REGION).events
    events.register("before-parameter-build", start)
    events.register("after-call", count)
    return calls, seconds


class Consumer(threading.Thread):
    """Empties the queue every second, as the deployed function would drain it (uncounted)."""

    def __init__(self, queue_url: str):
        super().__init__(daemon=True)
        import boto3

        self.sqs, self.queue_url, self.stopped = boto3.client("sqs"), queue_url, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.sqs.purge_queue(QueueUrl=self.queue_url)


def _invoke(*args: str) -> dict:
    from click.testing import CliRunner

    from imgproc.cli import main

    result = CliRunner().invoke(main, ["--bucket", BUCKET, "--table", TABLE, *args, "--json"])
    if result.exit_code != 0:
        raise SystemExit(f"imgproc {' '.join(args)} failed ({result.exit_code}):\n"
                         f"{result.output}")
    return json.loads(result.stdout.splitlines()[-1])


def _run_sqs(endpoint: str, queue_url: str, keys: int) -> dict:
    calls, timings = _counting()
    consumer = Consumer(queue_url)
    consumer.start()
    started = time.perf_counter()
    answer = _invoke("--queue-url", queue_url, "reprocess", "--remote", "--engine", "sqs",
                     "--prefix", PREFIX)
    seconds = time.perf_counter() - started
    consumer.stopped.set()
    assert answer["sent"] == keys, answer
    return _row("sqs", keys, seconds, calls, timings)


def _run_batch(endpoint: str, keys: int) -> dict:
    from botocore.stub import Stubber

    from imgproc.aws.clients import AwsSettings, client

    calls, timings = _counting()
    s3control = client("s3control", AwsSettings(endpoint_url=endpoint, region=REGION))
    with Stubber(s3control) as stub:
        stub.add_response("create_job", {"JobId": "00000000-bench-job"}, None)
        started = time.perf_counter()
        answer = _invoke("reprocess", "--remote", "--engine", "batch-operations", "--prefix",
                         PREFIX, "--function", FUNCTION_ARN, "--role-arn", ROLE_ARN)
        seconds = time.perf_counter() - started
    assert answer["jobId"] == "00000000-bench-job", answer
    return _row("batch-operations", keys, seconds, calls, timings)


def _row(engine: str, keys: int, seconds: float, calls: Counter, timings: dict) -> dict:
    return {"engine": engine, "keys": keys, "seconds": round(seconds, 2),
            "keysPerSecond": round(keys / seconds, 1), "requests": sum(calls.values()),
            "byOperation": dict(sorted(calls.items())),
            "secondsByOperation": {op: round(timings[op], 1) for op in sorted(calls)}}


def _print(rows: list[dict], keys: int) -> None:
    table = Table(title=f"reprocess --remote over {keys:,} originals (moto server, this "
                        "machine)", title_justify="left")
    for column in ("engine", "wall s", "keys handed off/s", "requests from here",
                   "by operation"):
        table.add_column(column, justify="left" if column in ("engine", "by operation")
                         else "right")
    for row in rows:
        table.add_row(row["engine"], f"{row['seconds']:.2f}", f"{row['keysPerSecond']:,.0f}",
                      f"{row['requests']:,}",
                      ", ".join(f"{op} {n:,} ({row['secondsByOperation'][op]:g} s)"
                                for op, n in row["byOperation"].items()))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
