"""`imgproc --bucket DIR preview [--port 8000]`: try the web component on the embedded store."""

from __future__ import annotations

import click

from ..errors import ConfigError, ExitCode
from ..stores import DirectoryStore
from ..web.server import make_server
from .app import App, exit_with, pass_app
from .console import note


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@pass_app
def preview(app: App, host: str, port: int) -> None:
    """Serve processed/* like the CDN, and a page showing every original via <imgproc-image>."""
    pipeline = app.pipeline()
    if not isinstance(pipeline.outputs, DirectoryStore):
        raise ConfigError("preview serves a local directory: pass --bucket ./dir.")
    server = make_server(pipeline.outputs, pipeline.records, app.config, host, port)
    note(f"Serving {pipeline.outputs.root} at http://{host}:{server.server_port}/ "
         "(Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        note("stopped")
    finally:
        server.server_close()
    exit_with(ExitCode.OK)
