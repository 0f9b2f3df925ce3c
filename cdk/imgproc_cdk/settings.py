"""Deployment parameters, read from CDK context (`-c name=value` or cdk.json), with defaults.

Memory: Lambda gives a full vCPU at 1769 MB and imgproc's render is single-threaded, so below
that size the time per image grows as memory shrinks and the GB-seconds stay about the same;
above it, nothing gets faster. 1769 MB buys the lowest latency at no extra cost per image and
leaves room for a 100-megapixel PNG (see README, "What it costs").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import App

from imgproc.config import Config, load_config
from imgproc.errors import ConfigError
from imgproc.web.cdn_headers import ANY_ORIGIN, parse_origins


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
    config_file: Path | None = None  # bundled with the function when given
    cors_origins: tuple[str, ...] = (ANY_ORIGIN,)  # who may read and upload cross-origin
    bucket_name: str | None = None  # an existing bucket to use instead of creating one
    permanent_failure_alarm: int = 5  # FAILED uploads per 5 minutes above which to alarm
    originals_storage_class: str = "INTELLIGENT_TIERING"  # or STANDARD
    transfer_acceleration: bool = False
    # noncurrent originals (deleted or overwritten) are kept this long, then expire
    keep_deleted_originals_days: int = 30

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
            cors_origins=parse_origins(get("corsOrigins", None, str)),
            bucket_name=get("bucketName", None, str),
            permanent_failure_alarm=get("permanentFailureAlarm",
                                        defaults.permanent_failure_alarm),
            originals_storage_class=_choice(
                get("originalsStorageClass", defaults.originals_storage_class, str),
                "originalsStorageClass", STORAGE_CLASSES),
            transfer_acceleration=_choice(get("transferAcceleration", "false", str).lower(),
                                          "transferAcceleration", ("true", "false")) == "true",
            keep_deleted_originals_days=_days(
                get("keepDeletedOriginalsDays", str(defaults.keep_deleted_originals_days), str),
                "keepDeletedOriginalsDays"),
            **_config_from(get("config", None, str)),
        )


STORAGE_CLASSES = ("INTELLIGENT_TIERING", "STANDARD")


def _choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SettingsError(f"-c {name}: expected one of {', '.join(choices)}, got {value!r}.")
    return value


MAX_KEEP_DAYS = 3650  # ten years


def _days(value: str, name: str) -> int:
    """A whole number of days, 1 to MAX_KEEP_DAYS (S3 needs at least one noncurrent day)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_KEEP_DAYS:
        raise SettingsError(f"-c {name}: expected a whole number of days from 1 to "
                            f"{MAX_KEEP_DAYS}, got {value!r}.")
    return int(text)


class SettingsError(Exception):
    """A context value that cannot be deployed; `cdk synth` stops with this sentence."""


def _config_from(path: str | None) -> dict:
    """`-c config=imgproc.toml`: checked now, with the CLI's sentences, or the defaults."""
    if not path:
        return {}
    config_file = Path(path).expanduser().resolve()
    try:
        return {"config": load_config(config_file, env={}), "config_file": config_file}
    except ConfigError as exc:
        raise SettingsError(f"-c config={path}: {exc}") from None
