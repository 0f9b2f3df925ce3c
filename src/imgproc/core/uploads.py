"""Putting local files into the store as originals, the way an app's users would.

The pipeline's own checks run first (size limit, a supported image by content), so a file
that would only end as a FAILED record is refused before any bytes travel, with the same
sentence the record would carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..formats import format_named
from ..keys import check_upload_key, is_candidate
from ..render.limits import check_bytes
from ..render.sniff import sniff_format
from .pipeline import Pipeline


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str


def plan_uploads(paths: Iterable[Path], prefix: str, config: Config) -> Iterator[Upload]:
    """Where each file goes: a file as `prefix + name`; a directory's image files keep their
    path below it (hidden files skipped). Raises BadKey for a key no upload may use."""
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = child.relative_to(path).as_posix()
                if not any(part.startswith(".") for part in child.relative_to(path).parts) \
                        and is_candidate(relative):
                    yield Upload(child, check_upload_key(prefix + relative, config))
        else:
            yield Upload(path, check_upload_key(prefix + path.name, config))


def content_type_of(data: bytes, config: Config) -> str:
    """The Content-Type to store, after the checks the pipeline would make (BadImage if not)."""
    check_bytes(len(data), config.max_image_size)
    return format_named(sniff_format(data)).mime_type


def put_original(pipeline: Pipeline, key: str, data: bytes, content_type: str) -> str | None:
    """Store the bytes under `key`; the etag of what was stored (what its record will name)."""
    pipeline.originals.put(key, data, content_type=content_type)
    info = pipeline.originals.head(key)
    return info.etag if info else None
