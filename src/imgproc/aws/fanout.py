"""`reprocess --remote`: fan the work out to the deployed pipeline through its own queue.

Each original becomes one SQS message whose body is exactly what S3 would have sent for a
fresh upload (`ObjectCreated:Put`), so the Lambda needs no second code path: it decodes the key
as it always does (`+` for space, percent-encoded UTF-8). `userIdentity.principalId` says the
message came from `imgproc reprocess --remote`. No `sequencer` is made up: the record's
ordering must come from S3 itself, and the handler reads the object's real identity anyway.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import quote_plus

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, TransientError
from ..records import now_iso
from .clients import error_code

PRINCIPAL = "imgproc-reprocess"
BATCH = 10  # SendMessageBatch's limit
_MISSING_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def encode_key(key: str) -> str:
    """A key as S3 writes it in event notifications: UTF-8, percent-encoded, space as '+'."""
    return quote_plus(key, safe="/")


def s3_created_message(bucket: str, key: str, size: int | None, etag: str | None,
                       region: str = "", force: bool = False) -> dict:
    obj: dict = {"key": encode_key(key)}
    if size is not None:
        obj["size"] = size
    if etag:
        obj["eTag"] = etag.strip('"')
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now_iso(),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": PRINCIPAL},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": PRINCIPAL,
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
        # Not part of S3's shape: asks the handler to redo an up-to-date original.
        **({"imgproc": {"force": True}} if force else {}),
    }]}


@dataclass(frozen=True)
class RemoteResult:
    sent: int
    failed: int
    batches: int
    failures: list[dict] = field(default_factory=list)  # {"key", "code", "message"}

    def to_json(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "batches": self.batches,
                "failures": self.failures}


KeyInfo = tuple[str, int | None, str | None]  # key, size, etag


def send_remote(sqs, queue_url: str, bucket: str, keys: Iterable[KeyInfo],
                on_sent: Callable[[int], None] = lambda n: None,
                force: bool = False, workers: int = 1) -> RemoteResult:
    """One message per (key, size, etag), in batches of up to 10, `workers` batches in flight
    at once; failed entries retried once.

    `on_sent(n)` is called after each batch with the number of messages it delivered (from
    the sending thread). Failures are listed in the order of `keys`.
    """
    region = sqs.meta.region_name or ""
    delivered = _Count()

    def send_batch(chunk: list[KeyInfo]) -> list[dict]:
        entries = {str(i): (key, json.dumps(
                       s3_created_message(bucket, key, size, etag, region, force=force),
                       ensure_ascii=False))
                   for i, (key, size, etag) in enumerate(chunk)}
        failed = _send(sqs, queue_url, entries, delivered.value)
        if failed:  # once more, only the entries SQS refused
            failed = _send(sqs, queue_url, {i: entries[i] for i in failed}, delivered.value)
        delivered.add(len(entries) - len(failed))
        on_sent(len(entries) - len(failed))
        return [{"key": entries[i][0], **failed[i]} for i in failed]

    chunks = list(_chunks(keys, BATCH))
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(min(workers, len(chunks))) as pool:
            refused = list(pool.map(send_batch, chunks))
    else:
        refused = [send_batch(chunk) for chunk in chunks]
    failures = [failure for batch in refused for failure in batch]
    return RemoteResult(sent=delivered.value, failed=len(failures), batches=len(chunks),
                        failures=failures)


class _Count:
    """Messages delivered so far, added to from several sending threads."""

    def __init__(self) -> None:
        self.value, self._lock = 0, threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.value += n


def _send(sqs, queue_url: str, entries: dict[str, tuple[str, str]], sent: int) -> dict:
    """SendMessageBatch; returns {entry id: {"code", "message"}} for the refused entries."""
    try:
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": i, "MessageBody": body} for i, (_key, body) in entries.items()])
    except ClientError as exc:
        if error_code(exc) in _MISSING_QUEUE:
            raise ConfigError(f"The queue {queue_url} does not exist: check --queue-url or "
                              "--stack.") from exc
        raise TransientError(f"Sending to {queue_url} failed after {sent} message(s) were "
                             f"sent: {exc}.") from exc
    except BotoCoreError as exc:
        raise TransientError(f"Sending to {queue_url} failed after {sent} message(s) were "
                             f"sent: {exc}.") from exc
    return {f["Id"]: {"code": f.get("Code", ""), "message": f.get("Message", "")}
            for f in response.get("Failed", [])}


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
