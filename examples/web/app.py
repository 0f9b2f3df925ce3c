"""A web app's backend for browser uploads: it signs a presigned POST for one new key, the
browser sends the picture straight to S3, and `<imgproc-image>` shows it once processed.

    python examples/web/app.py --bucket NAME --cdn https://dxxx.cloudfront.net [--port 8080]

Standard library and imgproc only. It serves the page (`index.html`, `upload.js`), the
component, `GET /api/config` (the CDN base) and `POST /api/presign`. Not a production server.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

from imgproc.aws.clients import AwsSettings, client
from imgproc.aws.uploads import presigned_upload
from imgproc.config import MIB, Config, load_config
from imgproc.errors import ConfigError
from imgproc.formats import UPLOAD_EXTENSIONS
from imgproc.web.server import component_source

HERE = Path(__file__).parent
PAGES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/upload.js": ("upload.js", "text/javascript; charset=utf-8")}
IMAGE_TYPE = re.compile(r"image/[A-Za-z0-9.+-]+")
MAX_REQUEST_BYTES = 4096


def extension(name: object) -> str:
    """The name's image extension, lower-cased ('.jpg'), or none: no user text reaches the key."""
    suffix = PurePosixPath(str(name or "")).suffix.lower().lstrip(".")
    return f".{suffix}" if suffix in UPLOAD_EXTENSIONS else ""


@dataclass(frozen=True)
class App:
    s3: object
    bucket: str
    cdn: str
    config: Config
    prefix: str

    def presign(self, request: dict) -> tuple[int, dict]:
        """`{"name", "type", "size"}` → (200, `{"key", "url", "fields"}`) or (400, `{"error"}`)."""
        kind, size = request.get("type"), request.get("size")
        if not isinstance(kind, str) or not IMAGE_TYPE.fullmatch(kind):
            return 400, {"error": f"Only pictures can be uploaded; this file is "
                                  f"{kind or 'of an unknown type'}."}
        limit = self.config.max_image_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= limit:
            return 400, {"error": f"Pictures must be from 1 byte to {limit / MIB:g} MB."}
        # A real backend puts the signed-in user's id in the prefix (uploads/web/{user}/), so
        # it can tell whose upload a key is without a database read.
        key = f"{self.prefix}{secrets.token_hex(8)}{extension(request.get('name'))}"
        # S3 then takes exactly this key and type, and no more bytes than the browser declared.
        form = presigned_upload(self.s3, self.bucket, key, self.config, max_bytes=size,
                                content_type=kind)
        return 200, {"key": key, **form.as_json()}


class AppHandler(BaseHTTPRequestHandler):
    def __init__(self, *args, app: App, **kwargs):
        self.app = app
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in PAGES:
            name, kind = PAGES[path]
            return self._send(200, (HERE / name).read_bytes(), kind)
        if path == "/imgproc-image.js":
            # Served here because CloudFront has no /_imgproc/ path: a real app copies
            # imgproc-image.js (src/imgproc/web/static/) into its own static files.
            return self._send(200, component_source(), "text/javascript; charset=utf-8")
        if path == "/api/config":
            return self._json(200, {"cdn": self.app.cdn})
        self._json(404, {"error": "Not found."})

    def do_POST(self) -> None:
        if self.path != "/api/presign":
            return self._json(404, {"error": "Not found."})
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_REQUEST_BYTES:
                raise ValueError
            request = json.loads(self.rfile.read(length))
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            return self._json(400, {"error": "Expected a JSON object {name, type, size}."})
        self._json(*self.app.presign(request))

    def _json(self, status: int, body: dict) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # only what went wrong
        if args and str(args[1]).startswith(("4", "5")):
            super().log_message(format, *args)


def make_app_server(s3, bucket: str, cdn: str, config: Config, host: str = "127.0.0.1",
                    port: int = 8080, prefix: str = "uploads/web/") -> ThreadingHTTPServer:
    if not prefix.endswith("/") or not prefix.startswith(config.input_prefix):
        raise ConfigError(f"--prefix must end in '/' and start with the input prefix "
                          f"{config.input_prefix!r}, got {prefix!r}.")
    app = App(s3=s3, bucket=bucket, cdn=cdn.rstrip("/"), config=config, prefix=prefix)
    return ThreadingHTTPServer((host, port), partial(AppHandler, app=app))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True, help="the stack's bucket")
    parser.add_argument("--cdn", required=True, help="https://dxxx.cloudfront.net")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--prefix", default="uploads/web/", help="where uploads go")
    args = parser.parse_args()
    s3 = client("s3", AwsSettings.from_env())  # AWS_ENDPOINT_URL: MinIO, LocalStack, moto
    try:
        server = make_app_server(s3, args.bucket, args.cdn, load_config(), args.host,
                                 args.port, args.prefix)
    except ConfigError as exc:
        parser.error(str(exc))
    print(f"Serving http://{args.host}:{server.server_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
