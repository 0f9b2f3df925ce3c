"""The status component on a web app's own origin, reading manifests from the CDN's.

The page is served from `http://127.0.0.1:A` and the store (through `preview`, which sends the
CDN's CORS headers from `imgproc.web.cdn_headers`) from `http://localhost:B`: two origins, as a
web app on its domain and CloudFront are. With the headers the component completes; without
them the browser refuses the page every manifest read, and the component says so.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imgproc.core import process_object
from imgproc.web.cdn_headers import ANY_ORIGIN
from imgproc.web.server import component_source, make_server
from tests.browser.test_component import browser, site, upload  # noqa: F401 (fixtures)
from tests.support.images import plain_jpeg

KEY = "uploads/app/photo.jpg"


class AppPage(BaseHTTPRequestHandler):
    """A web app's page: the component script and one `<imgproc-image>` pointing at `cdn`."""

    def __init__(self, *args, cdn: str, **kwargs):
        self.cdn = cdn
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path == "/imgproc-image.js":
            body, kind = component_source(), "text/javascript"
        else:
            body, kind = (
                '<!doctype html><html><head><script src="/imgproc-image.js" defer></script>'
                '</head><body><main><imgproc-image id="subject" '
                f'src-key="{KEY}" cdn="{self.cdn}" interval="100" timeout="4" sizes="300px">'
                "</imgproc-image></main></body></html>").encode(), "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def serving(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("cors", [(ANY_ORIGIN,), ()], ids=["with CORS", "without CORS"])
def test_component_on_another_origin_needs_the_cdns_cors_headers(browser, site, tmp_path,  # noqa: F811
                                                                 cors):
    _base, pipeline, media = site
    upload(media, KEY, plain_jpeg(900, 600, colour=(200, 60, 40)))
    assert process_object(pipeline, KEY).status == "COMPLETE"
    cdn = make_server(pipeline.outputs, pipeline.records, pipeline.config, port=0,
                      cors_origins=cors)
    with serving(cdn), serving(ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(AppPage, cdn=f"http://localhost:{cdn.server_port}"))) as app:
        page = browser.new_page(viewport={"width": 700, "height": 500})
        blocked = []
        page.on("console", lambda message: blocked.append(message.text)
                if "CORS" in message.text else None)
        page.goto(f"http://127.0.0.1:{app.server_port}/")
        expected = "complete" if cors else "error"
        page.wait_for_function(
            f"document.querySelector('#subject')?.getAttribute('state') === '{expected}'",
            timeout=20000)
        page.screenshot(path=tmp_path / f"cross-origin-{expected}.png")
        if cors:
            image = page.locator("#subject img")
            image.evaluate("img => img.decode()")
            assert image.evaluate("img => img.currentSrc").startswith(
                f"http://localhost:{cdn.server_port}/processed/")
            assert not blocked
        else:
            alert = page.locator("#subject [role=alert]")
            assert alert.get_attribute("data-reason") == "network"
            assert "could not be reached" in alert.inner_text()
            assert blocked, "the browser should report the missing CORS header"


def test_preview_answers_like_the_cloudfront_policy(site):  # noqa: F811
    import urllib.request

    _base, pipeline, media = site
    upload(media, KEY, plain_jpeg())
    process_object(pipeline, KEY)
    allowed = ("https://app.example.com",)
    cdn = make_server(pipeline.outputs, pipeline.records, pipeline.config, port=0,
                      cors_origins=allowed)

    def get(origin: str | None, method: str = "GET"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{cdn.server_port}/processed/{KEY}/manifest.json", method=method,
            headers={"Origin": origin} if origin else {})
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()

    with serving(cdn):
        status, headers, body = get("https://app.example.com")
        assert status == 200 and body
        assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert headers["Vary"] == "Origin" and headers["X-Content-Type-Options"] == "nosniff"
        _status, headers, _body = get("https://evil.example")
        assert headers["Access-Control-Allow-Origin"] is None
        assert headers["X-Content-Type-Options"] == "nosniff"
        _status, headers, body = get("https://app.example.com", method="HEAD")
        assert body == b"" and headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        status, headers, _body = get("https://app.example.com", method="OPTIONS")
        assert status == 204 and headers["Access-Control-Allow-Methods"] == "GET, HEAD"
