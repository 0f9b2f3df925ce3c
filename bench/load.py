"""Load: the real Lambda handler under SQS delivery, duplicates, re-uploads, deletes and faults.

    python bench/load.py [--images 1000] [--workers 4] [--fault-rate 0.05] [--seed 7]
                         [--bad-rate 0.03] [--reupload-rate 0.05] [--delete-rate 0.03]
                         [--duplicate-rate 0.1] [--pair-rate 0.02] [--bad-key-rate 0.01]
                         [--unread-rate 0.01] [--races N] [--outage SECONDS]
                         [--visibility-timeout 5] [--function-timeout 60] [--no-sequencers]
                         [--json FILE]

moto's server stands in for S3, SQS, DynamoDB and CloudFront. The bucket notifies a queue
(ObjectCreated:* and ObjectRemoved:* under uploads/) whose RedrivePolicy sends a message to a
dead-letter queue after 5 receives. W worker processes play Lambda's SQS poller: they receive
batches of 10 straight from moto, shuffle them, call `imgproc.lambda_handler.handler` with
`AWS_ENDPOINT_URL` set to a fault proxy (`bench/faultproxy.py`: throttling, 5xx, dropped
connections, lost responses, latency), delete what the handler did not list in
`batchItemFailures`, and now and then send a message again (at-least-once delivery, late).
Meanwhile the driver re-uploads some keys with new content and deletes others, each after its
first processing. The invocation's context counts down from the function's timeout
(`--function-timeout`, 60 s like the stack), so a long batch gives its last messages back
(Deferred) as Lambda would.

Besides pictures and bad uploads, the mix holds key shapes with expectations of their own:
prefix pairs (`uploads/<u>/<name>` without an extension and `uploads/<u>/<name>/<pic>.jpg`:
the short key is deleted or re-uploaded once both are recorded, and the long one must stay
COMPLETE with every variant); keys with '.' or '..' segments (half of them spelling a live
key once collapsed) and one whose variant keys would pass S3's 1,024 bytes, each FAILED
`BadKey` with no outputs at all and never in the dead-letter queue; and image-like names
imgproc does not read (.bmp, .svg, .ico, .ppm, .psd, .jxl, .tga, ...), FAILED
`UnsupportedFormat` with a sentence naming the format, except a JPEG named .bmp, which
renders. moto's S3 events lack the `sequencer` real S3 events carry; the workers add
one (from the event time) unless `--no-sequencers`.

Then a race round (`--races`, default images/100): fresh keys, each re-uploaded or deleted
while a worker holds the bytes it has just read (the proxy holds that GET's answer until
another worker has handled the new event). `--outage SECONDS` makes every request of the
handler fail for a while, longer than botocore's retries ride out, so messages come back
through `batchItemFailures`; give it a `--visibility-timeout` longer than a batch under
backoff (the stack uses 6x the function timeout), or redeliveries pile up to the DLQ.

When the queue has drained, everything is checked straight against moto (no faults): every
live original COMPLETE for its current bytes with every variant and the manifest (only its
own: a longer key's outputs share its folder); every bad upload FAILED with a reason and an
`error#` record, and no variants (a bad key or an unread format with the expected errorType
and sentence, else it counts as lost or inconsistent; a bad key not even a manifest); deleted
originals leave nothing of their own behind;
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
import posixpath
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
    # what a bad upload's FAILED record must say: its errorType (None: any) and words its
    # sentence must hold; `no_outputs`: not even a manifest (a key no output may be stored at)
    error_type: str | None = None
    error_words: tuple[str, ...] = ()
    no_outputs: bool = False
    group: str = ""  # "pair-short", "pair-long", "bad-key", "unread" (scorecard and checks)
    after: str | None = None  # act only once this other key is recorded for its bytes too

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


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _small_picture(rng: random.Random, mode: str = "RGB") -> Image.Image:
    width, height = rng.randint(16, 120), rng.randint(16, 120)
    image = Image.new("RGB", (width, height), tuple(rng.randint(0, 255) for _ in range(3)))
    ImageDraw.Draw(image).rectangle((2, 2, width // 2, height // 2), fill=(250, 250, 250))
    return image.convert(mode)


def _psd(rng: random.Random) -> bytes:
    """A Photoshop header (Pillow reads PSD but cannot write it): signature, version 1, six
    reserved bytes, 3 channels, height, width, 8 bits, RGB; then empty sections and raw data."""
    width, height = rng.randint(8, 64), rng.randint(8, 64)
    header = b"8BPS" + (1).to_bytes(2, "big") + b"\0" * 6 + (3).to_bytes(2, "big") \
        + height.to_bytes(4, "big") + width.to_bytes(4, "big") + (8).to_bytes(2, "big") \
        + (3).to_bytes(2, "big")
    return header + b"\0" * 12 + b"\0\0" + rng.randbytes(width * height * 3)


# Image-like names in formats imgproc does not read: (extension, content, words the FAILED
# UnsupportedFormat sentence must hold). `None` words: the content is a supported format
# (a JPEG named .bmp), so the upload must render like any other.
UNREAD_KINDS = (
    ("bmp", lambda rng: _encode(_small_picture(rng), "BMP"), ("BMP", ".bmp")),
    ("svg", lambda rng: (f'<svg xmlns="http://www.w3.org/2000/svg" width="{rng.randint(8, 99)}"'
                         ' height="40"><rect width="20" height="20" fill="red"/></svg>\n'
                         ).encode(), ("SVG", ".svg")),
    ("ico", lambda rng: _encode(_small_picture(rng), "ICO", sizes=[(32, 32)]), ("ICO", ".ico")),
    ("ppm", lambda rng: _encode(_small_picture(rng), "PPM"), ("PPM", ".ppm")),
    ("psd", _psd, ("PSD", ".psd")),
    ("jxl", lambda rng: b"\xff\x0a" + rng.randbytes(64), ("JPEG XL", ".jxl")),
    ("tga", lambda rng: _encode(_small_picture(rng), "TGA"), ("TGA", ".tga")),
    ("pgm", lambda rng: _encode(_small_picture(rng, "L"), "PPM"), ("PGM", ".pgm")),
    ("bmp", lambda rng: _encode(_small_picture(rng), "JPEG", quality=80), None),
    ("pbm", lambda rng: _encode(_small_picture(rng, "1"), "PPM"), ("PBM", ".pbm")),
)


def _count(images: int, rate: float) -> int:
    return max(1, round(images * rate)) if rate > 0 else 0


def plan_prefix_pairs(rng: random.Random, count: int) -> list[KeyPlan]:
    """`uploads/<u>/<name>` (no extension) and `uploads/<u>/<name>/<pic>.jpg`: the short key's
    outputs folder holds the long key's. The driver deletes or re-uploads the short key once
    both are recorded; the long one must stay COMPLETE with every variant."""
    plans = []
    for index in range(count):
        folder = f"uploads/pair{index % 7}/"
        name = rng.choice(("alice", "Album 2026", "café", "a+b", "100% real")) + f" {index:03d}"
        short, long_ = f"{folder}{name}", f"{folder}{name}/{rng.choice(_NAMES).format(i=index)}.jpg"
        data, _fmt, note = make_image(rng, 400_000 + index)
        action = ("delete", "reupload", "reupload delete")[index % 3].split()
        plan = KeyPlan(short, data, note=f"prefix pair, short key ({' then '.join(action)}); "
                       f"{note}", actions=action, group="pair-short", after=long_)
        if "reupload" in action:
            plan.replacement, _fmt, note = make_image(rng, 500_000 + index)
            plan.note += f" → {note}"
        data, _fmt, note = make_image(rng, 600_000 + index)
        whole = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(whole, "JPEG", quality=85)
        plans += [plan, KeyPlan(long_, whole.getvalue(), group="pair-long",
                                note=f"prefix pair, long key under {short!r}; {note}")]
    return plans


def plan_bad_keys(rng: random.Random, count: int, live: list[KeyPlan]) -> list[KeyPlan]:
    """Keys with '.' or '..' segments, half of them spelling a live key (`uploads/u3/x/../IMG
    0003.jpg` is `uploads/u3/IMG 0003.jpg` once a browser collapses it), and one key whose
    variants' keys would pass S3's 1,024 bytes. Valid pictures: only the key is wrong."""
    plans = []
    for index in range(count):
        target = rng.choice(live).key
        folder, name = target.rsplit("/", 1)
        key = rng.choice((f"{folder}/mallory/../{name}", f"{folder}/./{name}",
                          f"{folder}/x/y/../../{name}")) if index % 2 == 0 else rng.choice((
            f"uploads/mallory/../bad key {index:03d}.jpg", f"uploads/./dot {index:03d}.png",
            f"uploads/../uploads/up {index:03d}.webp", f"uploads/a/./b/../c {index:03d}"))
        data, _fmt, note = make_image(rng, 700_000 + index)
        plans.append(KeyPlan(key, data, bad=True, error_type="BadKey", no_outputs=True,
                             group="bad-key", note=f"'.'/'..' segment key; {note}"))
    if count:
        # 1,010 bytes, which S3 takes; the outputs add 27 ("processed/", "/webp-medium.webp")
        segment = "long folder name " * 14  # 238 bytes: a fine directory name on its own
        key = "uploads/" + "/".join(f"{segment}{n}" for n in range(4)) + "/too long.jpg"
        key = key.replace("/too long", "/" + "x" * (1010 - len(key.encode()) - 1) + "/too long")
        assert len(key.encode()) == 1010, len(key.encode())
        data, _fmt, note = make_image(rng, 800_000)
        plans.append(KeyPlan(key, data, bad=True, error_type="BadKey", no_outputs=True,
                             error_words=("1024",), group="bad-key",
                             note=f"{len(key.encode())}-byte key (variants over 1,024); {note}"))
    return plans


def plan_unread(rng: random.Random, count: int) -> list[KeyPlan]:
    plans = []
    for index in range(count):
        extension, make, words = UNREAD_KINDS[index % len(UNREAD_KINDS)]
        key = f"uploads/unread/{rng.choice(('scan', 'Icon', 'logo', 'layers'))} {index:03d}." \
            + (extension.upper() if index % 4 == 3 else extension)
        data = make(rng)
        if words is None:
            plans.append(KeyPlan(key, data, group="unread",
                                 note=f"a JPEG named .{extension}: content decides"))
        else:
            plans.append(KeyPlan(key, data, bad=True, error_type="UnsupportedFormat",
                                 error_words=words, group="unread",
                                 note=f"{extension.upper()} content named .{extension}"))
    return plans


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
    # the key shapes with their own expectations (no random actions: theirs are planned)
    special = random.Random(args.seed + 4)
    live = [plan for plan in plans if not plan.bad and not plan.actions]
    plans += plan_prefix_pairs(special, _count(args.images, args.pair_rate))
    plans += plan_bad_keys(special, _count(args.images, args.bad_key_rate), live)
    plans += plan_unread(special, _count(args.images, args.unread_rate))
    assert len({plan.key for plan in plans}) == len(plans), "duplicate keys in the plan"
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
    timeout: float = 60.0  # the function's timeout (cdk/imgproc_cdk/settings.py: 60 s)
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Like Lambda's: the timeout less the time since the invocation started, so a batch
        that runs long gives its last messages back (Deferred) instead of starting them."""
        return max(0, int((self.timeout - (time.monotonic() - self.started)) * 1000))


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
                           LambdaContext(aws_request_id=str(uuid.uuid4()),
                                         timeout=settings["function_timeout"]))
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
            waiting = waiting[:300]
            etags = self.recorded_etags([plan.key for plan in waiting]
                                        + [plan.after for plan in waiting if plan.after])
            waiting = [plan for plan in waiting if etags.get(plan.key) == plan.md5
                       and (plan.after is None
                            or etags.get(plan.after) == self.plans[plan.after].md5)
                       and self.rng.random() < 0.5]  # spread the actions out in time
        for plan in waiting:
            self.act(plan)
        return len(waiting)

    def recorded_etags(self, keys: list[str]) -> dict[str, str | None]:
        """The source etag of each key's image record, where it has one (BatchGetItem)."""
        found, keys = {}, list(dict.fromkeys(keys))  # BatchGetItem refuses duplicates
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
        self.planned = {plan.key for plan in plans}
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

    def own_outputs(self, key: str) -> set[str]:
        """The objects directly in `key`'s outputs folder: a longer key's
        (`processed/uploads/alice/cat.jpg/…` for `uploads/alice`) are one folder deeper."""
        prefix = f"processed/{key}/"
        return {k for k in self.objects if k.startswith(prefix) and "/" not in k[len(prefix):]}

    def _check_outputs(self, plan: KeyPlan, record: dict) -> None:
        prefix = f"processed/{plan.key}/"
        variants = record.get("processedVariants", [])
        names = {v["name"] for v in variants}
        if names != self.variant_names:
            self.problem("inconsistent", plan.key, f"variants {sorted(names)}")
        expected = {v["key"] for v in variants} | {prefix + "manifest.json"}
        extra = self.own_outputs(plan.key) - expected
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
        """FAILED with a reason and an `error#` record; for the key shapes with expectations
        of their own (bad keys, unread formats) also the errorType, the words of the sentence
        and the outputs, and a missing FAILED record counts as lost."""
        record = self.records.get(plan.key)
        error = self.records.get(f"error#{plan.key}")
        missing = "lost" if plan.error_type else "bad not recorded"
        expected = f"expected FAILED {plan.error_type or '(any reason)'}"
        if record is None or record.get("status") != "FAILED" or not record.get("error"):
            status = record.get("status") if record else "no record"
            self.problem(missing, plan.key, f"{status}, {expected} ({plan.note})")
        else:
            self._check_reason(plan, "the FAILED record", record)
            etag = record.get("source", {}).get("etag")
            if etag != plan.md5 and not (plan.no_outputs and etag is None):
                self.problem("inconsistent", plan.key, "the FAILED record describes other bytes")
        if error is None or not error.get("error"):
            self.problem(missing, plan.key, f"no error# record, {expected} ({plan.note})")
        else:
            self._check_reason(plan, "the error# record", error)
        if plan.no_outputs:
            self._check_no_outputs(plan)
        else:
            variants = self.own_outputs(plan.key) - {f"processed/{plan.key}/manifest.json"}
            if variants:
                self.problem("inconsistent", plan.key,
                             f"a bad upload has variants: {sorted(variants)}")

    def _check_reason(self, plan: KeyPlan, what: str, record: dict) -> None:
        if plan.error_type and record.get("errorType") != plan.error_type:
            self.problem("inconsistent", plan.key,
                         f"{what} says {record.get('errorType')}, expected {plan.error_type}: "
                         f"{record.get('error')!r}")
        absent = [word for word in plan.error_words if word not in record.get("error", "")]
        if absent:
            self.problem("inconsistent", plan.key, f"{what}'s sentence does not name "
                         f"{' or '.join(absent)}: {record.get('error')!r}")

    def _check_no_outputs(self, plan: KeyPlan) -> None:
        """A key no output may be stored at: nothing under its folder, nor under the key a
        browser would make of it ('..' collapsed), unless that key is a planned upload (whose
        own check then sees foreign variants as sizes or a manifest that do not match)."""
        stored = [k for k in self.objects if k.startswith(f"processed/{plan.key}/")]
        alias = posixpath.normpath(plan.key)
        if alias != plan.key and alias not in self.planned:
            stored += [k for k in self.objects if k.startswith(f"processed/{alias}/")]
            stored += [i for i in (alias, f"{alias}#placeholder") if i in self.records]
        if f"{plan.key}#placeholder" in self.records:
            stored.append(f"{plan.key}#placeholder")
        if stored:
            self.problem("inconsistent", plan.key, f"outputs of a key that can have none: "
                         f"{sorted(stored)[:5]}")

    def _check_deleted(self, plan: KeyPlan) -> None:
        if plan.key in self.objects:
            self.problem("originals changed", plan.key, "a deleted original is back")
        left = sorted(self.own_outputs(plan.key))
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


def dead_letters(sqs, url: str, plans: list[KeyPlan]) -> tuple[int, list[str]]:
    """Depth of the dead-letter queue and what each message in it was about (the key, and
    what kind of key it is when it has expectations of its own: a bad key or an unread
    format must be consumed with its FAILED record, never retried to the DLQ)."""
    from imgproc.keys import decode_event_key

    groups = {plan.key: plan.group for plan in plans}
    depth = queue_depth(sqs, url)
    about: list[str] = []
    seen: set[str] = set()
    while depth and len(seen) < depth:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=300).get("Messages", [])
        if not messages:
            break
        for message in messages:
            if message["MessageId"] in seen:
                continue
            seen.add(message["MessageId"])
            try:
                record = json.loads(message["Body"])["Records"][0]
                key = decode_event_key(record["s3"]["object"]["key"])
                group = f" [{groups[key]}]" if groups.get(key) else ""
                about.append(f"{record['eventName']} {key!r}{group}")
            except (KeyError, ValueError, IndexError, TypeError):
                about.append(message["Body"][:120])
    return depth, about


# --- report ----------------------------------------------------------------------------------


def key_shapes(plans: list[KeyPlan], problems: list[dict]) -> dict:
    """How many of each key shape with expectations of its own, and how many of those keys
    have a problem (counted in the checks' categories too)."""
    troubled = {problem["key"] for problem in problems}
    group = {name: [plan for plan in plans if plan.group == name]
             for name in ("pair-short", "pair-long", "bad-key", "unread")}
    shorts = group["pair-short"]
    return {
        "prefixPairs": len(shorts),
        "prefixPairsShortDeleted": sum(plan.deleted for plan in shorts),
        "prefixPairsShortReuploaded": sum(plan.versions > 1 for plan in shorts),
        "prefixPairsWithProblems": sum(plan.key in troubled or plan.after in troubled
                                       for plan in shorts),
        "badKeys": len(group["bad-key"]),
        "badKeysDotSegments": sum(any(part in (".", "..") for part in plan.key.split("/"))
                                  for plan in group["bad-key"]),
        "badKeysWithProblems": sum(plan.key in troubled for plan in group["bad-key"]),
        "unreadFormats": sum(plan.bad for plan in group["unread"]),
        "unreadNamesWithSupportedContent": sum(not plan.bad for plan in group["unread"]),
        "unreadWithProblems": sum(plan.key in troubled for plan in group["unread"]),
    }


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
        ("bad uploads (all that must end FAILED)", plan["bad"]),
        ("re-uploaded (new content)", plan["reuploaded"]),
        ("deleted", plan["deleted"]),
        ("prefix pairs: short key deleted / re-uploaded; with problems",
         f"{plan['prefixPairs']}: {plan['prefixPairsShortDeleted']} / "
         f"{plan['prefixPairsShortReuploaded']}; {plan['prefixPairsWithProblems']}"),
        ("bad keys ('.'/'..' segments, too long): FAILED BadKey; with problems",
         f"{plan['badKeys']} ({plan['badKeysDotSegments']} dot); {plan['badKeysWithProblems']}"),
        ("unread formats: FAILED UnsupportedFormat (+ supported content); with problems",
         f"{plan['unreadFormats']} (+{plan['unreadNamesWithSupportedContent']}); "
         f"{plan['unreadWithProblems']}"),
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
        ("  of them given back unstarted, too little time left (Deferred)",
         result["outcomes"].get("RETRY Deferred", 0)),
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
    for about in result["deadLetters"][:25]:
        console.print(f"  [yellow]dead letter[/]: {about}", highlight=False)
    if len(result["deadLetters"]) > 25:
        console.print(f"  … and {len(result['deadLetters']) - 25} more dead letters (see --json)")
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
    parser.add_argument("--pair-rate", type=float, default=0.02,
                        help="prefix pairs per image (at least one): `uploads/<u>/<name>` and "
                             "`uploads/<u>/<name>/<pic>.jpg`, the short one deleted or "
                             "re-uploaded, the long one must stay COMPLETE")
    parser.add_argument("--bad-key-rate", type=float, default=0.01,
                        help="keys with '.' or '..' segments per image (at least one), plus "
                             "one whose variant keys would pass 1,024 bytes: FAILED BadKey")
    parser.add_argument("--unread-rate", type=float, default=0.01,
                        help="image-like names imgproc does not read (.bmp, .svg, .psd, ...) "
                             "per image (at least one): FAILED UnsupportedFormat naming it")
    parser.add_argument("--function-timeout", type=float, default=60,
                        help="the Lambda timeout the handler's context counts down from")
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
                    "visibility_timeout": args.visibility_timeout,
                    "function_timeout": args.function_timeout}
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
        depth, about = dead_letters(stack["sqs"], stack["dead_url"], plans)
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
            **key_shapes(plans, verifier.problems),
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
