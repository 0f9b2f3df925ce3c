"""`imgproc presign KEY`: a presigned POST a browser uploads one picture with."""

from __future__ import annotations

import click

from ..errors import ConfigError
from .app import App, json_option, pass_app, wants_json
from .console import emit_json, note


@click.command()
@click.argument("key")
@click.option("--max-bytes", type=int, default=None,
              help="Largest accepted upload in bytes (default and ceiling: max_image_size).")
@click.option("--expires", type=int, default=3600, show_default=True,
              help="Seconds the form stays valid (at most 7 days).")
@click.option("--content-type", default=None,
              help="Require exactly this type (default: any image/* type).")
@json_option
@pass_app
def presign(app: App, key: str, max_bytes: int | None, expires: int,
            content_type: str | None, json_here: bool) -> None:
    """Print a presigned POST ({"url", "fields"}) for uploading KEY from a browser.

    \b
    imgproc --stack imgproc presign uploads/u1/cat.jpg --max-bytes 5000000
    """
    from ..aws.clients import client
    from ..aws.uploads import acceleration_enabled, presigned_upload

    wants_json(app, json_here)
    bucket = app.bucket_name
    if not bucket:
        raise ConfigError("presign needs the bucket: pass --stack NAME or --bucket NAME.")
    s3 = app.aws_client("s3")
    accelerate = acceleration_enabled(s3, bucket)
    if accelerate and app.aws.endpoint_url:
        note("Transfer Acceleration is on, but a custom --endpoint-url cannot use it: "
             "signing for the plain endpoint.")
        accelerate = False
    signer = client("s3", app.aws, accelerate=True) if accelerate else s3
    post = presigned_upload(signer, bucket, key, app.config, max_bytes=max_bytes,
                            expires=expires, content_type=content_type)
    emit_json(post.as_json())
