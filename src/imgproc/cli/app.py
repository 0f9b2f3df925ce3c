"""What every command shares: the global options as `App`, `pass_app`, `--json`, exit codes.

Command modules import this module (never `main`), so each one loads on its own.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

import click

from .. import envvars
from ..aws.clients import AwsSettings
from ..config import Config, load_config
from ..core import Pipeline
from ..errors import ConfigError, ExitCode
from ..stores import ObjectStore, RecordStore, is_directory
from ..wiring import PipelineSettings, build_pipeline


@dataclass
class App:
    """The global options, and the pipeline they name (built on first use)."""

    bucket: str | None = None
    table: str | None = None
    stack: str | None = None
    queue_url: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    config_path: str | None = None
    verbose: bool = False
    json: bool = False
    _pipeline: Pipeline | None = field(default=None, repr=False)

    @functools.cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @functools.cached_property
    def aws(self) -> AwsSettings:
        return AwsSettings(endpoint_url=self.endpoint_url, region=self.region,
                           profile=self.profile)

    @functools.cached_property
    def stack_outputs(self):
        """The deployed stack's outputs (`--stack`), or empty ones."""
        from ..aws.stack_outputs import StackOutputs, read_stack_outputs

        return read_stack_outputs(self.stack, self.aws) if self.stack else StackOutputs()

    @property
    def bucket_name(self) -> str | None:
        return self.bucket or self.stack_outputs.bucket

    @property
    def table_name(self) -> str | None:
        return self.table or self.stack_outputs.table

    @property
    def settings(self) -> PipelineSettings:
        """The options as the one pipeline factory takes them (env as fallback for the CDN)."""
        outputs = self.stack_outputs
        return PipelineSettings(
            bucket=self.bucket_name,
            table=self.table_name,
            config=self.config,
            aws=self.aws,
            cdn_domain=outputs.distribution_domain or os.environ.get(envvars.CLOUDFRONT_DOMAIN),
            distribution_id=outputs.distribution_id
            or os.environ.get(envvars.CLOUDFRONT_DISTRIBUTION_ID),
        )

    def pipeline(self, *, originals: ObjectStore | None = None,
                 outputs: ObjectStore | None = None,
                 records: RecordStore | None = None) -> Pipeline:
        """The stores the options name, built once; `process` passes its own local stores
        (and then no bucket, table or CDN is used)."""
        given = {"originals": originals, "outputs": outputs, "records": records}
        local = any(given.values())
        if self._pipeline is None or local:
            settings = PipelineSettings(config=self.config) if local else self.settings
            pipeline = build_pipeline(settings, **given)
            if local:
                return pipeline
            self._pipeline = pipeline
        return self._pipeline

    def aws_client(self, service: str):
        """A client for AWS-only commands; refuses a local-directory bucket."""
        if self.bucket_name and is_directory(self.bucket_name):
            raise ConfigError(
                f"This command needs AWS, but --bucket {self.bucket_name} is a local directory."
            )
        from ..aws.clients import client

        return client(service, self.aws)


pass_app = click.make_pass_decorator(App)


def json_option(command):
    """`--json` is accepted after the command too (it is also a global option)."""
    return click.option("--json", "json_here", is_flag=True,
                        help="One JSON object per line on stdout, nothing else.")(command)


def wants_json(app: App, json_here: bool) -> bool:
    app.json = app.json or json_here
    return app.json


def exit_with(code: ExitCode) -> None:
    """End the command with one of the contract's exit codes."""
    click.get_current_context().exit(int(code))


__all__ = ["App", "exit_with", "json_option", "pass_app", "wants_json"]
