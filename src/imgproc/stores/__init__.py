"""Choosing stores from what the user typed: a directory + SQLite, or S3 + DynamoDB.

A `--bucket` value containing '/' or starting with 'file://' is a directory (S3 bucket names
never contain '/'); its records default to `<dir>/.imgproc/metadata.db`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..aws.clients import AwsSettings
from ..errors import ConfigError
from .base import ObjectInfo, ObjectStore, RecordStore, StoredObject
from .directory import META_DIR, DirectoryStore
from .sqlite import SqliteRecordStore

__all__ = [
    "DirectoryStore",
    "ObjectInfo",
    "ObjectStore",
    "RecordStore",
    "SqliteRecordStore",
    "StoredObject",
    "is_directory",
    "open_object_store",
    "open_record_store",
]


_DYNAMODB_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def is_directory(bucket: str) -> bool:
    return "/" in bucket or bucket.startswith("file://") or bucket in (".", "..")


def directory_of(bucket: str) -> Path:
    return Path(bucket[len("file://") :] if bucket.startswith("file://") else bucket)


def open_object_store(bucket: str | None, aws: AwsSettings = AwsSettings()) -> ObjectStore:
    if not bucket:
        raise ConfigError(
            "No bucket given: pass --bucket NAME (an S3 bucket) or --bucket ./dir (a local "
            "directory), set IMGPROC_BUCKET, or use --stack NAME."
        )
    if is_directory(bucket):
        root = directory_of(bucket)
        if not root.is_dir():
            raise ConfigError(f"--bucket {bucket}: the directory {root} does not exist.")
        return DirectoryStore(root)
    from .s3 import S3ObjectStore  # boto3 only when AWS is used

    return S3ObjectStore(bucket, aws)


def open_record_store(
    table: str | None, bucket: str | None, aws: AwsSettings = AwsSettings()
) -> RecordStore:
    if table and table.startswith("sqlite:"):
        if not table.startswith("sqlite:///"):
            raise ConfigError(
                f"--table {table}: expected sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db."
            )
        return SqliteRecordStore(Path(table[len("sqlite:///") :]))
    if table and not _DYNAMODB_NAME.fullmatch(table):
        raise ConfigError(
            f"--table {table}: expected a DynamoDB table name (3-255 letters, digits, '_', '-', "
            "'.'), sqlite:///relative/path.db or sqlite:////absolute/path.db."
        )
    if table:
        from .dynamodb import DynamoRecordStore

        return DynamoRecordStore(table, aws)
    if bucket and is_directory(bucket):
        return SqliteRecordStore(directory_of(bucket) / META_DIR / "metadata.db")
    raise ConfigError("No table given: pass --table NAME, set IMGPROC_TABLE, or use --stack NAME.")
