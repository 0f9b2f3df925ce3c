"""The one place a `Pipeline` is built from settings: the Lambda and the CLI both call it.

Stores are chosen from the names (`open_object_store`, `open_record_store`), variant URLs
from the CDN domain, and CDN invalidation from the distribution id, so a setting that reaches
one edge reaches the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import envvars
from .aws.cdn import Invalidator, url_builder
from .aws.clients import AwsSettings
from .config import Config, load_config
from .core import Pipeline
from .core.isolation import shared_worker, worker_memory_mb
from .core.pipeline import render_here
from .errors import ConfigError
from .stores import ObjectStore, RecordStore, open_object_store, open_record_store


@dataclass(frozen=True)
class PipelineSettings:
    """Everything a pipeline is made from; None means "not used" (no CDN, no table)."""

    bucket: str | None = None
    table: str | None = None
    config: Config = field(default_factory=Config)
    aws: AwsSettings = field(default_factory=AwsSettings)
    cdn_domain: str | None = None
    distribution_id: str | None = None
    # Decode in a worker process with a memory cap (the Lambda: one picture never kills the
    # function); None renders in this process (the CLI).
    worker_memory_mb: int | None = None
    isolate_rendering: bool = False

    @classmethod
    def for_lambda(cls, bucket: str, env: Mapping[str, str] = os.environ) -> PipelineSettings:
        """The function's settings: its environment, as the stack sets it."""
        table = env.get(envvars.METADATA_TABLE)
        if not table:
            raise ConfigError(f"{envvars.METADATA_TABLE} is not set; the function needs a table.")
        return cls(
            bucket=bucket,
            table=table,
            config=load_config(env=env),
            aws=AwsSettings.from_env(env),
            cdn_domain=env.get(envvars.CLOUDFRONT_DOMAIN) or None,
            distribution_id=env.get(envvars.CLOUDFRONT_DISTRIBUTION_ID) or None,
            isolate_rendering=True,
            worker_memory_mb=worker_memory_mb(env),
        )


def build_pipeline(
    settings: PipelineSettings,
    *,
    originals: ObjectStore | None = None,
    outputs: ObjectStore | None = None,
    records: RecordStore | None = None,
) -> Pipeline:
    """A pipeline over the named stores; stores passed in (local `process`) are used as given.

    Originals and outputs are one bucket in production.
    """
    if originals is None or outputs is None:
        bucket_store = open_object_store(settings.bucket, settings.aws)
        originals, outputs = originals or bucket_store, outputs or bucket_store
    if records is None:
        records = open_record_store(settings.table, settings.bucket, settings.aws)
    invalidate = (Invalidator(settings.distribution_id, settings.config, settings.aws)
                  if settings.distribution_id else None)
    renderer = (shared_worker(settings.worker_memory_mb) if settings.isolate_rendering
                else render_here)
    return Pipeline(originals, outputs, records, settings.config,
                    url_for=url_builder(settings.cdn_domain), on_replaced=invalidate,
                    renderer=renderer)


__all__ = ["PipelineSettings", "build_pipeline"]
