"""`processed/{key}/manifest.json`: what a browser may know about an upload, and nothing else.

Web apps poll it (through the CDN, no credentials) to show progress, then the right picture.
It is built from the record by an allow-list, so EXIF, bucket names, etags and internal
fields can never reach it, and it is cached for seconds, not a year.
"""

from __future__ import annotations

import json

from ..records import Status

MANIFEST_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=5"
MANIFEST_CONTENT_TYPE = "application/json"
_VARIANT_FIELDS = ("name", "key", "url", "width", "height", "format", "contentType")


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
        "placeholder": record.get("placeholder"),
        "thumbhash": record.get("thumbhash"),
        "dominantColor": record.get("dominantColor"),
        "focalPoint": record.get("focalPoint"),  # for CSS object-position
        "updatedAt": record.get("processedAt"),
    }
    if record.get("status") == Status.FAILED:
        manifest["error"] = record.get("error")
    return manifest


def manifest_bytes(record: dict) -> bytes:
    return json.dumps(manifest_of(record), ensure_ascii=False, separators=(",", ":")).encode()
