"""`imgproc smoke`: the post-deploy check, one line per check, exit 0 only if all pass."""

from __future__ import annotations

import os

import click

from .. import envvars
from ..core.smoke import SmokeRun, run_smoke
from ..errors import ConfigError, ExitCode
from ..stores import DirectoryStore
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, out


@click.command()
@click.option("--origin", default=None,
              help="Your web app's origin (https://app.example.com): check the CDN's CORS "
                   "header for it.")
@click.option("--cdn-url", default=None,
              help="The CDN's base URL (default: https:// and the stack's distribution domain).")
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for the render and for the clean-up.")
@json_option
@pass_app
def smoke(app: App, origin: str | None, cdn_url: str | None, timeout: float,
          json_here: bool) -> None:
    """Upload a generated picture, check it through the CDN, delete it, check the clean-up.

    \b
    imgproc --stack imgproc smoke --origin https://app.example.com
    """
    as_json = wants_json(app, json_here)
    cdn_url = cdn_url or _cdn_of(app)
    if not cdn_url.startswith(("https://", "http://")):
        raise ConfigError(f"--cdn-url must be an http(s) URL, got {cdn_url!r}.")
    pipeline = app.pipeline()
    run = SmokeRun(pipeline, cdn_url, origin=origin.rstrip("/") if origin else None,
                   timeout=timeout, inline=isinstance(pipeline.originals, DirectoryStore))
    failed = []
    for check in run_smoke(run):
        if not check.ok:
            failed.append(check.name)
        if as_json:
            emit_json(check.as_json())
        else:
            mark = "[green]pass[/]" if check.ok else "[red]FAIL[/]"
            out.print(f"{mark} {check.name:<20} {check.detail}", soft_wrap=True)
    if as_json:
        emit_json({"smoke": "failed" if failed else "passed", "failed": failed})
    elif not origin:
        out.print("[dim]CORS not checked: pass --origin https://your.app[/]")
    exit_with(ExitCode.PROBLEM if failed else ExitCode.OK)


def _cdn_of(app: App) -> str:
    domain = app.stack_outputs.distribution_domain or os.environ.get(envvars.CLOUDFRONT_DOMAIN)
    if not domain:
        raise ConfigError("smoke needs the CDN: pass --stack NAME (its DistributionDomainName) "
                          "or --cdn-url URL.")
    return f"https://{domain}"
