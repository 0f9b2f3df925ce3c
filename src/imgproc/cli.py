"""The `imgproc` command line: global options, store selection and the error edge.

Errors become exit codes only here: 0 all good, 1 an item failed or a check found a problem,
2 usage or configuration, 3 `status --wait` timed out. A user sees one sentence; the
traceback only with `-v`.
"""

from __future__ import annotations

import functools
import os
import traceback
from dataclasses import dataclass, field

import click

from . import envvars
from .aws import AwsSettings
from .cdn import Invalidator, url_builder
from .config import Config, load_config
from .console import err
from .core import Pipeline
from .errors import ConfigError, ImgprocError
from .stores import is_directory, open_object_store, open_record_store


@dataclass
class AppContext:
    """The global options, and the stores they name (opened on first use)."""

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
        from .stack import StackOutputs, read_stack_outputs

        return read_stack_outputs(self.stack, self.aws) if self.stack else StackOutputs()

    @property
    def bucket_name(self) -> str | None:
        return self.bucket or self.stack_outputs.bucket

    @property
    def table_name(self) -> str | None:
        return self.table or self.stack_outputs.table

    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            objects = open_object_store(self.bucket_name, self.aws)
            records = open_record_store(self.table_name, self.bucket_name, self.aws)
            outputs = self.stack_outputs
            domain = outputs.distribution_domain or os.environ.get(envvars.CLOUDFRONT_DOMAIN)
            distribution_id = outputs.distribution_id or os.environ.get(
                envvars.CLOUDFRONT_DISTRIBUTION_ID)
            self._pipeline = Pipeline(
                objects, objects, records, self.config, url_for=url_builder(domain),
                on_replaced=Invalidator(distribution_id, self.config, self.aws)
                if distribution_id else None,
            )
        return self._pipeline

    def aws_client(self, service: str):
        """A client for AWS-only commands; refuses a local-directory bucket."""
        if self.bucket_name and is_directory(self.bucket_name):
            raise ConfigError(
                f"This command needs AWS, but --bucket {self.bucket_name} is a local directory."
            )
        from .aws import client

        return client(service, self.aws)


class ImgprocGroup(click.Group):
    """Turns imgproc's errors into one sentence and an exit code, at the very edge."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ImgprocError as exc:
            _report(ctx, str(exc))
            ctx.exit(exc.exit_code)
        except Exception as exc:
            _report(ctx, f"unexpected {type(exc).__name__}: {exc}")
            ctx.exit(1)


def _report(ctx: click.Context, message: str) -> None:
    app = ctx.find_object(AppContext)
    if app is not None and app.verbose:
        err.print(traceback.format_exc(), markup=False, highlight=False)
    elif message.startswith("unexpected"):
        message += " (run with -v for the traceback)"
    err.print(f"[red]Error:[/] {message}", highlight=False)


def json_option(command):
    """`--json` is accepted after the command too (it is also a global option)."""
    return click.option("--json", "json_here", is_flag=True,
                        help="One JSON object per line on stdout, nothing else.")(command)


def wants_json(ctx: click.Context, json_here: bool) -> bool:
    app = ctx.find_object(AppContext)
    app.json = app.json or json_here
    return app.json


@click.group(cls=ImgprocGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--bucket", envvar=envvars.BUCKET,
              help="S3 bucket name, or a local directory (./media, /srv/media, file:///srv/media).")
@click.option("--table", envvar=envvars.TABLE,
              help="DynamoDB table, or sqlite:///rel/path.db / sqlite:////abs/path.db.")
@click.option("--stack", envvar=envvars.STACK, help="Read bucket, table and queue from a stack.")
@click.option("--queue-url", envvar=envvars.QUEUE_URL, help="The pipeline's SQS queue URL.")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL",
              help="Custom AWS endpoint (MinIO, LocalStack, moto).")
@click.option("--region", envvar="AWS_REGION", help="AWS region.")
@click.option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")
@click.option("--config", "config_path", envvar=envvars.CONFIG_FILE,
              type=click.Path(dir_okay=False), help="Variant configuration (TOML).")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail.")
@click.option("--json", is_flag=True, help="One JSON object per line on stdout, nothing else.")
@click.version_option(package_name="imgproc")
@click.pass_context
def main(ctx: click.Context, **options) -> None:
    """Turn uploaded images into web-ready variants, placeholders and records."""
    ctx.obj = AppContext(**options)


def _register_commands() -> None:
    from .commands.failures import failures
    from .commands.preview import preview
    from .commands.process import process
    from .commands.reprocess import reprocess
    from .commands.status import status
    from .commands.triggers import triggers
    from .commands.verify import verify

    for command in (process, reprocess, verify, status, failures, triggers, preview):
        main.add_command(command)


_register_commands()

__all__ = ["AppContext", "json_option", "main", "wants_json"]
