"""The two seams between imgproc's logic and the world: an object store and a record store.

Stores do I/O and nothing else. They report a missing object as `None`, a store that is
throttled or unreachable as `TransientError`, and never decide what a failure means for a
picture; `core.process_object` does that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD (or a listing) says about an object."""

    key: str
    size: int
    etag: str  # without quotes
    last_modified: str  # ISO 8601 UTC with microseconds: sortable as text
    version_id: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    metadata: dict[str, str] | None = None


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes together with the identity of exactly those bytes."""

    info: ObjectInfo
    data: bytes


class ObjectStore(Protocol):
    name: str  # bucket name or directory, recorded as `source.bucket`

    def head(self, key: str) -> ObjectInfo | None: ...

    def get(self, key: str, version_id: str | None = None, *, etag: str | None = None,
            max_bytes: int | None = None) -> StoredObject | None:
        """The bytes, only if the object still has `etag` (else TransientError: read again),
        never more than `max_bytes` (else FileTooLarge)."""
        ...

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        cache_control: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None: ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def check_key(self, key: str) -> None:
        """Raise BadKey for a key this store cannot hold."""
        ...


class RecordStore(Protocol):
    """Records are plain dicts keyed by `id`, with the contract's camelCase fields."""

    def get(self, record_id: str) -> dict | None: ...

    def get_many(self, record_ids: Iterable[str]) -> dict[str, dict]:
        """{id: record} for those of `record_ids` that exist, read in as few calls as the
        store allows (a backfill plan reads one record per original)."""
        ...

    def put(self, record: dict) -> None: ...

    def put_unless_newer(self, record: dict) -> bool:
        """Write an image record unless the stored one has a greater `sourceOrder`.

        Returns False (and writes nothing) when a newer version of the original is recorded:
        a record never goes back in time.
        """
        ...

    def add_error(self, record: dict) -> dict:
        """Write an error record, `retryCount` one more than before (atomically); return it."""
        ...

    def delete(self, record_ids: Iterable[str]) -> None: ...

    def scan(self, record_type: str | None = None) -> Iterator[dict]: ...

    def errors(self) -> Iterator[dict]: ...
