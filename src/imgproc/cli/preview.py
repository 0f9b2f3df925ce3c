"""`imgproc --bucket DIR preview [--port 8000]`: the CDN's stand-in, to try the web component."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..stores import DirectoryStore
from ..web.cdn_headers import ANY_ORIGIN, parse_origins
from ..web.server import make_server
from .app import App, exit_with, pass_app
from .console import note


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--cors-origins", default=ANY_ORIGIN, show_default=True,
              help="Who may read cross-origin, as the stack's -c corsOrigins "
                   "(comma-separated origins).")
@pass_app
def preview(app: App, host: str, port: int, cors_origins: str) -> None:
    """Serve processed/* like the CDN, and a page showing every original via <imgproc-image>.

    A local directory, or an S3 bucket through your credentials (the CDN's stand-in).
    """
    pipeline = app.pipeline()
    server = make_server(pipeline.outputs, pipeline.records, app.config, host, port,
                         cors_origins=parse_origins(cors_origins))
    where = (pipeline.outputs.root if isinstance(pipeline.outputs, DirectoryStore)
             else f"s3://{pipeline.outputs.name}")
    note(f"Serving {where} at http://{host}:{server.server_port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        note("stopped")
    finally:
        server.server_close()
    exit_with(ExitCode.OK)
