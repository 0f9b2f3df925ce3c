"""The `imgproc` group: global options, the command registry and the error edge.

Errors become exit codes only here (`ExitCode`): a user sees one sentence; the traceback
only with `-v`.
"""

from __future__ import annotations

import traceback

import click

from .. import envvars
from ..errors import ExitCode, ImgprocError
from .app import App
from .console import err
from .failures import failures
from .focus import focus
from .presign import presign
from .preview import preview
from .process import process
from .reprocess import reprocess
from .smoke import smoke
from .status import status
from .triggers import triggers
from .upload import upload
from .verify import verify

COMMANDS = (process, reprocess, verify, status, failures, triggers, preview, presign,
            upload, smoke, focus)


class ImgprocGroup(click.Group):
    """Turns imgproc's errors into one sentence and an exit code, at the very edge."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ImgprocError as exc:
            _report(ctx, str(exc))
            ctx.exit(int(exc.exit_code))
        except Exception as exc:
            _report(ctx, f"unexpected {type(exc).__name__}: {exc}")
            ctx.exit(int(ExitCode.PROBLEM))


def _report(ctx: click.Context, message: str) -> None:
    app = ctx.find_object(App)
    if app is not None and app.verbose:
        err.print(traceback.format_exc(), markup=False, highlight=False)
    elif message.startswith("unexpected"):
        message += " (run with -v for the traceback)"
    err.print(f"[red]Error:[/] {message}", highlight=False)


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
    ctx.obj = App(**options)


for _command in COMMANDS:
    main.add_command(_command)

__all__ = ["COMMANDS", "main"]
