"""Choosing stores from what the user typed: a directory + SQLite, or S3 + DynamoDB.

A `--bucket` value containing '/' or starting with 'file://' is a directory (S3 bucket names
never contain '/'); its records default to `<dir>/.imgproc/metadata.db`.
"""

from __future__ import annotations

from pathlib import Path

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


def is_directory(bucket: str) -> bool:
    return "/" in bucket or bucket.startswith("file://") or bucket in (".", "..")


def directory_of(bucket: str) -> Path:
    return Path(bucket[len("file://") :] if bucket.startswith("file://") else bucket)


def open_object_store(bucket: str | None) -> ObjectStore:
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
    raise ConfigError(
        f"--bucket {bucket}: S3 buckets are not supported by this build yet; "
        "use a local directory such as --bucket ./media."
    )


def open_record_store(table: str | None, bucket: str | None) -> RecordStore:
    if table and table.startswith("sqlite:///"):
        return SqliteRecordStore(Path(table[len("sqlite:///") :]))
    if table:
        raise ConfigError(
            f"--table {table}: expected sqlite:///relative/path.db or sqlite:////absolute/path.db."
        )
    if bucket and is_directory(bucket):
        return SqliteRecordStore(directory_of(bucket) / META_DIR / "metadata.db")
    raise ConfigError("No table given: pass --table NAME, set IMGPROC_TABLE, or use --stack NAME.")
