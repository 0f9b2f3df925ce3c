"""Deployment parameters, read from CDK context (`-c name=value` or cdk.json), with defaults.

Memory: Lambda gives a full vCPU at 1769 MB and imgproc's render is single-threaded, so below
that size the time per image grows as memory shrinks and the GB-seconds stay about the same;
above it, nothing gets faster. 1769 MB buys the lowest latency at no extra cost per image and
leaves room for a 100-megapixel PNG (see README, "What it costs").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import App

from imgproc.config import Config


@dataclass(frozen=True)
class DeploySettings:
    memory_mb: int = 1769
    timeout_seconds: int = 60
    reserved_concurrency: int = 20
    max_concurrency: int = 10  # SQS pollers' ceiling; at most the reserved concurrency
    batch_size: int = 5
    max_receive_count: int = 5  # deliveries before a message goes to the dead-letter queue
    log_retention_days: int = 30
    alarm_email: str | None = None
    # What the function processes and writes: prefixes and limits come from here, never
    # restated, so the stack, the handler and the CLI agree.
    config: Config = field(default_factory=Config)

    @classmethod
    def from_context(cls, app: App) -> DeploySettings:
        def get(name: str, default, cast=int):
            value = app.node.try_get_context(name)
            return default if value in (None, "") else cast(value)

        defaults = cls()
        return cls(
            memory_mb=get("memoryMb", defaults.memory_mb),
            timeout_seconds=get("timeoutSeconds", defaults.timeout_seconds),
            reserved_concurrency=get("reservedConcurrency", defaults.reserved_concurrency),
            max_concurrency=get("maxConcurrency", defaults.max_concurrency),
            batch_size=get("batchSize", defaults.batch_size),
            max_receive_count=get("maxReceiveCount", defaults.max_receive_count),
            log_retention_days=get("logRetentionDays", defaults.log_retention_days),
            alarm_email=get("alarmEmail", None, str),
        )
