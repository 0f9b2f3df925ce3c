"""What happened to one original: shared by the CLI's summaries and the Lambda's batch report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .records import Status


class Result(StrEnum):
    """An outcome's `outcome`: a record's status, or why no record was written."""

    COMPLETE = Status.COMPLETE.value
    PARTIAL = Status.PARTIAL.value
    FAILED = Status.FAILED.value
    SKIPPED = "SKIPPED"  # up to date, or a newer version is already recorded
    IGNORED = "IGNORED"  # not ours to process: an output key, or the original is gone
    RETRY = "RETRY"  # a transient failure: nothing recorded, the same work can be retried
    DELETED = "DELETED"  # the original was removed, and with it its variants and records

    @property
    def ok(self) -> bool:
        """Nothing for anyone to do: the CLI exits 0."""
        return self in _FINE

    @property
    def rendered(self) -> bool:
        """Variants were made (the metrics count their bytes)."""
        return self in (Result.COMPLETE, Result.PARTIAL)


_FINE = frozenset({Result.COMPLETE, Result.SKIPPED, Result.IGNORED, Result.DELETED})


@dataclass(frozen=True)
class Outcome:
    key: str
    status: Result
    message: str = ""
    error_type: str | None = None
    record: dict | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return Result(self.status).ok

    @property
    def retryable(self) -> bool:
        return self.status == Result.RETRY

    def to_json(self) -> dict:
        data = {"key": self.key, "outcome": str(self.status), "durationMs": self.duration_ms}
        if self.message:
            data["message"] = self.message
        if self.error_type:
            data["errorType"] = self.error_type
        if self.record is not None:
            data["record"] = self.record
        return data
