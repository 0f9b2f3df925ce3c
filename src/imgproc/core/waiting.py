"""Waiting for the pipeline: poll a record until it settles, with a gentle backoff.

`status --wait`, `upload --wait` and `smoke` all wait the same way: 0.5 s between reads at
first, growing to 5 s, so a long wait costs few reads and a quick render is seen quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from ..records import is_done
from ..stores.base import RecordStore

T = TypeVar("T")

FIRST_DELAY, MAX_DELAY, GROWTH = 0.5, 5.0, 1.5


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float,
         sleep: Callable[[float], None] = time.sleep) -> T:
    """`read()` until `done(value)` or `timeout` seconds passed; the last value either way."""
    deadline, delay = time.monotonic() + timeout, FIRST_DELAY
    while True:
        value = read()
        remaining = deadline - time.monotonic()
        if done(value) or remaining <= 0:
            return value
        sleep(min(delay, remaining))
        delay = min(delay * GROWTH, MAX_DELAY)


def wait_for_record(records: RecordStore, key: str, timeout: float,
                    etag: str | None = None) -> dict | None:
    """The record of `key` once it has an outcome (for the bytes with `etag`, when given:
    a re-upload's old record does not count)."""

    return poll(lambda: records.get(key),
                lambda record: is_done(record) and is_for(record, etag), timeout)


def is_for(record: dict | None, etag: str | None) -> bool:
    """Whether a record describes the bytes with `etag` (any bytes when `etag` is None)."""
    return record is not None and (etag is None
                                   or (record.get("source") or {}).get("etag") == etag)
