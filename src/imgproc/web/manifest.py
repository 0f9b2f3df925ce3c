"""`processed/{key}/manifest.json`: what a browser may know about an upload, and nothing else.

Web apps poll it (through the CDN, no credentials) to show progress, then the right picture.
It is built from the record by an allow-list, so EXIF, bucket names, etags and internal
fields can never reach it, and it is cached for seconds, not a year.
"""

from __future__ import annotations

import json

from ..formats import PICTURE_ORDER, format_named
from ..records import Status

MANIFEST_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=5"
MANIFEST_CONTENT_TYPE = "application/json"
_VARIANT_FIELDS = ("name", "key", "url", "width", "height", "format", "contentType")
_SOURCE_FIELDS = ("name", "key", "url", "width", "height")
_SAME_FRAME = 0.02  # a variant within 2 % of the original's aspect ratio shows the whole picture


def manifest_of(record: dict) -> dict:
    dimensions = record.get("originalDimensions") or {}
    manifest = {
        "key": record["id"],
        "status": record["status"],
        "width": dimensions.get("width"),
        "height": dimensions.get("height"),
        "variants": [
            {**{field: variant[field] for field in _VARIANT_FIELDS if field in variant},
             "bytes": variant["size"]}
            for variant in record.get("processedVariants", [])
        ],
        "sources": sources_of(record),
        "placeholder": record.get("placeholder"),
        "thumbhash": record.get("thumbhash"),
        "dominantColor": record.get("dominantColor"),
        "focalPoint": record.get("focalPoint"),  # for CSS object-position
        "updatedAt": record.get("processedAt"),
    }
    if record.get("status") == Status.FAILED:
        manifest["error"] = record.get("error")
    return manifest


def sources_of(record: dict) -> list[dict]:
    """Which sizes exist in which formats, shaped for `<picture>`: one entry per format, in
    the order a page should offer them (AVIF, WebP, PNG, then JPEG for the `<img>`), each with
    its whole-picture variants narrowest first. A crop (a cover thumbnail) is not a size of
    the picture, so it is only in `variants`.
    """
    dimensions = record.get("originalDimensions") or {}
    width, height = dimensions.get("width"), dimensions.get("height")
    if not width or not height:
        return []
    ratio = width / height
    whole = [v for v in record.get("processedVariants", [])
             if abs(v["width"] / v["height"] - ratio) <= _SAME_FRAME * max(1.0, ratio)]
    sources = []
    for fmt in PICTURE_ORDER:
        sizes = sorted((v for v in whole if v["format"] == fmt), key=lambda v: v["width"])
        if sizes:
            sources.append({
                "format": fmt,
                "contentType": format_named(fmt).mime_type,
                "sizes": [{field: v[field] for field in _SOURCE_FIELDS if field in v}
                          | {"bytes": v["size"]} for v in sizes],
            })
    return sources


def manifest_bytes(record: dict) -> bytes:
    return json.dumps(manifest_of(record), ensure_ascii=False, separators=(",", ":")).encode()
