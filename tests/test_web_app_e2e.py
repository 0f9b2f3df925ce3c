"""A web team's first day, end to end over real HTTP: moto's server as S3, SQS and DynamoDB,
the Lambda handler fed from the S3-notified queue (`QueuePump`), and `imgproc preview` over
the bucket as the CDN on another origin.

`imgproc upload --wait` follows each upload to its record and prints the variant URLs;
`imgproc smoke` passes against the stack and fails, naming the check, when a variant is gone
or the CDN sends no CORS header for the app's origin.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest

from imgproc.keys import manifest_key, variant_key
from tests.support.contract import DEFAULT_VARIANTS
from tests.support.images import plain_jpeg, transparent_png
from tests.support.moto_pipeline import BUCKET, IMGPROC, REGION, TABLE, QueuePump, imgproc

APP_ORIGIN = "https://app.example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def preview_cdn(stack, cors_origins: str = APP_ORIGIN, store: list[str] | None = None):
    """`imgproc preview` over the bucket (or the `store` options given), on
    http://localhost:PORT (not the tests' origin); yields its base URL once it answers."""
    port = free_port()
    store = store or ["--bucket", BUCKET, "--table", TABLE, "--region", REGION,
                      "--endpoint-url", stack.endpoint]
    process = subprocess.Popen(
        [IMGPROC, *store, "preview", "--port", str(port), "--cors-origins", cors_origins],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://localhost:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/_imgproc/imgproc-image.js", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stderr.read()) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def cdn_domain(monkeypatch):
    """The distribution domain the handler writes into records (as the stack sets it)."""
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION", "d111.cloudfront.example")
    return "d111.cloudfront.example"


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_upload_wait_follows_each_picture_and_prints_its_variant_urls(stack, cdn_domain,
                                                                      tmp_path):
    (tmp_path / "cat.jpg").write_bytes(plain_jpeg(1200, 800))
    (tmp_path / "logo.png").write_bytes(transparent_png())
    with QueuePump(stack) as pump:
        result = imgproc(stack, "upload", str(tmp_path / "cat.jpg"), str(tmp_path / "logo.png"),
                         "--prefix", "uploads/u1/", "--wait", "--timeout", "60", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert pump.failures == []
    summaries = {s["key"]: s for s in lines(result)}
    assert set(summaries) == {"uploads/u1/cat.jpg", "uploads/u1/logo.png"}
    cat = summaries["uploads/u1/cat.jpg"]
    assert cat["status"] == "COMPLETE"
    assert [v["name"] for v in cat["variants"]] == list(DEFAULT_VARIANTS)
    assert cat["variants"][0]["url"].startswith(  # versioned by the source etag
        f"https://{cdn_domain}/processed/uploads/u1/cat.jpg/thumbnail.jpg?v=")
    # the originals are what was uploaded, byte for byte
    stored = stack.s3.get_object(Bucket=BUCKET, Key="uploads/u1/cat.jpg")
    assert stored["Body"].read() == (tmp_path / "cat.jpg").read_bytes()
    assert stored["ContentType"] == "image/jpeg"
    # people get the same, readable
    again = imgproc(stack, "status", "uploads/u1/cat.jpg")
    assert again.returncode == 0


def test_upload_wait_exit_codes_failed_refused_and_timeout(stack, tmp_path):
    broken = plain_jpeg(800, 600)[:2000]  # a JPEG cut short: uploaded, then FAILED
    (tmp_path / "broken.jpg").write_bytes(broken)
    (tmp_path / "notes.jpg").write_bytes(b"just text, named like a picture")
    with QueuePump(stack):
        failed = imgproc(stack, "upload", str(tmp_path / "broken.jpg"), "--wait", "--json")
    assert failed.returncode == 1, failed.stderr
    [summary] = lines(failed)
    assert summary["status"] == "FAILED" and "truncated" in summary["error"]

    refused = imgproc(stack, "upload", str(tmp_path / "notes.jpg"))
    assert refused.returncode == 1
    assert "REFUSED" in refused.stdout and "looks like plain text" in refused.stdout
    assert "Contents" not in stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/notes")

    (tmp_path / "late.jpg").write_bytes(plain_jpeg())
    nobody_listening = imgproc(stack, "upload", str(tmp_path / "late.jpg"), "--wait",
                               "--timeout", "1")
    assert nobody_listening.returncode == 3
    assert "TIMEOUT" in nobody_listening.stdout


def test_smoke_passes_against_the_stack_and_leaves_nothing(stack):
    with QueuePump(stack), preview_cdn(stack) as cdn:
        result = imgproc(stack, "smoke", "--cdn-url", cdn, "--origin", APP_ORIGIN,
                         "--timeout", "60", "--json")
    checks = lines(result)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [c["check"] for c in checks[:-1]]
    assert names == ["upload", "render", "manifest",
                     *[f"variant {v}" for v in DEFAULT_VARIANTS], "clean-up"]
    assert all(c["ok"] for c in checks[:-1])
    assert checks[-1] == {"smoke": "passed", "failed": []}
    assert "Contents" not in stack.s3.list_objects_v2(Bucket=BUCKET)
    assert stack.dynamodb.scan(TableName=TABLE)["Items"] == []


class LosesOneVariant:
    """The handler's output store, deleting webp-medium just before the manifest goes up:
    a COMPLETE record whose variant is gone, as after an operator's stray delete."""

    def __init__(self, store, config):
        self.store, self.config = store, config

    def put(self, key, data, **headers):
        if key.endswith("/manifest.json"):
            original = key[len(self.config.output_prefix):-len("/manifest.json")]
            webp = next(v for v in self.config.variants if v.name == "webp-medium")
            self.store.delete([variant_key(original, webp, self.config)])
            assert key == manifest_key(original, self.config)
        self.store.put(key, data, **headers)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_smoke_names_the_missing_variant(stack):
    from imgproc.lambda_handler import pipeline_for

    pipeline = pipeline_for(BUCKET)
    pipeline.outputs = LosesOneVariant(pipeline.outputs, pipeline.config)
    with QueuePump(stack), preview_cdn(stack) as cdn:
        result = imgproc(stack, "smoke", "--cdn-url", cdn, "--origin", APP_ORIGIN)
    assert result.returncode == 1
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1, result.stdout
    assert failing[0].split()[1:3] == ["variant", "webp-medium"]
    assert "HTTP 404" in failing[0]
    assert "pass clean-up" in result.stdout


def test_smoke_names_the_missing_cors_header(stack):
    with QueuePump(stack), preview_cdn(stack, cors_origins="https://other.example") as cdn:
        result = imgproc(stack, "smoke", "--cdn-url", cdn, "--origin", APP_ORIGIN, "--json")
    assert result.returncode == 1
    checks = lines(result)
    failed = [c for c in checks[:-1] if not c["ok"]]
    assert [c["check"] for c in failed] == ["manifest",
                                            *[f"variant {v}" for v in DEFAULT_VARIANTS]]
    assert all(f"no Access-Control-Allow-Origin for {APP_ORIGIN}" in c["detail"] for c in failed)
    assert checks[-1]["smoke"] == "failed"


def test_smoke_without_a_cdn_says_how_to_name_it(stack):
    result = imgproc(stack, "smoke")
    assert result.returncode == 2
    assert "pass --stack NAME" in result.stderr and "--cdn-url URL" in result.stderr


def test_upload_and_smoke_on_the_embedded_store(tmp_path):
    """No AWS: a directory has no trigger, so upload and smoke process in place."""
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "cat.jpg").write_bytes(plain_jpeg(1000, 700))
    run = [IMGPROC, "--bucket", str(media)]
    uploaded = subprocess.run([*run, "upload", str(tmp_path / "cat.jpg")], capture_output=True,
                              text=True, timeout=60)
    assert uploaded.returncode == 0, uploaded.stderr
    assert "COMPLETE uploads/cat.jpg" in uploaded.stdout
    assert (media / "processed/uploads/cat.jpg/webp-large.webp").is_file()

    with preview_cdn(None, store=["--bucket", str(media)]) as cdn:
        smoke = subprocess.run([*run, "smoke", "--cdn-url", cdn, "--origin", APP_ORIGIN],
                               capture_output=True, text=True, timeout=120)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.count("pass ") == 3 + len(DEFAULT_VARIANTS) + 1
    assert sorted(p.name for p in (media / "uploads").iterdir()) == ["cat.jpg"]
