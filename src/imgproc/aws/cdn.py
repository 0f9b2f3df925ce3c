"""CloudFront: versioned variant URLs, and one invalidation when an original changes.

Variants are cached for a year, so a re-uploaded original must never be served stale: the URL
carries `?v={source etag}` (the distribution keys its cache on it), and where a distribution
id is configured the old paths are invalidated as well.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

from ..config import Config
from ..errors import TransientError
from ..keys import output_prefix_of
from .clients import AwsSettings, client, error_code


def variant_url(domain: str, key: str, etag: str) -> str:
    return f"https://{domain}/{quote(key, safe='/')}?v={quote(etag, safe='')}"


def url_builder(domain: str | None):
    """A `Pipeline.url_for`: no domain, no URL (the record's `url` is optional)."""
    if not domain:
        return lambda key, etag: None
    domain = domain.removeprefix("https://").rstrip("/")
    return lambda key, etag: variant_url(domain, key, etag)


class Invalidator:
    """Invalidates `/processed/{key}/*` on one distribution (a `Pipeline.on_replaced`)."""

    def __init__(self, distribution_id: str, config: Config,
                 settings: AwsSettings = AwsSettings(), cloudfront=None):
        self.distribution_id = distribution_id
        self.config = config
        self.settings = settings
        self._cloudfront = cloudfront

    @property
    def cloudfront(self):
        """Made on first use: most invocations never invalidate, and a client costs cold start."""
        if self._cloudfront is None:
            self._cloudfront = client("cloudfront", self.settings)
        return self._cloudfront

    def __call__(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # not for `imgproc --help`

        path = "/" + quote(output_prefix_of(key, self.config), safe="/") + "*"
        try:
            self.cloudfront.create_invalidation(
                DistributionId=self.distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": [path]},
                    "CallerReference": f"imgproc-{time.time_ns()}-{uuid.uuid4().hex[:8]}",
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError(
                f"CloudFront invalidation of {path} on {self.distribution_id} failed "
                f"({error_code(exc) or type(exc).__name__})."
            ) from exc
