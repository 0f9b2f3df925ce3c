"""`imgproc preview`: serve an embedded store like the CDN would, with a page of components.

Only `processed/*` is served (as CloudFront does), with each object's stored Content-Type and
Cache-Control and the CDN's own headers (CORS and nosniff, from `cdn_headers`), plus the
web component at `/_imgproc/imgproc-image.js` and a demo page at `/`
that shows every original through `<imgproc-image>`. For trying the component locally; it
binds to localhost and is not a production server.
"""

from __future__ import annotations

from functools import partial
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import unquote, urlsplit

from ..config import Config
from ..errors import BadImage
from ..keys import is_candidate
from ..stores.base import ObjectStore, RecordStore
from .cdn_headers import ANY_ORIGIN, CORS_MAX_AGE_SECONDS, CORS_METHODS, NOSNIFF, cors_headers

COMPONENT_PATH = "/_imgproc/imgproc-image.js"


def component_source() -> bytes:
    return resources.files(__package__).joinpath("static/imgproc-image.js").read_bytes()


def demo_page(keys: list[str]) -> bytes:
    items = "\n".join(
        f'<figure><imgproc-image src-key="{escape(key)}" alt="{escape(key)}" '
        f'sizes="(max-width: 600px) 100vw, 400px"></imgproc-image>'
        f"<figcaption>{escape(key)}</figcaption></figure>"
        for key in keys
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgproc preview</title>
<script src="{COMPONENT_PATH}" defer></script>
<style>body {{ font: 14px system-ui, sans-serif; margin: 2rem; }}
main {{ display: flex; flex-wrap: wrap; gap: 1.5rem; }} figure {{ margin: 0; width: 400px; }}
imgproc-image {{ width: 100%; }} figcaption {{ color: #555; word-break: break-all; }}</style>
</head><body><h1>imgproc preview: {len(keys)} original(s)</h1><main>
{items}
</main></body></html>""".encode()


class PreviewHandler(BaseHTTPRequestHandler):
    server_version = "imgproc-preview"

    def __init__(self, *args, objects: ObjectStore, records: RecordStore, config: Config,
                 cors_origins: tuple[str, ...], **kwargs):
        self.objects, self.records, self.config = objects, records, config
        self.cors_origins = cors_origins
        super().__init__(*args, **kwargs)

    def do_HEAD(self) -> None:
        self._head_only = True
        self.do_GET()

    def do_OPTIONS(self) -> None:
        """A CORS preflight, answered as CloudFront's response headers policy would."""
        headers = cors_headers(self.headers.get("Origin"), self.cors_origins)
        if headers:
            headers |= {"Access-Control-Allow-Methods": ", ".join(CORS_METHODS),
                        "Access-Control-Allow-Headers": "*",
                        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS)}
        self._send(204 if headers else 403, b"", "text/plain", "no-store", headers)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            return self._send(200, demo_page(self._originals()), "text/html; charset=utf-8",
                              "no-store")
        if path == COMPONENT_PATH:
            return self._send(200, component_source(), "text/javascript; charset=utf-8",
                              "no-cache")
        key = path.lstrip("/")
        if key.startswith(self.config.output_prefix):
            try:
                stored = self.objects.get(key)
            except BadImage:
                stored = None
            if stored is not None:
                info = stored.info
                return self._send(200, stored.data,
                                  info.content_type or "application/octet-stream",
                                  info.cache_control or "no-cache")
        self._send(404, b'{"error": "not found"}', "application/json", "no-store")

    def _originals(self) -> list[str]:
        return [info.key for info in self.objects.list(self.config.input_prefix)
                if is_candidate(info.key)]

    def _send(self, status: int, body: bytes, content_type: str, cache_control: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache_control)
        headers = NOSNIFF | cors_headers(self.headers.get("Origin"), self.cors_origins)
        for name, value in (headers | (extra or {})).items():
            self.send_header(name, value)
        self.end_headers()
        if not getattr(self, "_head_only", False):
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # quiet unless something is wrong
        if args and str(args[1]).startswith(("4", "5")) and str(args[1]) != "404":
            super().log_message(format, *args)


def make_server(objects: ObjectStore, records: RecordStore, config: Config,
                host: str = "127.0.0.1", port: int = 8000,
                cors_origins: tuple[str, ...] = (ANY_ORIGIN,)) -> ThreadingHTTPServer:
    """`cors_origins`: who may read cross-origin, as the stack's `corsOrigins` (none: `()`)."""
    handler = partial(PreviewHandler, objects=objects, records=records, config=config,
                      cors_origins=cors_origins)
    return ThreadingHTTPServer((host, port), handler)


__all__ = ["COMPONENT_PATH", "component_source", "demo_page", "make_server"]
