"""The production record store: a DynamoDB table keyed by `id`, through boto3.

It behaves like `SqliteRecordStore`. The one rule that needs care is "a record never goes back
in time": `put_unless_newer` is a conditional write, so when two workers race on one key
DynamoDB itself refuses the older version. `add_error` is one UpdateItem (`ADD retryCount`),
so concurrent failures never lose a count.

Only a failed condition has a meaning (False). Everything else that goes wrong (throttling,
5xx, dropped connections, a missing table) is a `TransientError`: it is retried and never
recorded as the picture's fault.

Differences from SQLite that callers must not rely on: `scan` returns records in no
particular order, and `errors()` through the index is eventually consistent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import AwsSettings, client, error_code
from ..errors import TransientError
from ..records import RecordType

# A sparse global secondary index with partition key `key`, which only error records have.
# Assumed to project ALL attributes (as the stack's does): index scans return whole records.
ERROR_INDEX = "errors"
_BATCH = 25  # BatchWriteItem's limit
_READ_BATCH = 100  # BatchGetItem's limit
_BATCH_ATTEMPTS = 6
_BACKOFF = 0.05  # seconds, doubled after each attempt with unprocessed items

_NOT_NEWER = (
    "attribute_not_exists(id) OR attribute_not_exists(sourceOrder) "
    "OR attribute_type(sourceOrder, :null) OR sourceOrder <= :order"
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class DynamoRecordStore:
    def __init__(self, table: str, settings: AwsSettings = AwsSettings(), dynamodb=None):
        self.name = table
        self.dynamodb = dynamodb or client("dynamodb", settings)
        self._has_error_index: bool | None = None  # learnt on the first errors()

    def get(self, record_id: str) -> dict | None:
        with self._errors("GetItem", record_id):
            response = self.dynamodb.get_item(
                TableName=self.name, Key={"id": {"S": record_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None

    def get_many(self, record_ids: Iterable[str]) -> dict[str, dict]:
        """BatchGetItem, 100 ids a call, strongly consistent like `get`; keys DynamoDB leaves
        unprocessed (throttling) are asked for again with a growing pause."""
        ids = list(dict.fromkeys(record_ids))  # a batch must not name one key twice
        found: dict[str, dict] = {}
        for start in range(0, len(ids), _READ_BATCH):
            keys = [{"id": {"S": i}} for i in ids[start : start + _READ_BATCH]]
            for attempt in range(_BATCH_ATTEMPTS):
                with self._errors("BatchGetItem", keys[0]["id"]["S"]):
                    response = self.dynamodb.batch_get_item(RequestItems={
                        self.name: {"Keys": keys, "ConsistentRead": True}})
                for item in response.get("Responses", {}).get(self.name, []):
                    record = from_item(item)
                    found[record["id"]] = record
                keys = response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(_BACKOFF * 2**attempt)
            else:
                raise TransientError(
                    f"DynamoDB left {len(keys)} read(s) unprocessed in table {self.name} after "
                    f"{_BATCH_ATTEMPTS} attempts (throttled).")
        return found

    def put(self, record: dict) -> None:
        with self._errors("PutItem", record["id"]):
            self.dynamodb.put_item(TableName=self.name, Item=to_item(record))

    def put_unless_newer(self, record: dict) -> bool:
        """Write unless the stored `sourceOrder` is greater (a missing or null one never is)."""
        values = {":order": record.get("sourceOrder") or "", ":null": "NULL"}
        try:
            with self._errors("PutItem", record["id"]):
                self.dynamodb.put_item(
                    TableName=self.name,
                    Item=to_item(record),
                    ConditionExpression=_NOT_NEWER,
                    ExpressionAttributeValues=to_item(values),
                )
        except _ConditionFailed:
            return False
        return True

    def add_error(self, record: dict) -> dict:
        """SET every field and ADD 1 to `retryCount` in one UpdateItem; return the result.

        Unlike SQLite's full replacement, fields of the previous item that `record` lacks are
        kept; error records always carry the same fields, so this never shows.
        """
        fields = [name for name in record if name not in ("id", "retryCount")]
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": record[name] for i, name in enumerate(fields)}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        with self._errors("UpdateItem", record["id"]):
            response = self.dynamodb.update_item(
                TableName=self.name,
                Key={"id": {"S": record["id"]}},
                UpdateExpression=(f"SET {sets} " if sets else "") + "ADD #retry :one",
                ExpressionAttributeNames={**names, "#retry": "retryCount"},
                ExpressionAttributeValues=to_item({**values, ":one": 1}),
                ReturnValues="ALL_NEW",
            )
        return from_item(response["Attributes"])

    def delete(self, record_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(record_ids))  # a batch must not name one key twice
        for start in range(0, len(ids), _BATCH):
            self._delete_batch(ids[start : start + _BATCH])

    def scan(self, record_type: str | None = None) -> Iterator[dict]:
        options = {"ConsistentRead": True}
        if record_type is not None:
            options.update(
                FilterExpression="#type = :type",
                ExpressionAttributeNames={"#type": "type"},
                ExpressionAttributeValues={":type": {"S": record_type}},
            )
        return self._scan("Scan", **options)

    def errors(self) -> Iterator[dict]:
        """Error records: from the sparse index where the table has one, else a filtered scan."""
        if self._has_error_index is not False:
            only_errors = {
                "FilterExpression": "#type = :type",
                "ExpressionAttributeNames": {"#type": "type"},
                "ExpressionAttributeValues": {":type": {"S": RecordType.ERROR.value}},
            }
            try:
                # No ConsistentRead: global secondary indexes refuse it (ValidationException).
                yield from self._scan("Scan", IndexName=ERROR_INDEX, **only_errors)
                self._has_error_index = True
                return
            except _NoSuchIndex:
                self._has_error_index = False
        yield from self.scan(RecordType.ERROR)

    # --- calls -----------------------------------------------------------------------------

    def _scan(self, action: str, **options) -> Iterator[dict]:
        index = options.get("IndexName")
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.name, **options)
        seen_any = False
        try:
            for page in pages:
                for item in page.get("Items", []):
                    seen_any = True
                    yield from_item(item)
        except ClientError as exc:
            if index and not seen_any and self._has_error_index is None \
                    and error_code(exc) == "ValidationException":
                raise _NoSuchIndex() from exc
            raise self._transient(action, index or "", exc) from exc
        except BotoCoreError as exc:
            raise self._transient(action, index or "", exc) from exc

    def _delete_batch(self, ids: list[str]) -> None:
        requests = [{"DeleteRequest": {"Key": {"id": {"S": i}}}} for i in ids]
        for attempt in range(_BATCH_ATTEMPTS):
            with self._errors("BatchWriteItem", ids[0]):
                response = self.dynamodb.batch_write_item(RequestItems={self.name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.name, [])
            if not requests:
                return
            time.sleep(_BACKOFF * 2**attempt)
        raise TransientError(
            f"DynamoDB left {len(requests)} delete(s) unprocessed in table {self.name} after "
            f"{_BATCH_ATTEMPTS} attempts (throttled)."
        )

    @contextmanager
    def _errors(self, action: str, record_id: str) -> Iterator[None]:
        """Turns botocore errors into imgproc's meanings: a failed condition or a retry."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise _ConditionFailed() from exc
            raise self._transient(action, record_id, exc) from exc

    def _transient(self, action: str, subject: str, exc: Exception) -> TransientError:
        code = error_code(exc) or type(exc).__name__
        about = f" ({subject!r})" if subject else ""
        return TransientError(
            f"DynamoDB {action} on table {self.name}{about} failed ({code}): {exc}."
        )


class _ConditionFailed(Exception):
    pass


class _NoSuchIndex(Exception):
    pass


# --- records <-> DynamoDB items ------------------------------------------------------------


def to_item(record: dict) -> dict:
    """A record as DynamoDB attribute values (floats become exact decimals of their repr)."""
    return {name: _serializer.serialize(_decimals(value)) for name, value in record.items()}


def from_item(item: dict) -> dict:
    """A DynamoDB item as a record: numbers come back as int when integral, else float."""
    return {name: _numbers(_deserializer.deserialize(value)) for name, value in item.items()}


def _decimals(value):
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def _numbers(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value
