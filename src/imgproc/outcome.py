"""What happened to one original: shared by the CLI's summaries and the Lambda's batch report."""

from __future__ import annotations

from dataclasses import dataclass

COMPLETE = "COMPLETE"
PARTIAL = "PARTIAL"
FAILED = "FAILED"
SKIPPED = "SKIPPED"  # up to date, or a newer version is already recorded
IGNORED = "IGNORED"  # not ours to process: an output key, or the original is gone
RETRY = "RETRY"  # a transient failure: nothing recorded, the same work can be retried
DELETED = "DELETED"  # the original was removed, and with it its variants and records

_FINE = {COMPLETE, SKIPPED, IGNORED, DELETED}


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str
    message: str = ""
    error_type: str | None = None
    record: dict | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status in _FINE

    @property
    def retryable(self) -> bool:
        return self.status == RETRY

    def to_json(self) -> dict:
        data = {"key": self.key, "outcome": self.status, "durationMs": self.duration_ms}
        if self.message:
            data["message"] = self.message
        if self.error_type:
            data["errorType"] = self.error_type
        if self.record is not None:
            data["record"] = self.record
        return data
