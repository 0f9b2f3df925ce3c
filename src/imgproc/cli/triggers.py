"""`imgproc triggers status|disable|enable|pause|resume`: the rollback switch.

`disable` saves the bucket's whole notification configuration in the `config#triggers`
record and removes it; `enable` restores it exactly. `pause`/`resume` stop and restart the
function's queue consumption while uploads keep queueing.
"""

from __future__ import annotations

import click
from rich.table import Table

from ..errors import ConfigError
from .app import App, json_option, pass_app, wants_json
from .console import emit_json, out


def _switches():
    """The AWS side, loaded when a triggers command runs: `imgproc --help` needs no botocore."""
    from ..aws import switches

    return switches


@click.group()
def triggers() -> None:
    """Show, disable, enable, pause or resume what starts processing on AWS."""


def _bucket(app: App) -> str:
    if not app.bucket_name:
        raise ConfigError("triggers needs the bucket: pass --stack NAME or --bucket NAME.")
    return app.bucket_name


def _function(app: App, function: str | None) -> str:
    name = function or app.stack_outputs.function_name
    if not name:
        raise ConfigError("pause/resume need the function: pass --stack NAME or --function NAME.")
    return name


def _show(result, as_json: bool) -> None:
    if as_json:
        for item in result if isinstance(result, list) else [result]:
            emit_json(item)
        return
    if isinstance(result, list):
        table = Table(title="event source mappings", title_justify="left")
        for column in ("uuid", "queueArn", "state", "changed"):
            table.add_column(column, overflow="fold")
        for item in result:
            table.add_row(item["uuid"], item["queueArn"], item["state"],
                          str(item.get("changed", "")))
        out.print(table)
        return
    table = Table(show_header=False, title=f"triggers of {result['bucket']}",
                  title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in result.items():
        if field == "notifications":
            value = "\n".join(f"{n['kind']}: {n.get('arn')} {n.get('events')} {n.get('filters')}"
                              for n in value) or "none"
        elif field == "mappings" and value:
            value = "\n".join(f"{m['uuid']} {m['state']} {m['queueArn']}" for m in value)
        table.add_row(field, "" if value is None else str(value))
    out.print(table)


@triggers.command()
@click.option("--function", help="Lambda function name (default: the stack's).")
@json_option
@pass_app
def status(app: App, function, json_here) -> None:
    """What the bucket's notifications and the function's queue mappings are now."""
    bucket = _bucket(app)
    function = function or app.stack_outputs.function_name
    result = _switches().triggers_status(app.aws_client("s3"), app.aws_client("lambda") if function
                                 else None, app.pipeline().records, bucket, function)
    _show(result, wants_json(app, json_here))


@triggers.command()
@json_option
@pass_app
def disable(app: App, json_here) -> None:
    """Save and remove the bucket's notification configuration (uploads stop triggering)."""
    result = _switches().disable_triggers(app.aws_client("s3"), app.pipeline().records,
                                          _bucket(app))
    _show(result, wants_json(app, json_here))


@triggers.command()
@click.option("--skip-destination-validation", is_flag=True,
              help="Restore even if a saved destination no longer exists.")
@json_option
@pass_app
def enable(app: App, skip_destination_validation, json_here) -> None:
    """Restore exactly the notification configuration that `disable` saved."""
    result = _switches().enable_triggers(app.aws_client("s3"), app.pipeline().records, _bucket(app),
                                 skip_validation=skip_destination_validation)
    _show(result, wants_json(app, json_here))


@triggers.command()
@click.option("--function", help="Lambda function name (default: the stack's).")
@json_option
@pass_app
def pause(app: App, function, json_here) -> None:
    """Disable the function's queue event source mapping; uploads queue up meanwhile."""
    _show(_switches().pause(app.aws_client("lambda"), _function(app, function)),
          wants_json(app, json_here))


@triggers.command()
@click.option("--function", help="Lambda function name (default: the stack's).")
@json_option
@pass_app
def resume(app: App, function, json_here) -> None:
    """Enable the function's queue event source mapping again."""
    _show(_switches().resume(app.aws_client("lambda"), _function(app, function)),
          wants_json(app, json_here))
