"""The production object store: an S3 bucket through boto3.

Only "no such key" means missing. Everything else that goes wrong (throttling, 5xx, dropped
connections, access denied, a missing bucket) is a `TransientError`: it is retried and ends
in the dead-letter queue if it persists, and it is never recorded as the picture's fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import AwsSettings, client, error_code, http_status
from ..errors import BadKey, FileTooLarge, ImgprocError, TransientError
from ..keys import MAX_KEY_BYTES, check_key
from .base import ObjectInfo, StoredObject

_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_DELETE_BATCH = 1000  # DeleteObjects' limit


class S3ObjectStore:
    def __init__(self, bucket: str, settings: AwsSettings = AwsSettings(), s3=None):
        self.name = bucket
        self.s3 = s3 or client("s3", settings)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.s3.head_object(Bucket=self.name, Key=key)
        except (ClientError, BotoCoreError) as exc:
            if _is_missing(exc):
                return None
            raise _transient("HEAD", self.name, key, exc) from exc
        return _info(key, response)

    def get(self, key: str, version_id: str | None = None, *, etag: str | None = None,
            max_bytes: int | None = None) -> StoredObject | None:
        """The bytes of one version and that version's own etag, read in one response.

        `etag`: only if the object still has it (IfMatch); `max_bytes`: never read more.
        """
        options = {"VersionId": version_id} if version_id else {}
        if etag:
            options["IfMatch"] = f'"{etag}"'
        try:
            response = self.s3.get_object(Bucket=self.name, Key=key, **options)
            body = response["Body"]
            data = body.read() if max_bytes is None else body.read(max_bytes + 1)
        except (ClientError, BotoCoreError) as exc:
            if _is_missing(exc):
                return None
            if error_code(exc) == "PreconditionFailed" or http_status(exc) == 412:
                raise TransientError(
                    f"s3://{self.name}/{key} changed between its HEAD and GET (the etag is no "
                    f"longer {etag}); it will be read again.") from exc
            raise _transient("GET", self.name, key, exc) from exc
        if max_bytes is not None and len(data) > max_bytes:
            body.close()
            raise FileTooLarge(f"The file is over the limit of {max_bytes} bytes "
                               "(MAX_IMAGE_SIZE); it grew after it was checked.")
        return StoredObject(_info(key, response), data)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        cache_control: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        try:
            extra = {"CacheControl": cache_control} if cache_control else {}
            self.s3.put_object(Bucket=self.name, Key=key, Body=data, ContentType=content_type,
                               Metadata=metadata or {}, **extra)
        except (ClientError, BotoCoreError) as exc:
            raise _transient("PUT", self.name, key, exc) from exc

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under `prefix`, page by page (content types need a HEAD each)."""
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        etag=item["ETag"].strip('"'),
                        last_modified=_iso(item["LastModified"]),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _transient("LIST", self.name, prefix, exc) from exc

    def check_key(self, key: str) -> None:
        check_key(key)

    def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            try:
                response = self.s3.delete_objects(
                    Bucket=self.name, Delete={"Objects": batch, "Quiet": True}
                )
            except (ClientError, BotoCoreError) as exc:
                raise _transient("DELETE", self.name, batch[0]["Key"], exc) from exc
            if response.get("Errors"):
                first = response["Errors"][0]
                raise TransientError(
                    f"S3 could not delete {len(response['Errors'])} object(s) from "
                    f"{self.name}, first {first.get('Key')!r}: {first.get('Message')}."
                )


def _info(key: str, response: dict) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=int(response.get("ContentLength", 0)),
        etag=response["ETag"].strip('"'),
        last_modified=_iso(response["LastModified"]),
        version_id=_version(response.get("VersionId")),
        content_type=response.get("ContentType"),
        cache_control=response.get("CacheControl"),
        metadata=response.get("Metadata") or {},
    )


def _version(version_id: str | None) -> str | None:
    """Unversioned buckets report the version 'null'; that identifies nothing."""
    return None if version_id in (None, "", "null") else version_id


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_missing(exc: Exception) -> bool:
    return error_code(exc) in _MISSING or (
        isinstance(exc, ClientError) and http_status(exc) == 404
        and error_code(exc) not in ("NoSuchBucket",)
    )


def _transient(action: str, bucket: str, key: str, exc: Exception) -> ImgprocError:
    """What a failed call means: a retry, except a key S3 calls too long (the same every time)."""
    code = error_code(exc) or type(exc).__name__
    if code == "KeyTooLongError":
        return BadKey(f"S3 refused the key {key[:80]!r}… ({len(key.encode())} bytes): over "
                      f"its limit of {MAX_KEY_BYTES} bytes.")
    return TransientError(f"S3 {action} s3://{bucket}/{key} failed ({code}): {exc}.")
