"""boto3 clients, made once per process and reused (a Lambda keeps them across invocations).

botocore's "standard" retry mode retries throttling and 5xx with backoff before imgproc ever
sees an error; what still fails is turned into `TransientError` by the stores.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass


def _retries() -> dict:
    """botocore's standard mode; AWS_MAX_ATTEMPTS (the usual variable) overrides 5 attempts."""
    return {"mode": "standard", "max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS") or 5)}


@dataclass(frozen=True)
class AwsSettings:
    """Where AWS calls go; None means boto3's usual environment and config files."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AwsSettings:
        return cls(endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
                   region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))


@functools.lru_cache(maxsize=8)
def _session(profile: str | None, region: str | None):
    """One session for all clients: each new one would parse botocore's endpoint data again
    (about 30 ms of a Lambda cold start)."""
    import boto3

    return boto3.session.Session(profile_name=profile, region_name=region)


@functools.lru_cache(maxsize=32)
def client(service: str, settings: AwsSettings = AwsSettings(), *, accelerate: bool = False):
    """A cached client per service and settings. Imports boto3 only when AWS is used.

    `accelerate` makes an S3 client use the Transfer Acceleration endpoint (AWS only: botocore
    refuses it with a custom endpoint).
    """
    from botocore.config import Config

    session = _session(settings.profile, settings.region)
    return session.client(
        service,
        endpoint_url=settings.endpoint_url,
        config=Config(retries=_retries(), max_pool_connections=32,
                      connect_timeout=5, read_timeout=30,
                      s3={"use_accelerate_endpoint": True} if accelerate else None),
    )


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def http_status(exc: Exception) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def reset_clients() -> None:
    """Forget cached sessions and clients (tests switching endpoints or credentials)."""
    client.cache_clear()
    _session.cache_clear()
