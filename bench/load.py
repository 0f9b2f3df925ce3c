"""Load: the real Lambda handler under SQS delivery, duplicates, re-uploads, deletes and faults.

    python bench/load.py [--images 1000] [--workers 4] [--fault-rate 0.05] [--seed 7]
                         [--bad-rate 0.03] [--reupload-rate 0.05] [--delete-rate 0.03]
                         [--duplicate-rate 0.1] [--races N] [--outage SECONDS]
                         [--visibility-timeout 5] [--no-sequencers] [--json FILE]

moto's server stands in for S3, SQS, DynamoDB and CloudFront. The bucket notifies a queue
(ObjectCreated:* and ObjectRemoved:* under uploads/) whose RedrivePolicy sends a message to a
dead-letter queue after 5 receives. W worker processes play Lambda's SQS poller: they receive
batches of 10 straight from moto, shuffle them, call `imgproc.lambda_handler.handler` with
`AWS_ENDPOINT_URL` set to a fault proxy (`bench/faultproxy.py`: throttling, 5xx, dropped
connections, lost responses, latency), delete what the handler did not list in
`batchItemFailures`, and now and then send a message again (at-least-once delivery, late).
Meanwhile the driver re-uploads some keys with new content and deletes others, each after its
first processing. moto's S3 events lack the `sequencer` real S3 events carry; the workers add
one (from the event time) unless `--no-sequencers`.

Then a race round (`--races`, default images/100): fresh keys, each re-uploaded or deleted
while a worker holds the bytes it has just read (the proxy holds that GET's answer until
another worker has handled the new event). `--outage SECONDS` makes every request of the
handler fail for a while, longer than botocore's retries ride out, so messages come back
through `batchItemFailures`; give it a `--visibility-timeout` longer than a batch under
backoff (the stack uses 6x the function timeout), or redeliveries pile up to the DLQ.

When the queue has drained, everything is checked straight against moto (no faults): every
live original COMPLETE for its current bytes with every variant and the manifest; every bad
upload FAILED with a reason and an `error#` record; deleted originals leave nothing behind;
originals byte-identical to what was last uploaded; the dead-letter queue empty; and, from
the handler's logs, no good picture ever recorded FAILED. It prints images/minute and a
scorecard, and exits 0 only when every check passes.

Worker logs (the handler's JSON lines) go to bench/.cache/load-logs/ (`--log-dir`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import multiprocessing as mp
import os
import random
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from faultproxy import FaultProxy  # noqa: E402

from imgproc.config import Config  # noqa: E402  (pure: no AWS client is made on import)
from imgproc.web.manifest import manifest_of  # noqa: E402

BUCKET, TABLE, REGION = "load-media", "load-records", "us-east-1"
QUEUE, DEAD_LETTERS = "load-uploads", "load-uploads-dlq"
MAX_RECEIVE_COUNT = 5
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
}
LOG_DIR = HERE / ".cache" / "load-logs"
DRAINED_FOR = 3.0  # seconds of an empty queue and idle workers that count as drained


# --- uploads -------------------------------------------------------------------------------


@dataclass
class KeyPlan:
    """One original key: what was uploaded, what the driver will do to it, what must be true."""

    key: str
    data: bytes
    bad: bool = False
    note: str = ""
    actions: list[str] = field(default_factory=list)  # "reupload" then maybe "delete"
    replacement: bytes | None = None
    versions: int = 1
    deleted: bool = False

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()

    @property
    def expected(self) -> str:
        return "deleted" if self.deleted else "bad" if self.bad else "live"


_FOLDERS = ("uploads/u{u}/", "uploads/Über café/", "uploads/a+b/", "uploads/",
            "uploads/Фото 2026/", "uploads/100% real/")
_NAMES = ("IMG {i:04d}", "photo+{i:04d} (1)", "café_{i:04d}", "{i:04d}", "Pic_{i:04d}")
_EXTENSIONS = {"JPEG": ("jpg", "JPG", "jpeg", "JPEG", "JpG"), "PNG": ("png", "PNG"),
               "WEBP": ("webp", "WEBP")}


def key_for(rng: random.Random, index: int, fmt: str) -> str:
    """A unique key with the awkward characters S3 events encode: spaces, '+', '%', UTF-8."""
    folder = rng.choice(_FOLDERS).format(u=index % 37)
    name = rng.choice(_NAMES).format(i=index)
    # now and then the extension lies: imgproc accepts by content
    ext_format = fmt if rng.random() > 0.05 else rng.choice(list(_EXTENSIONS))
    return f"{folder}{name}.{rng.choice(_EXTENSIONS[ext_format])}"


def make_image(rng: random.Random, index: int) -> tuple[bytes, str, str]:
    """A small picture (bytes, format, note): gradients and boxes, so it renders like a photo."""
    fmt = rng.choice(("JPEG",) * 5 + ("PNG",) * 3 + ("WEBP",) * 2)
    width, height = rng.randint(64, 900), rng.randint(64, 900)
    red = Image.linear_gradient("L").rotate(rng.randint(0, 359)).resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = Image.new("L", (width, height), rng.randint(0, 255))
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randint(0, width - 1), rng.randint(0, height - 1)
        box = (x, y, min(width, x + rng.randint(8, 200)), min(height, y + rng.randint(8, 200)))
        draw.rectangle(box, fill=tuple(rng.randint(0, 255) for _ in range(3)))
    draw.text((4, 4), f"#{index}", fill=(255, 255, 255))
    note, options = f"{fmt} {width}x{height}", {}
    if fmt == "JPEG":
        options["quality"] = 85
        if rng.random() < 0.25:
            orientation = rng.randint(2, 8)
            exif = Image.Exif()
            exif[0x0112] = orientation
            options["exif"] = exif.tobytes()
            note += f" orientation {orientation}"
        if rng.random() < 0.1:
            image = image.convert("L")
            note += " grey"
    else:
        if rng.random() < 0.4:
            image.putalpha(Image.linear_gradient("L").rotate(90).resize((width, height)))
            note += " alpha"
        options = {"compress_level": 1} if fmt == "PNG" else {"quality": 80, "method": 0}
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue(), fmt, note


def make_bad(rng: random.Random, index: int) -> tuple[str, bytes, str]:
    """(key, data, note) of an upload that can never be rendered."""
    kind = index % 3
    if kind == 0:
        return (f"uploads/bad/not a picture {index:04d}.jpg",
                b"<!doctype html><title>oops</title><p>this is text</p>\n", "text named .jpg")
    if kind == 1:
        data, _fmt, _note = make_image(random.Random(rng.random()), -index)
        whole = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(whole, "JPEG", quality=90)
        cut = whole.getvalue()
        return (f"uploads/bad/truncated+{index:04d}.JPG", cut[: len(cut) * 55 // 100],
                "truncated JPEG")
    return f"uploads/bad/empty {index:04d}.png", b"", "zero bytes"


def plan_uploads(args) -> list[KeyPlan]:
    """Every key, its bytes and the driver's later actions; all deterministic from --seed."""
    rng = random.Random(args.seed)
    plans: list[KeyPlan] = []
    keys: set[str] = set()
    for index in range(args.images):
        data, fmt, note = make_image(rng, index)
        key = key_for(rng, index, fmt)
        assert key not in keys, key
        keys.add(key)
        plans.append(KeyPlan(key, data, note=note))
    bad_count = round(args.images * args.bad_rate) if args.bad_rate > 0 else 0
    for index in range(bad_count):
        key, data, note = make_bad(rng, index)
        plans.append(KeyPlan(key, data, bad=True, note=note))
    actions = random.Random(args.seed + 1)
    for index, plan in enumerate(plans):
        if not plan.bad and actions.random() < args.reupload_rate:
            plan.actions.append("reupload")
            plan.replacement, _fmt, note = make_image(actions, 100_000 + index)
            plan.note += f" → {note}"
        if actions.random() < args.delete_rate:
            plan.actions.append("delete")
    actions.shuffle(plans)
    return plans


# --- the stack on moto ---------------------------------------------------------------------


def aws_client(service: str, endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        config=Config(retries={"mode": "standard", "max_attempts": 10},
                                      max_pool_connections=32))


def create_stack(endpoint: str, visibility_timeout: int, cdn: bool) -> dict:
    """Bucket → queue (with its dead-letter queue), the table with its `errors` index, a CDN."""
    s3, sqs = aws_client("s3", endpoint), aws_client("sqs", endpoint)
    dynamodb = aws_client("dynamodb", endpoint)
    dead_url = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    dead_arn = _queue_arn(sqs, dead_url)
    queue_url = sqs.create_queue(QueueName=QUEUE, Attributes={
        "VisibilityTimeout": str(visibility_timeout),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn,
                                     "maxReceiveCount": str(MAX_RECEIVE_COUNT)}),
    })["QueueUrl"]
    queue_arn = _queue_arn(sqs, queue_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{
            "Id": "imgproc-uploads", "QueueArn": queue_arn,
            "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
        }]})
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{"IndexName": "errors",
                                 "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
    )
    stack = {"s3": s3, "sqs": sqs, "dynamodb": dynamodb, "queue_url": queue_url,
             "queue_arn": queue_arn, "dead_url": dead_url, "distribution": None}
    if cdn:
        stack["distribution"] = _create_distribution(aws_client("cloudfront", endpoint))
    return stack


def _queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def _create_distribution(cloudfront) -> dict:
    response = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "imgproc-load",
        "Comment": "imgproc load test",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "media", "DomainName": f"{BUCKET}.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0, "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}},
    })["Distribution"]
    return {"id": response["Id"], "domain": response["DomainName"]}


def queue_depth(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


# --- workers: Lambda's SQS poller ----------------------------------------------------------


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a real Lambda context."""

    aws_request_id: str
    function_name: str = "imgproc-load"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:imgproc-load"
    log_group_name: str = "/aws/lambda/imgproc-load"
    log_stream_name: str = "load"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    """The event Lambda's SQS poller hands the function for one batch."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {},
        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": REGION} for m in messages]}


def with_sequencer(message: dict) -> dict:
    """The message with the `sequencer` real S3 puts in every event and moto leaves out.

    Real sequencers are hex that grows with each event for one key; the event's time in
    microseconds (moto stamps milliseconds) does the same here.
    """
    body = json.loads(message["Body"])
    for record in body.get("Records", []) if isinstance(body, dict) else []:
        item = record.get("s3", {}).get("object")
        if item is not None and "sequencer" not in item and record.get("eventTime"):
            moment = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
            item["sequencer"] = f"{round(moment.timestamp() * 1_000_000):016X}"
    text = json.dumps(body)
    return {**message, "Body": text, "MD5OfBody": hashlib.md5(text.encode()).hexdigest()}


def worker_main(index: int, settings: dict, stop, busy, results) -> None:
    """One worker process: receive from moto, invoke the handler, delete what succeeded."""
    log_dir = Path(settings["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    log = os.open(log_dir / f"worker-{index}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(settings["env"])  # before imgproc builds its clients and pipelines
    from imgproc.lambda_handler import handler

    sqs = aws_client("sqs", settings["moto"])
    queue_url = settings["queue_url"]
    rng = random.Random(settings["seed"] * 1000 + index)
    stats: Counter[str] = Counter()
    slowest = 0.0
    while not stop.is_set():
        try:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                AttributeNames=["All"], MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception:
            stats["receiveErrors"] += 1
            time.sleep(0.5)
            continue
        if not messages:
            continue
        with busy.get_lock():
            busy.value += 1
        try:
            slowest = max(slowest, _invoke(handler, sqs, messages, settings, rng, stats))
        except Exception:
            stats["workerErrors"] += 1
            traceback.print_exc()
        finally:
            with busy.get_lock():
                busy.value -= 1
    results.put({"worker": index, "stats": dict(stats), "slowestBatch": slowest})


def _invoke(handler, sqs, messages, settings, rng, stats) -> float:
    rng.shuffle(messages)  # SQS standard queues do not keep order
    if settings["sequencers"]:
        messages = [with_sequencer(m) for m in messages]
    stats["invocations"] += 1
    stats["messages"] += len(messages)
    stats["redeliveries"] += sum(
        1 for m in messages if int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) > 1)
    started = time.monotonic()
    ids = {m["MessageId"] for m in messages}
    try:
        response = handler(sqs_event(messages, settings["queue_arn"]),
                           LambdaContext(aws_request_id=str(uuid.uuid4())))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        stats["batchItemFailures"] += len(failed & ids)
    except Exception:  # Lambda: the whole batch returns to the queue
        stats["invocationErrors"] += 1
        traceback.print_exc()
        failed = ids
    elapsed = time.monotonic() - started
    if elapsed > settings["visibility_timeout"]:
        stats["batchesSlowerThanVisibilityTimeout"] += 1
    done = [m for m in messages if m["MessageId"] not in failed]
    # at-least-once delivery: some messages come again, later (before the delete, so the
    # queue never looks drained while a copy is about to be sent)
    for message in done:
        if "load-duplicate" not in message.get("MessageAttributes", {}) \
                and rng.random() < settings["duplicate_rate"]:
            sqs.send_message(
                QueueUrl=settings["queue_url"], MessageBody=message["Body"],
                DelaySeconds=rng.randint(0, 3),
                MessageAttributes={"load-duplicate": {"DataType": "String",
                                                      "StringValue": "1"}})
            stats["duplicatesSent"] += 1
    if done:
        response = sqs.delete_message_batch(QueueUrl=settings["queue_url"], Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        stats["deleteErrors"] += len(response.get("Failed", []))
    return elapsed


# --- the driver ------------------------------------------------------------------------------


class Driver:
    """Uploads, then re-uploads and deletes keys after their first processing."""

    def __init__(self, stack: dict, plans: list[KeyPlan], seed: int):
        self.stack = stack
        self.plans = {plan.key: plan for plan in plans}
        self.rng = random.Random(seed + 2)
        self.uploaded: set[str] = set()
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def upload_all(self) -> None:
        s3 = self.stack["s3"]
        for plan in self.plans.values():
            s3.put_object(Bucket=BUCKET, Key=plan.key, Body=plan.data)
            with self.lock:
                self.uploaded.add(plan.key)
            self.counts["uploads"] += 1

    def pending(self) -> list[KeyPlan]:
        with self.lock:
            return [self.plans[k] for k in self.uploaded if self.plans[k].actions]

    def act_on_processed(self, force: bool = False) -> int:
        """Run the next action of keys whose last upload has a record; return how many ran."""
        waiting = self.pending()
        if not force:
            self.rng.shuffle(waiting)
            etags = self.recorded_etags([plan.key for plan in waiting[:300]])
            waiting = [plan for plan in waiting[:300] if etags.get(plan.key) == plan.md5
                       and self.rng.random() < 0.5]  # spread the actions out in time
        for plan in waiting:
            self.act(plan)
        return len(waiting)

    def recorded_etags(self, keys: list[str]) -> dict[str, str | None]:
        """The source etag of each key's image record, where it has one (BatchGetItem)."""
        found = {}
        for start in range(0, len(keys), 100):
            request = {TABLE: {"Keys": [{"id": {"S": k}} for k in keys[start:start + 100]],
                               "ConsistentRead": True}}
            while request:
                response = self.stack["dynamodb"].batch_get_item(RequestItems=request)
                for item in response["Responses"].get(TABLE, []):
                    source = item.get("source", {}).get("M", {})
                    found[item["id"]["S"]] = source.get("etag", {}).get("S")
                request = response.get("UnprocessedKeys") or None
        return found

    def act(self, plan: KeyPlan) -> None:
        action = plan.actions.pop(0)
        s3 = self.stack["s3"]
        if action == "reupload":
            plan.data, plan.replacement = plan.replacement, None
            plan.versions += 1
            s3.put_object(Bucket=BUCKET, Key=plan.key, Body=plan.data)
            self.counts["reuploads"] += 1
        else:
            s3.delete_object(Bucket=BUCKET, Key=plan.key)
            plan.deleted = True
            self.counts["deletes"] += 1


class Racer:
    """Re-uploads or deletes a key while a worker holds the bytes it just read.

    The fault proxy calls `hook` after forwarding each request: when the handler's GET of an
    armed key has been answered upstream, the driver re-uploads (or deletes) the key and holds
    that answer until another worker has handled the new event, then lets it go. This is the
    slow worker of at-least-once delivery, made certain instead of rare.
    """

    HOLD = 15.0  # seconds at most, well under the handler's 30 s read timeout

    def __init__(self, stack: dict, driver: Driver, busy):
        self.stack, self.driver, self.busy = stack, driver, busy
        self.armed: dict[str, KeyPlan] = {}
        self.lock = threading.Lock()
        self.fired = threading.Event()
        self.counts: Counter[str] = Counter()

    def race(self, plan: KeyPlan) -> None:
        """Upload a fresh key armed with its action; return once the race has been run."""
        self.fired.clear()
        with self.lock:
            self.armed[plan.key] = plan
        self.stack["s3"].put_object(Bucket=BUCKET, Key=plan.key, Body=plan.data)
        if not self.fired.wait(2 * self.HOLD):
            with self.lock:
                self.armed.pop(plan.key, None)
            self.counts["races missed"] += 1

    def hook(self, service: str, method: str, path: str) -> None:
        if service != "s3" or method != "GET":
            return
        key = unquote(urlsplit(path).path).removeprefix(f"/{BUCKET}/")
        with self.lock:
            plan = self.armed.pop(key, None)
        if plan is None:
            return
        try:
            action = plan.actions[0]
            self.driver.act(plan)
            self.counts[f"races: {action}"] += 1
            held = self._wait(lambda: self._settled(plan))
            self.counts["races held until the other worker finished"] += held
        finally:
            self.fired.set()

    def _settled(self, plan: KeyPlan) -> bool:
        if not plan.deleted:  # the other worker recorded the new content
            return self.driver.recorded_etags([plan.key]).get(plan.key) == plan.md5
        # the removal was received and handled: nothing waits in the queue, the only message
        # in flight and the only busy worker are the ones held here
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        counts = self.stack["sqs"].get_queue_attributes(
            QueueUrl=self.stack["queue_url"], AttributeNames=names)["Attributes"]
        visible, in_flight, delayed = (int(counts.get(name, 0)) for name in names)
        return visible == 0 and in_flight <= 1 and delayed == 0 and self.busy.value <= 1

    def _wait(self, condition) -> bool:
        deadline, streak = time.monotonic() + self.HOLD, 0
        while time.monotonic() < deadline:
            streak = streak + 1 if condition() else 0
            if streak >= 3:
                return True
            time.sleep(0.3)
        return False


def plan_races(args) -> list[KeyPlan]:
    """Fresh keys for the race round: half re-uploaded, half deleted while being processed."""
    rng = random.Random(args.seed + 3)
    plans = []
    for index in range(args.races):
        data, _fmt, note = make_image(rng, 200_000 + index)
        action = "reupload" if index % 2 == 0 else "delete"
        plan = KeyPlan(f"uploads/race/{action} {index:03d}.jpg", data, actions=[action],
                       note=f"race: {action} while a worker renders; {note}")
        if action == "reupload":
            plan.replacement, _fmt, note = make_image(rng, 300_000 + index)
            plan.note += f" → {note}"
        plans.append(plan)
    return plans


def run_load(args, stack: dict, plans: list[KeyPlan], races: list[KeyPlan],
             settings: dict, proxy: FaultProxy) -> dict:
    """Start the workers, upload, act, race; wait for the queue to drain; return the stats."""
    context = mp.get_context("spawn")
    stop, busy, results = context.Event(), context.Value("i", 0), context.Queue()
    workers = [context.Process(target=worker_main, args=(n, settings, stop, busy, results),
                               name=f"load-worker-{n}") for n in range(args.workers)]
    for worker in workers:
        worker.start()
    try:
        driver = Driver(stack, plans, args.seed)
        started = time.monotonic()
        deadline = started + args.timeout
        uploader = threading.Thread(target=driver.upload_all, name="uploader", daemon=True)
        uploader.start()
        last_report, outage_at = started, len(plans) // 2 if args.outage else None

        def main_round() -> bool:
            """Re-upload and delete keys after their first processing; True while work remains."""
            nonlocal last_report, outage_at
            if outage_at is not None and driver.counts["uploads"] >= outage_at:
                print(f"outage: every request of the handler fails for {args.outage:.0f} s",
                      file=sys.stderr, flush=True)
                proxy.outage(args.outage)
                outage_at = None
            acted = driver.act_on_processed()
            if time.monotonic() - last_report >= 10:
                last_report = time.monotonic()
                _progress(last_report - started, driver, stack, acted)
            return uploader.is_alive() or bool(driver.pending())

        def force_pending() -> None:
            if uploader.is_alive():
                return
            # keys that never got a record for their last upload: act anyway (they are lost)
            driver.counts["forcedActions"] += len(driver.pending())
            driver.act_on_processed(force=True)

        drained = wait_drained(stack, busy, deadline, main_round, force_pending)
        elapsed = time.monotonic() - started
        racer = Racer(stack, driver, busy)
        race_started = time.monotonic()
        if drained and races:
            print(f"race round: {len(races)} keys re-uploaded or deleted while a worker holds "
                  "their bytes …", file=sys.stderr, flush=True)
            proxy.on_forwarded = racer.hook
            for plan in races:
                racer.race(plan)
            proxy.on_forwarded = None
            drained = wait_drained(stack, busy, time.monotonic() + args.timeout)
        race_elapsed = time.monotonic() - race_started
    finally:
        proxy.on_forwarded = None
        stop.set()
        stats, slowest = Counter(), 0.0
        for _ in workers:
            try:
                result = results.get(timeout=60)
            except Exception:
                break
            stats.update(result["stats"])
            slowest = max(slowest, result["slowestBatch"])
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    return {"elapsed": elapsed, "raceElapsed": race_elapsed, "timedOut": not drained,
            "workers": dict(stats), "slowestBatch": slowest,
            "driver": dict(driver.counts), "races": dict(racer.counts)}


def wait_drained(stack: dict, busy, deadline: float, busy_work=None, when_idle=None) -> bool:
    """Until the queue is empty and no worker is busy for DRAINED_FOR seconds (False: timeout).

    `busy_work()` runs every half second and returns True while the driver has work left;
    `when_idle()` runs when the queue went quiet with driver work still left.
    """
    idle_since = None
    while time.monotonic() < deadline:
        more = busy_work() if busy_work else False
        now = time.monotonic()
        quiet = queue_depth(stack["sqs"], stack["queue_url"]) == 0 and busy.value == 0
        idle_since = (idle_since or now) if quiet else None
        if idle_since and now - idle_since >= DRAINED_FOR:
            if not more:
                return True
            if when_idle:
                when_idle()
            idle_since = None
        time.sleep(0.5)
    return False


def _progress(elapsed: float, driver: Driver, stack: dict, acted: int) -> None:
    counts = driver.counts
    depth = queue_depth(stack["sqs"], stack["queue_url"])
    print(f"  {elapsed:6.0f}s  uploads {counts['uploads']}  re-uploads {counts['reuploads']}  "
          f"deletes {counts['deletes']}  queue {depth}  "
          f"actions waiting for a first processing {len(driver.pending())}",
          file=sys.stderr, flush=True)


# --- verification (straight against moto) --------------------------------------------------


class Verifier:
    def __init__(self, stack: dict):
        self.s3, self.dynamodb = stack["s3"], stack["dynamodb"]
        self.variant_names = {variant.name for variant in Config().variants}
        self.objects = self._list()
        self.records = self._scan()
        self.problems: list[dict] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _list(self) -> dict[str, dict]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {item["Key"]: item for page in pages for item in page.get("Contents", [])}

    def _scan(self) -> dict[str, dict]:
        from imgproc.stores.dynamodb import from_item

        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE,
                                                               ConsistentRead=True)
        return {item["id"]["S"]: from_item(item) for page in pages for item in page["Items"]}

    def problem(self, category: str, key: str, detail: str) -> None:
        with self.lock:
            self.problems.append({"category": category, "key": key, "detail": detail})

    def check(self, plans: list[KeyPlan]) -> dict:
        """Check every key; return the number of keys with a problem, by category."""
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self._check_key, plans))
        self._check_strays(plans)
        return self.problem_counts()

    def problem_counts(self) -> dict[str, int]:
        """Keys with a problem, by category."""
        return dict(Counter(category for category, _key in
                            {(p["category"], p["key"]) for p in self.problems}))

    def _check_key(self, plan: KeyPlan) -> None:
        try:
            if plan.deleted:
                self._check_deleted(plan)
            else:
                self._check_original(plan)
                (self._check_bad if plan.bad else self._check_live)(plan)
        except Exception as exc:  # a verification bug must not pass as "no problem"
            self.problem("inconsistent", plan.key, f"check crashed: {exc!r}")

    def _check_original(self, plan: KeyPlan) -> None:
        try:
            data = self.s3.get_object(Bucket=BUCKET, Key=plan.key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            self.problem("originals changed", plan.key, "the original is gone")
            return
        if hashlib.md5(data).hexdigest() != plan.md5:
            self.problem("originals changed", plan.key, "the original's bytes changed")

    def _check_live(self, plan: KeyPlan) -> None:
        record = self.records.get(plan.key)
        if record is None:
            self.problem("lost", plan.key, f"no record ({plan.note})")
            return
        etag = record.get("source", {}).get("etag")
        if record.get("status") != "COMPLETE" or etag != plan.md5:
            self.problem("lost", plan.key,
                         f"record {record.get('status')} for etag {etag}, current {plan.md5}"
                         f" (version {plan.versions}; {record.get('error', '')}) ({plan.note})")
        if etag != plan.md5:
            self.problem("inconsistent", plan.key, "the record describes other bytes")
            return
        if record.get("status") != "COMPLETE":
            return
        self._check_outputs(plan, record)
        if f"{plan.key}#placeholder" not in self.records:
            self.problem("inconsistent", plan.key, "no placeholder record")
        if f"error#{plan.key}" in self.records:
            self.problem("inconsistent", plan.key, "an error record stayed after success")

    def _check_outputs(self, plan: KeyPlan, record: dict) -> None:
        prefix = f"processed/{plan.key}/"
        variants = record.get("processedVariants", [])
        names = {v["name"] for v in variants}
        if names != self.variant_names:
            self.problem("inconsistent", plan.key, f"variants {sorted(names)}")
        expected = {v["key"] for v in variants} | {prefix + "manifest.json"}
        extra = {k for k in self.objects if k.startswith(prefix)} - expected
        if extra:
            self.problem("inconsistent", plan.key, f"unlisted outputs {sorted(extra)}")
        for variant in variants:
            self._check_variant(plan.key, prefix, variant, record["processedAt"])
        try:
            manifest = self.s3.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")
        except self.s3.exceptions.NoSuchKey:
            self.problem("inconsistent", plan.key, "no manifest.json")
            return
        body = json.loads(manifest["Body"].read())
        expected = manifest_of(record)
        differ = sorted(name for name in expected.keys() | body.keys()
                        if body.get(name) != expected.get(name))
        if differ == ["updatedAt"]:
            # written by another run of the same bytes (a duplicate processed concurrently):
            # the same content, another time stamp
            with self.lock:
                self.counts["manifests written by another run"] += 1
        elif differ:
            self.problem("inconsistent", plan.key,
                         f"manifest {body.get('status')} of {body.get('updatedAt')} differs "
                         f"from the record of {record['processedAt']} in {differ}")

    def _check_variant(self, key: str, prefix: str, variant: dict, processed_at: str) -> None:
        name = variant["name"]
        if not variant["key"].startswith(prefix):
            self.problem("inconsistent", key, f"{name} outside {prefix}")
            return
        try:
            response = self.s3.get_object(Bucket=BUCKET, Key=variant["key"])
        except self.s3.exceptions.NoSuchKey:
            self.problem("inconsistent", key, f"{name} is missing")
            return
        data = response["Body"].read()
        if response.get("ContentType") != variant["contentType"]:
            self.problem("inconsistent", key, f"{name} served as {response.get('ContentType')}")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            size = image.size
        if size != (variant["width"], variant["height"]) or len(data) != variant["size"]:
            self.problem("inconsistent", key,
                         f"{name} is {size} / {len(data)} B, record says "
                         f"{(variant['width'], variant['height'])} / {variant['size']} B")
        elif response.get("Metadata", {}).get("processed-at") != processed_at:
            # Another run wrote it, from the same bytes (same size): a duplicate processed
            # concurrently. Harmless; a different version shows in the sizes above.
            with self.lock:
                self.counts["variants written by another run"] += 1

    def _check_bad(self, plan: KeyPlan) -> None:
        record = self.records.get(plan.key)
        error = self.records.get(f"error#{plan.key}")
        if record is None or record.get("status") != "FAILED" or not record.get("error"):
            status = record.get("status") if record else "no record"
            self.problem("bad not recorded", plan.key, f"{status} ({plan.note})")
        elif record.get("source", {}).get("etag") != plan.md5:
            self.problem("inconsistent", plan.key, "the FAILED record describes other bytes")
        if error is None or not error.get("error"):
            self.problem("bad not recorded", plan.key, f"no error# record ({plan.note})")

    def _check_deleted(self, plan: KeyPlan) -> None:
        if plan.key in self.objects:
            self.problem("originals changed", plan.key, "a deleted original is back")
        left = [k for k in self.objects if k.startswith(f"processed/{plan.key}/")]
        left += [i for i in (plan.key, f"{plan.key}#placeholder", f"error#{plan.key}")
                 if i in self.records]
        if left:
            self.problem("leftovers", plan.key, f"left behind: {sorted(left)}")

    def _check_strays(self, plans: list[KeyPlan]) -> None:
        """Records and outputs that belong to no key the driver ever uploaded."""
        known = {plan.key for plan in plans}
        for record_id in self.records:
            key = record_id.removeprefix("error#").removesuffix("#placeholder")
            if key not in known and record_id != "config#triggers":
                self.problem("stray", record_id, "a record of a key never uploaded")
        for object_key in self.objects:
            if object_key.startswith("processed/"):
                key = object_key.removeprefix("processed/").rsplit("/", 1)[0]
                if key not in known:
                    self.problem("stray", object_key, "an output of a key never uploaded")


def handler_outcomes(log_dir: Path, plans: list[KeyPlan], verifier: Verifier) -> dict:
    """Outcomes from the handler's log lines; a good picture FAILED even once is a problem.

    Error records are removed when a key later succeeds, so only the logs still show a
    transient failure (throttling, a dropped connection) recorded as the picture's fault.
    """
    bad_keys = {plan.key for plan in plans if plan.bad}
    outcomes: Counter[str] = Counter()
    for path in sorted(log_dir.glob("worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{") or '"object processed"' not in line:
                continue
            entry = json.loads(line)
            outcome = entry.get("outcome", "?")
            outcomes[outcome] += 1
            if outcome == "RETRY":
                outcomes[f"RETRY {entry.get('errorType')}"] += 1
            if outcome == "FAILED" and entry.get("key") not in bad_keys:
                verifier.problem("good recorded as FAILED", entry.get("key", "?"),
                                 f"{entry.get('errorType')}: {entry.get('detail')}")
    return dict(outcomes)


def dead_letters(sqs, url: str) -> tuple[int, list[str]]:
    """Depth of the dead-letter queue and what its first messages were about."""
    depth = queue_depth(sqs, url)
    about = []
    if depth:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=0).get("Messages", [])
        for message in messages:
            try:
                record = json.loads(message["Body"])["Records"][0]
                about.append(f"{record['eventName']} {record['s3']['object']['key']}")
            except (KeyError, ValueError, IndexError):
                about.append(message["Body"][:120])
    return depth, about


# --- report ----------------------------------------------------------------------------------


CHECKED = ("lost", "inconsistent", "leftovers", "dead-letter queue", "originals changed",
           "bad not recorded", "good recorded as FAILED", "stray")


def scorecard(result: dict) -> bool:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=110)
    table = Table(title="imgproc load scorecard", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("check")
    plan, load, faults = result["plan"], result["load"], result["faults"]
    workers = load["workers"]
    rows = [
        ("images (generated)", plan["images"]),
        ("bad uploads", plan["bad"]),
        ("re-uploaded (new content)", plan["reuploaded"]),
        ("deleted", plan["deleted"]),
        ("expected live / bad at the end", f"{plan['live']} / {plan['badLeft']}"),
        ("uploads (all versions)", plan["versions"]),
        ("wall time (main round)", f"{load['elapsed']:.0f} s"),
        ("images/minute (main round)", f"{result['imagesPerMinute']:.0f}"),
        ("race round: re-uploads / deletes while a worker renders",
         f"{load['races'].get('races: reupload', 0)} / {load['races'].get('races: delete', 0)}"
         f" ({load['raceElapsed']:.0f} s"
         + (f", {load['races']['races missed']} missed" if "races missed" in load["races"]
            else "") + ")"),
        ("requests through the fault proxy", sum(faults["requests"].values())),
        *[(f"faults injected: {kind}", count) for kind, count in faults["faults"].items()],
        ("faults injected: total", faults["totalFaults"]),
        ("handler invocations (SQS batches)", workers.get("invocations", 0)),
        ("messages handled", workers.get("messages", 0)),
        ("duplicates sent (at-least-once)", workers.get("duplicatesSent", 0)),
        ("redeliveries received", workers.get("redeliveries", 0)),
        ("retries (batchItemFailures)", workers.get("batchItemFailures", 0)),
        ("invocation errors (whole batch retried)", workers.get("invocationErrors", 0)),
        *[(f"handler outcomes: {name}", count)
          for name, count in sorted(result["outcomes"].items()) if " " not in name],
        ("slowest batch", f"{load['slowestBatch']:.1f} s"),
        (f"batches slower than the {result['args']['visibility_timeout']} s visibility timeout",
         workers.get("batchesSlowerThanVisibilityTimeout", 0)),
        ("CDN invalidations", result.get("invalidations", "-")),
        ("moto's own 500s (not thread-safe; clients retry)", result["motoErrors"]),
        ("outputs rewritten by a concurrent run, same bytes",
         f"{result['notes'].get('variants written by another run', 0)} variants, "
         f"{result['notes'].get('manifests written by another run', 0)} manifests"),
    ]
    for name, value in rows:
        table.add_row(name, str(value), "")
    passed = True
    for name in CHECKED:
        value = result["checks"][name]
        ok = value == 0
        passed &= ok
        table.add_row(name, str(value), "[green]PASS[/]" if ok else "[red]FAIL[/]")
    if load["timedOut"]:
        passed = False
        table.add_row("queue drained before --timeout", "no", "[red]FAIL[/]")
    console.print(table)
    grouped: dict[tuple[str, str], list[str]] = {}
    for problem in result["problems"]:
        grouped.setdefault((problem["category"], problem["key"]), []).append(problem["detail"])
    for (category, key), details in list(grouped.items())[:25]:
        text = "; ".join(details)
        text = text if len(text) <= 300 else text[:300] + " …"
        console.print(f"  [yellow]{category}[/]: {key!r}: {text}", highlight=False,
                      soft_wrap=True)
    if len(grouped) > 25:
        console.print(f"  … and {len(grouped) - 25} more keys with problems (see --json)")
    for about in result["deadLetters"]:
        console.print(f"  [yellow]dead letter[/]: {about}", highlight=False)
    console.print("[green]PASS[/]" if passed else "[red]FAIL[/]",
                  f"worker logs: {result['args']['log_dir']}", highlight=False)
    return passed


# --- main ------------------------------------------------------------------------------------


class MotoErrors(logging.Handler):
    """Counts the tracebacks moto's server logs for its own errors instead of printing them.

    moto's backends are not thread-safe (e.g. concurrent SQS receives); such a request gets a
    500, which the clients retry like any other 500.
    """

    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Drive the Lambda handler with SQS batches, faults, re-uploads and deletes.")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bad-rate", type=float, default=0.03)
    parser.add_argument("--reupload-rate", type=float, default=0.05)
    parser.add_argument("--delete-rate", type=float, default=0.03)
    parser.add_argument("--duplicate-rate", type=float, default=0.1)
    parser.add_argument("--races", type=int, default=None,
                        help="keys re-uploaded or deleted while a worker holds their bytes, "
                             "after the main round (default: images/100, at least 2)")
    parser.add_argument("--no-sequencers", action="store_true",
                        help="hand the handler moto's S3 events as they are, without the "
                             "`sequencer` real S3 events carry")
    parser.add_argument("--outage", type=float, default=0, metavar="SECONDS",
                        help="halfway through the uploads, every AWS request of the handler "
                             "fails for this long (exercises batchItemFailures and redelivery)")
    parser.add_argument("--visibility-timeout", type=int, default=5,
                        help="seconds before a failed message is delivered again")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="give up waiting for the queue to drain after this many seconds")
    parser.add_argument("--no-cdn", action="store_true",
                        help="no CloudFront distribution (no invalidations)")
    parser.add_argument("--json", metavar="FILE", help="write the raw numbers here")
    parser.add_argument("--log-dir", default=str(LOG_DIR),
                        help="where the workers' logs (the handler's JSON lines) go")
    args = parser.parse_args(argv)
    if args.races is None:
        args.races = max(2, args.images // 100)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    moto_errors = MotoErrors()
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.ERROR)
    werkzeug.addHandler(moto_errors)
    werkzeug.propagate = False
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(FAKE_AWS)
    from moto.server import ThreadedMotoServer

    for stale in Path(args.log_dir).glob("worker-*.log"):
        stale.unlink()  # a run with fewer workers must not read an earlier run's logs
    print(f"generating {args.images} images (seed {args.seed}) …", file=sys.stderr, flush=True)
    plans = plan_uploads(args)
    races = plan_races(args)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    proxy = FaultProxy(endpoint, rate=args.fault_rate, seed=args.seed)
    proxy_url = proxy.start()
    try:
        stack = create_stack(endpoint, args.visibility_timeout, cdn=not args.no_cdn)
        env = {**FAKE_AWS, "AWS_ENDPOINT_URL": proxy_url, "IMAGE_METADATA_TABLE": TABLE,
               "POWERTOOLS_METRICS_NAMESPACE": "imgproc", "POWERTOOLS_SERVICE_NAME": "imgproc"}
        if stack["distribution"]:
            env["CLOUDFRONT_DISTRIBUTION"] = stack["distribution"]["domain"]
            env["CLOUDFRONT_DISTRIBUTION_ID"] = stack["distribution"]["id"]
        settings = {"env": env, "moto": endpoint, "queue_url": stack["queue_url"],
                    "queue_arn": stack["queue_arn"], "seed": args.seed,
                    "duplicate_rate": args.duplicate_rate,
                    "sequencers": not args.no_sequencers, "log_dir": args.log_dir,
                    "visibility_timeout": args.visibility_timeout}
        print(f"moto on {endpoint}, fault proxy on {proxy_url} (rate {args.fault_rate}); "
              f"{len(plans)} keys, {args.workers} workers", file=sys.stderr, flush=True)
        load = run_load(args, stack, plans, races, settings, proxy)
        main_versions = sum(plan.versions for plan in plans)
        plans = plans + races
        faults = proxy.stats()
        print("verifying …", file=sys.stderr, flush=True)
        verifier = Verifier(stack)
        checks = verifier.check(plans)
        outcomes = handler_outcomes(Path(args.log_dir), plans, verifier)
        checks = verifier.problem_counts()
        depth, about = dead_letters(stack["sqs"], stack["dead_url"])
        invalidations = None
        if stack["distribution"]:
            listing = aws_client("cloudfront", endpoint).list_invalidations(
                DistributionId=stack["distribution"]["id"])["InvalidationList"]
            invalidations = listing.get("Quantity", 0)
    finally:
        proxy.stop()
        moto.stop()
    result = {
        "args": vars(args),
        "plan": {
            "images": args.images,
            "bad": sum(plan.bad for plan in plans),
            "reuploaded": sum(plan.versions > 1 for plan in plans),
            "races": len(races),
            "deleted": sum(plan.deleted for plan in plans),
            "live": sum(plan.expected == "live" for plan in plans),
            "badLeft": sum(plan.expected == "bad" for plan in plans),
            "versions": sum(plan.versions for plan in plans),
        },
        "load": load,
        "imagesPerMinute": main_versions / (load["elapsed"] / 60) if load["elapsed"] else 0.0,
        "faults": faults,
        "checks": {name: checks.get(name, 0) for name in CHECKED} | {"dead-letter queue": depth},
        "outcomes": outcomes,
        "problems": sorted(verifier.problems, key=lambda p: (p["category"], p["key"])),
        "deadLetters": about,
        "notes": dict(verifier.counts),
        "invalidations": invalidations,
        "motoErrors": moto_errors.count,
    }
    passed = scorecard(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
