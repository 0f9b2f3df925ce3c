"""examples/web in headless Chromium across three origins, as a deployed web app runs it.

The page and its backend (`examples/web/app.py`) on `http://127.0.0.1:A`, S3 on moto's server
(`http://127.0.0.1:M`, which answers CORS for any origin), the CDN on `http://localhost:B`
(`preview` over the same bucket). The browser asks the backend for a presigned POST, sends the
file to S3 itself, and `<imgproc-image>` waits until the handler (fed by `QueuePump`) has
rendered it. IMGPROC_UPDATE_SCREENSHOTS=1 also copies the finished page to docs/img/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from examples.web.app import App, extension, make_app_server
from PIL import Image

from imgproc.aws.clients import AwsSettings
from imgproc.config import Config
from imgproc.stores.dynamodb import DynamoRecordStore
from imgproc.stores.s3 import S3ObjectStore
from imgproc.web.server import make_server
from tests.browser.test_component import browser, shots  # noqa: F401 (fixtures)
from tests.browser.test_cross_origin import serving
from tests.support.images import encode
from tests.support.moto_pipeline import BUCKET, TABLE, QueuePump

README_SHOT = Path(__file__).parents[2] / "docs" / "img" / "example-upload.png"
PREFIX = "uploads/web/"


@pytest.fixture
def origins(stack):
    """The app and the CDN serving; yields (app URL, CDN URL)."""
    config = Config()
    objects = S3ObjectStore(BUCKET, AwsSettings(endpoint_url=stack.endpoint), s3=stack.s3)
    records = DynamoRecordStore(TABLE, dynamodb=stack.dynamodb)
    with serving(make_server(objects, records, config, port=0)) as cdn:
        cdn_url = f"http://localhost:{cdn.server_port}"
        app = make_app_server(stack.s3, BUCKET, cdn_url, config, port=0, prefix=PREFIX)
        with serving(app):
            yield f"http://127.0.0.1:{app.server_port}", cdn_url


def picture() -> bytes:
    """A landscape with some shape to it, so the screenshot shows a picture, not a swatch."""
    sky = Image.linear_gradient("L").resize((1200, 800)).convert("RGB")
    sky = Image.merge("RGB", [sky.getchannel(0).point(lambda v: 40 + v // 3),
                              sky.getchannel(0).point(lambda v: 90 + v // 3),
                              sky.getchannel(0).point(lambda v: 200 - v // 4)])
    sky.paste((40, 120, 60), (0, 560, 1200, 800))
    sky.paste((250, 200, 80), (880, 120, 1000, 240))
    return encode(sky, "JPEG", quality=88)


def uploaded_keys(stack) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")
    return [item["Key"] for item in listing.get("Contents", [])]


def open_page(browser, app: str, record_forms: bool = False):  # noqa: F811
    page = browser.new_page(viewport={"width": 800, "height": 600})
    if record_forms:  # the browser hides a file form's body from Playwright: note its fields
        page.add_init_script("""
            window.sentForms = [];
            const send = window.fetch;
            window.fetch = (url, options = {}) => {
                if (options.body instanceof FormData) {
                    window.sentForms.push([String(url), [...options.body.keys()]]);
                }
                return send(url, options);
            };""")
    page.goto(f"{app}/")
    page.wait_for_function("customElements.get('imgproc-image') !== undefined")
    return page


def test_a_chosen_picture_is_uploaded_to_s3_then_shown_from_the_cdn(browser, stack, origins,  # noqa: F811
                                                                   shots):  # noqa: F811
    app, cdn = origins
    data = picture()
    page = open_page(browser, app, record_forms=True)
    # WHEN the user chooses a picture (the pipeline is not running yet)
    page.set_input_files("#picture", files=[
        {"name": "Holiday.JPG", "mimeType": "image/jpeg", "buffer": data}])
    page.wait_for_selector("imgproc-image[state=waiting]")
    # THEN it is in the bucket under a key the backend chose, and the page says it waits
    key = page.get_attribute("imgproc-image", "src-key")
    assert re.fullmatch(r"uploads/web/[0-9a-f]{16}\.jpg", key), key
    assert uploaded_keys(stack) == [key]
    stored = stack.s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == data and stored["ContentType"] == "image/jpeg"
    assert page.inner_text("#status") == "Uploaded — processing…"
    assert page.locator("imgproc-image [role=status]").inner_text() == "Processing image…"
    assert page.is_hidden("#problem")
    # one POST to S3, the signed fields first and the file last (S3 ignores fields after it)
    [(url, names)] = page.evaluate("window.sentForms")
    assert url.startswith(stack.endpoint)
    assert names[-1] == "file" and {"key", "policy", "Content-Type"} <= set(names[:-1])
    page.screenshot(path=shots / "1-waiting.png")
    # WHEN S3's notification reaches the handler, the component shows the picture from the CDN
    with QueuePump(stack) as pump:
        page.wait_for_selector("imgproc-image[state=complete]", timeout=30000)
        image = page.locator("imgproc-image img")
        image.evaluate("img => img.decode()")
    assert pump.failures == []
    facts = image.evaluate("img => ({src: img.currentSrc, natural: img.naturalWidth, "
                           "alt: img.alt, size: [img.getAttribute('width'), "
                           "img.getAttribute('height')]})")
    assert facts["src"].startswith(f"{cdn}/processed/{key}/"), facts
    assert facts["src"].endswith(".webp"), facts  # Chromium picks the WebP source
    assert facts["natural"] > 0
    assert facts["size"] == ["1200", "800"]
    assert facts["alt"] == "Your upload, Holiday.JPG"
    assert page.inner_text("#status") == "Done: your picture is ready."
    page.screenshot(path=shots / "2-complete.png")
    if os.environ.get("IMGPROC_UPDATE_SCREENSHOTS") == "1":
        README_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shots / "2-complete.png", README_SHOT)


def test_a_file_that_is_not_a_picture_is_refused_before_anything_is_sent_to_s3(
        browser, stack, origins, shots):  # noqa: F811
    app, _cdn = origins
    page = open_page(browser, app)
    to_s3 = []
    page.on("request", lambda request: to_s3.append(request.url)
            if request.url.startswith(stack.endpoint) else None)
    page.set_input_files("#picture", files=[
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}])
    page.wait_for_selector("#problem:not([hidden])")
    assert page.inner_text("#problem") == (
        "Only pictures can be uploaded; this file is text/plain.")
    assert page.inner_text("#status") == ""
    assert page.locator("imgproc-image").count() == 0
    assert to_s3 == [] and uploaded_keys(stack) == []
    page.screenshot(path=shots / "refused-type.png")


def test_a_refusal_from_s3_is_shown_in_its_own_words(browser, stack, origins, shots):  # noqa: F811
    # moto does not check a POST's policy, so S3's answer to an oversized file is played back
    app, _cdn = origins
    page = open_page(browser, app)
    page.route(lambda url: url.startswith(stack.endpoint), lambda route: route.fulfill(
        status=400, content_type="application/xml",
        headers={"Access-Control-Allow-Origin": "*"},
        body="<?xml version='1.0' encoding='UTF-8'?><Error><Code>EntityTooLarge</Code>"
             "<Message>Your proposed upload exceeds the maximum allowed size</Message>"
             "<MaxSizeAllowed>1000</MaxSizeAllowed></Error>"))
    page.set_input_files("#picture", files=[
        {"name": "big.png", "mimeType": "image/png", "buffer": encode(
            Image.new("RGB", (64, 64), (10, 20, 30)), "PNG")}])
    page.wait_for_selector("#problem:not([hidden])")
    assert page.inner_text("#problem") == (
        "The upload was refused: Your proposed upload exceeds the maximum allowed size")
    assert page.locator("imgproc-image").count() == 0
    assert uploaded_keys(stack) == []
    page.screenshot(path=shots / "refused-by-s3.png")


@pytest.mark.parametrize(("name", "expected"), [
    ("cat.jpg", ".jpg"), ("Holiday.JPEG", ".jpeg"), ("../../etc/x.PNG", ".png"),
    ("page.html", ""), ("no-extension", ""), ("archive.tar.gz", ""), (None, ""),
])
def test_the_key_keeps_only_an_image_extension_from_the_name(name, expected):
    assert extension(name) == expected


@pytest.mark.parametrize(("request_body", "sentence"), [
    ({"name": "a.svg", "type": "", "size": 10}, "this file is of an unknown type"),
    ({"name": "a.jpg", "type": "image/", "size": 10}, "Only pictures"),
    ({"name": "a.jpg", "type": "image/jpeg\r\nX: y", "size": 10}, "Only pictures"),
    ({"name": "a.jpg", "type": "image/jpeg", "size": 0}, "from 1 byte to 10 MB"),
    ({"name": "a.jpg", "type": "image/jpeg", "size": 11 * 1024 * 1024}, "to 10 MB"),
    ({"name": "a.jpg", "type": "image/jpeg", "size": "10"}, "to 10 MB"),
])
def test_the_backend_refuses_what_the_pipeline_would_not_take(request_body, sentence):
    app = App(s3=None, bucket=BUCKET, cdn="https://cdn.example", config=Config(), prefix=PREFIX)
    status, body = app.presign(request_body)
    assert status == 400 and sentence in body["error"]
