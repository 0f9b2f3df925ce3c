"""<imgproc-image> in headless Chromium against `imgproc preview` on localhost.

Each state a user can see is driven for real and photographed into the test's temp dir
(`screenshots/`): waiting while the manifest is missing, the picture once it appears (the
browser picks WebP, intrinsic size set), the error of a FAILED upload, and giving up after
network errors or a timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import threading
from pathlib import Path

import pytest

from imgproc.config import Config, load_config
from imgproc.core import Pipeline, process_object
from imgproc.stores import DirectoryStore, SqliteRecordStore
from imgproc.web.server import make_server
from tests.support.images import encode, photo_like, plain_jpeg
from tests.support.requirements import missing

EXAMPLE_AVIF = Path(__file__).parents[2] / "examples" / "config" / "avif.toml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        missing("Chromium is not installed (Debian: apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def serving(tmp_path: Path, config: Config):
    """An embedded store served like the CDN; yields (base URL, pipeline, media dir)."""
    media = tmp_path / "media"
    media.mkdir()
    store = DirectoryStore(media)
    pipeline = Pipeline(store, store, SqliteRecordStore(media / ".imgproc/metadata.db"), config)
    server = make_server(store, pipeline.records, pipeline.config, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", pipeline, media
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(tmp_path):
    with serving(tmp_path, Config()) as served:
        yield served


@pytest.fixture(params=[0.0, 0.99], ids=["avif-pays", "avif-withheld"])
def avif_site(request, tmp_path):
    """The AVIF example config, with a margin every AVIF meets (0) or none does (0.99)."""
    config = dataclasses.replace(load_config(EXAMPLE_AVIF, env={}), keep_margin=request.param)
    with serving(tmp_path, config) as served:
        yield served


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def upload(media: Path, key: str, data: bytes) -> None:
    path = media / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def open_component(browser, base: str, **attributes):
    """The preview page, with one component added carrying `attributes`."""
    page = browser.new_page(viewport={"width": 900, "height": 700})
    page.goto(f"{base}/")
    page.wait_for_function("customElements.get('imgproc-image') !== undefined")
    page.evaluate(
        """(attributes) => {
            document.querySelector('main').replaceChildren();
            const element = document.createElement('imgproc-image');
            element.id = 'subject';
            for (const [name, value] of Object.entries(attributes)) {
                element.setAttribute(name, value);
            }
            document.querySelector('main').append(element);
        }""",
        {name.replace("_", "-"): str(value) for name, value in attributes.items()},
    )
    return page


def state_of(page) -> str:
    return page.get_attribute("#subject", "state")


def wait_for_state(page, state: str, timeout_ms: int = 20000) -> None:
    page.wait_for_function(
        f"document.querySelector('#subject').getAttribute('state') === '{state}'",
        timeout=timeout_ms)


def test_waiting_then_picture_with_webp_and_intrinsic_size(browser, site, shots):
    base, pipeline, media = site
    upload(media, "uploads/wide photo.jpg", plain_jpeg(1000, 500, colour=(30, 120, 200)))
    # GIVEN the upload is not processed yet: the manifest is missing
    page = open_component(browser, base, src_key="uploads/wide photo.jpg", interval=150,
                          timeout=30, alt="A wide photo", sizes="400px")
    wait_for_state(page, "waiting")
    status = page.locator("#subject [role=status]")
    assert "Processing image" in status.inner_text()
    page.screenshot(path=shots / "1-waiting.png")
    # WHEN the pipeline processes it, the component swaps in the picture
    process_object(pipeline, "uploads/wide photo.jpg")
    wait_for_state(page, "complete")
    image = page.locator("#subject img")
    image.evaluate("img => img.decode()")
    facts = image.evaluate("""img => ({
        current: img.currentSrc, width: img.getAttribute('width'),
        height: img.getAttribute('height'), natural: [img.naturalWidth, img.naturalHeight],
        alt: img.alt, sources: [...img.parentElement.querySelectorAll('source')]
            .map(s => [s.type, s.srcset])})""")
    # THEN the browser chose a WebP, and layout knows the size before the bytes arrive
    # sizes=400px at 1x: the smallest WebP at least 400 px wide, the 800 w one
    assert facts["current"].endswith("/webp-medium.webp"), facts
    assert (facts["width"], facts["height"]) == ("1000", "500")
    # naturalWidth is density-corrected for w descriptors: 800 px shown at 2x = 400 CSS px
    assert facts["natural"] == [400, 200]
    assert facts["alt"] == "A wide photo"
    assert facts["sources"][0][0] == "image/webp"
    assert "webp-medium.webp 800w" in facts["sources"][0][1]
    assert "%20" in facts["current"]  # the key's space is encoded in the URL
    page.screenshot(path=shots / "2-complete.png")
    assert (shots / "2-complete.png").stat().st_size > 1000


def test_avif_is_offered_first_and_webp_is_the_fallback_when_it_is_withheld(
        browser, avif_site, shots):
    base, pipeline, media = avif_site
    upload(media, "uploads/photo.png", encode(photo_like(1600, 1000), "PNG"))
    record = process_object(pipeline, "uploads/photo.png").record
    avif_published = any(v["format"] == "avif" for v in record["processedVariants"])
    assert avif_published == (pipeline.config.keep_margin == 0.0)
    served = []
    page = open_component(browser, base, src_key="uploads/photo.png", sizes="400px",
                          interval=100)
    page.on("response", lambda response: served.append(response.url))
    wait_for_state(page, "complete")
    image = page.locator("#subject img")
    image.evaluate("img => img.decode()")
    facts = image.evaluate("""img => ({current: img.currentSrc, complete: img.complete,
        natural: img.naturalWidth, types: [...img.parentElement.querySelectorAll('source')]
            .map(s => s.type)})""")
    if avif_published:
        # THEN Chromium, which decodes AVIF, takes the first <source>: the 800 w AVIF
        assert facts["types"] == ["image/avif", "image/webp"], facts
        assert facts["current"].endswith("/avif-medium.avif"), facts
    else:
        # THEN without an AVIF in the manifest it gets the WebP, and asks for no AVIF at all
        assert facts["types"] == ["image/webp"], facts
        assert facts["current"].endswith("/webp-medium.webp"), facts
        assert not any(url.endswith(".avif") for url in served), served
    assert facts["complete"] and facts["natural"] == 400  # decoded, 800 px shown at 2x
    page.screenshot(path=shots / f"6-{'avif' if avif_published else 'webp'}.png")


def test_failed_upload_shows_the_error_accessibly(browser, site, shots):
    base, pipeline, media = site
    upload(media, "uploads/bad.jpg", b"<!doctype html><p>this is a web page</p>")
    outcome = process_object(pipeline, "uploads/bad.jpg")
    page = open_component(browser, base, src_key="uploads/bad.jpg", interval=100)
    wait_for_state(page, "error")
    alert = page.locator("#subject [role=alert]")
    assert alert.inner_text() == outcome.message
    assert alert.get_attribute("data-reason") == "failed"
    page.screenshot(path=shots / "3-failed.png")


def test_network_errors_are_retried_then_given_up_with_a_message(browser, site, shots):
    base, _pipeline, _media = site
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    page = open_component(browser, base, src_key="uploads/x.jpg", interval=100,
                          cdn=f"http://127.0.0.1:{closed}")
    attempts = []
    page.on("requestfailed", lambda request: attempts.append(request.url))
    wait_for_state(page, "error")
    alert = page.locator("#subject [role=alert]")
    assert alert.get_attribute("data-reason") == "network"
    assert "could not be reached" in alert.inner_text()
    assert len(attempts) >= 3  # it retried before giving up (the first may precede the hook)
    page.screenshot(path=shots / "4-network.png")


def test_waiting_too_long_times_out_with_a_message(browser, site, shots):
    base, _pipeline, _media = site
    page = open_component(browser, base, src_key="uploads/never.jpg", interval=100, timeout=1)
    wait_for_state(page, "error")
    alert = page.locator("#subject [role=alert]")
    assert alert.get_attribute("data-reason") == "timeout"
    assert "taking too long" in alert.inner_text()
    page.screenshot(path=shots / "5-timeout.png")


def test_preview_serves_processed_objects_only_with_their_headers(site):
    import urllib.error
    import urllib.request

    base, pipeline, media = site
    upload(media, "uploads/a.jpg", plain_jpeg())
    process_object(pipeline, "uploads/a.jpg")
    with urllib.request.urlopen(f"{base}/processed/uploads/a.jpg/manifest.json") as response:
        assert response.headers["Content-Type"] == "application/json"
        assert "max-age=5" in response.headers["Cache-Control"]
    with urllib.request.urlopen(f"{base}/processed/uploads/a.jpg/small.jpg") as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert "immutable" in response.headers["Cache-Control"]
    with pytest.raises(urllib.error.HTTPError) as original:  # originals are never served
        urllib.request.urlopen(f"{base}/uploads/a.jpg")
    assert original.value.code == 404
