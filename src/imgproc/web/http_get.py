"""A plain HTTPS GET for checking what the CDN serves (`imgproc smoke`): status, headers and
body, with errors as answers rather than exceptions, since a failed request is a result."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status: int  # 0 when no HTTP answer came at all
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    error: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 15) -> Answer:
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _lower(exc.headers.items()), exc.read(), str(exc.reason))
    except (urllib.error.URLError, OSError) as exc:
        return Answer(0, error=str(getattr(exc, "reason", exc)))


def _lower(items) -> dict[str, str]:
    return {name.lower(): value for name, value in items}
