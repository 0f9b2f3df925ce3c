"""The headers the CDN adds to what it serves, defined once.

The CDK app builds CloudFront's response headers policy from these values and `imgproc
preview` (the local stand-in for the CDN) sends the same ones, so what works against preview
works through CloudFront. Variants and manifests are public by design; CORS only lets a web
app on another origin *read* them (`fetch()` of the manifest by `<imgproc-image>`).
"""

from __future__ import annotations

from collections.abc import Sequence

ANY_ORIGIN = "*"
CORS_METHODS = ("GET", "HEAD")
CORS_MAX_AGE_SECONDS = 3600  # how long a browser may reuse a preflight answer
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
# CloudFront caches 403/404 from the origin for 10 s by default; a page polling for a
# manifest that is about to appear must not wait that long.
ERROR_CACHE_SECONDS = 1


def parse_origins(text: str | None) -> tuple[str, ...]:
    """`https://a.example,https://b.example` (CDK context `corsOrigins`); empty means any."""
    origins = tuple(o.strip().rstrip("/") for o in (text or "").split(",") if o.strip())
    return origins or (ANY_ORIGIN,)


def cors_headers(request_origin: str | None, allowed: Sequence[str]) -> dict[str, str]:
    """What the CDN answers a request carrying `Origin: request_origin` with.

    As CloudFront's policy does: no Origin, or one not allowed, gets no CORS header (the
    browser then refuses the page the read); `*` allows every origin.
    """
    if not request_origin or not allowed:
        return {}
    if ANY_ORIGIN in allowed:
        return {"Access-Control-Allow-Origin": ANY_ORIGIN}
    if request_origin.rstrip("/") in allowed:
        return {"Access-Control-Allow-Origin": request_origin, "Vary": "Origin"}
    return {}


__all__ = ["ANY_ORIGIN", "CORS_MAX_AGE_SECONDS", "CORS_METHODS", "ERROR_CACHE_SECONDS",
           "NOSNIFF", "cors_headers", "parse_origins"]
