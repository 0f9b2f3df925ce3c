"""`imgproc smoke`: after a deploy, one picture through the whole path, checked as a browser
would see it.

upload a generated picture → its record COMPLETE → the manifest and every variant through
the CDN (status, Content-Type, Cache-Control, nosniff, CORS for the app's origin, the bytes
themselves) → delete the upload → its variants and records gone. Each step is one `Check`;
the clean-up runs whatever failed before it, so a smoke run leaves nothing behind.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from ..errors import BadImage
from ..keys import (
    error_id,
    is_own_output,
    manifest_key,
    output_prefix_of,
    placeholder_id,
    smoke_prefix,
)
from ..records import Status
from ..render.sniff import sniff_format
from ..web.cdn_headers import NOSNIFF
from ..web.http_get import Answer, http_get
from ..web.manifest import MANIFEST_CACHE_CONTROL, MANIFEST_CONTENT_TYPE
from .guard import process_safely, safely
from .pipeline import Pipeline
from .process import CACHE_FOREVER
from .remove import remove_object
from .uploads import put_original
from .waiting import is_for, poll, wait_for_record


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class SmokeRun:
    """What to check against: the CDN's base URL, and the web app's origin for CORS (None:
    not checked). `inline`: no trigger (a local directory), so process and remove here."""

    pipeline: Pipeline
    cdn_url: str
    origin: str | None = None
    timeout: float = 120.0
    inline: bool = False
    fetch: Callable[[str, dict], Answer] = http_get


def smoke_key(pipeline: Pipeline) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{smoke_prefix(pipeline.config)}{stamp}-{secrets.token_hex(3)}.jpg"


def smoke_picture(width: int = 1600, height: int = 1067) -> bytes:
    """A landscape photo-sized JPEG (every default variant gets made), different each run."""
    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    hue = secrets.randbelow(200)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(220, hue, 40))
    draw.rectangle((width // 2, height // 2, width * 3 // 4, height * 3 // 4),
                   fill=(30, 90, 200 - hue // 2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def run_smoke(run: SmokeRun) -> Iterator[Check]:
    """The checks, in order, as each one finishes."""
    pipeline, key = run.pipeline, smoke_key(run.pipeline)
    started = time.monotonic()
    etag = put_original(pipeline, key, smoke_picture(), "image/jpeg")
    yield Check("upload", True, f"{key} ({etag})")
    try:
        if run.inline:
            process_safely(pipeline, key)
        record = wait_for_record(pipeline.records, key, run.timeout, etag=etag)
        yield _rendered(record, etag, run.timeout, time.monotonic() - started)
        if record is not None and record.get("status") == Status.COMPLETE:
            yield _manifest_check(run, key, record)
            for variant in record.get("processedVariants", []):
                yield _variant_check(run, variant)
    finally:
        yield _clean_up(run, key)


def _rendered(record: dict | None, etag: str | None, timeout: float, seconds: float) -> Check:
    if not is_for(record, etag):
        return Check("render", False,
                     f"no record after {timeout:g} s: are the triggers on "
                     "(imgproc triggers status) and is the function healthy (its logs)?")
    count = len(record.get("processedVariants", []))
    if record.get("status") != Status.COMPLETE:
        return Check("render", False, f"{record.get('status')}: {record.get('error') or ''}"
                     .rstrip(": "))
    return Check("render", True, f"COMPLETE in {seconds:.1f} s ({count} variants)")


def _url(run: SmokeRun, key: str) -> str:
    return f"{run.cdn_url.rstrip('/')}/{quote(key, safe='/')}"


def _get(run: SmokeRun, key: str) -> tuple[str, Answer]:
    url = _url(run, key)
    return url, run.fetch(url, {"Origin": run.origin} if run.origin else {})


def _header_problems(run: SmokeRun, answer: Answer, content_type: str,
                     cache_control: str) -> list[str]:
    """What a browser would trip over in the headers: each a short phrase."""
    problems = []
    if not (answer.header("Content-Type") or "").startswith(content_type):
        problems.append(f"Content-Type {answer.header('Content-Type')!r}, "
                        f"expected {content_type!r}")
    if answer.header("Cache-Control") != cache_control:
        problems.append(f"Cache-Control {answer.header('Cache-Control')!r}, "
                        f"expected {cache_control!r}")
    for name, value in NOSNIFF.items():
        if answer.header(name) != value:
            problems.append(f"no {name}: {value}")
    if run.origin and answer.header("Access-Control-Allow-Origin") not in ("*", run.origin):
        problems.append(f"no Access-Control-Allow-Origin for {run.origin} (the stack's "
                        "-c corsOrigins)")
    return problems


def _fetched(url: str, answer: Answer) -> list[str]:
    if answer.status == 200:
        return []
    if answer.status == 0:
        return [f"no answer from {url}: {answer.error}"]
    return [f"HTTP {answer.status} from {url}"]


def _manifest_check(run: SmokeRun, key: str, record: dict) -> Check:
    url, answer = _get(run, manifest_key(key, run.pipeline.config))
    problems = _fetched(url, answer)
    if not problems:
        problems = _header_problems(run, answer, MANIFEST_CONTENT_TYPE, MANIFEST_CACHE_CONTROL)
        try:
            manifest = json.loads(answer.body)
            names = [v["name"] for v in manifest["variants"]]
        except (ValueError, KeyError, TypeError):
            manifest, names = {}, []
            problems.append("the body is not an imgproc manifest")
        if manifest and manifest.get("status") != Status.COMPLETE:
            problems.append(f"status {manifest.get('status')!r}, expected COMPLETE")
        expected = [v["name"] for v in record.get("processedVariants", [])]
        if manifest and names != expected:
            problems.append(f"variants {names}, expected {expected}")
    return Check("manifest", not problems, "; ".join(problems) or url)


def _variant_check(run: SmokeRun, variant: dict) -> Check:
    url, answer = _get(run, variant["key"])
    problems = _fetched(url, answer)
    if not problems:
        problems = _header_problems(run, answer, variant["contentType"], CACHE_FOREVER)
        if len(answer.body) != variant["size"]:
            problems.append(f"{len(answer.body)} bytes, the record says {variant['size']}")
        try:
            kind = sniff_format(answer.body)
        except BadImage:
            kind = "not an image"
        if kind != variant["format"]:
            problems.append(f"the body is {kind}, expected {variant['format']}")
    return Check(f"variant {variant['name']}", not problems, "; ".join(problems) or url)


def _clean_up(run: SmokeRun, key: str) -> Check:
    pipeline, started = run.pipeline, time.monotonic()
    pipeline.originals.delete([key])
    if run.inline:
        safely(remove_object, pipeline, key)
    prefix, ids = output_prefix_of(key, pipeline.config), (key, placeholder_id(key),
                                                            error_id(key))

    def leftovers() -> list[str]:
        objects = [info.key for info in pipeline.outputs.list(prefix)
                   if is_own_output(key, info.key, pipeline.config)]
        return objects + [i for i in ids if pipeline.records.get(i) is not None]

    left = poll(leftovers, lambda found: not found, run.timeout)
    if left:
        return Check("clean-up", False,
                     f"still there after {run.timeout:g} s: {', '.join(left[:3])}"
                     + (f" and {len(left) - 3} more" if len(left) > 3 else ""))
    return Check("clean-up", True, f"variants and records gone in "
                 f"{time.monotonic() - started:.1f} s")
