"""The embedded object store: a local directory laid out exactly like the bucket.

Object headers (Content-Type, Cache-Control, metadata) live beside the tree in
`.imgproc/objects/`, so `verify` checks the same things it checks on S3. The ETag is the MD5
of the content, as S3 computes it for single-part uploads, so "unchanged" means the same here
as there. Keys are confined to the root: no `..`, no absolute paths, no symlinks out.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..errors import BadKey, FileTooLarge, TransientError
from ..keys import check_key
from .base import ObjectInfo, StoredObject

META_DIR = ".imgproc"
NAME_MAX = 255  # bytes in one file name (ext4, XFS, APFS)
_HEADER_SUFFIX = ".json"


class DirectoryStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().absolute()
        self.name = str(self.root)
        self._headers = self.root / META_DIR / "objects"
        self._etags: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    # --- reading --------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransientError(f"Cannot read {path}: {exc.strerror}.") from exc
        if not path.is_file():
            return None
        etag = self._cached_etag(path, stat) or self._etag_of(path.read_bytes(), path, stat)
        return self._info(key, path, stat, etag)

    def get(self, key: str, version_id: str | None = None, *, etag: str | None = None,
            max_bytes: int | None = None) -> StoredObject | None:
        """As S3's: `etag` must still match, and no more than `max_bytes` are read."""
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())  # the identity of exactly the bytes read
                data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise TransientError(f"Cannot read {path}: {exc.strerror}.") from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise FileTooLarge(f"The file is over the limit of {max_bytes} bytes "
                               "(MAX_IMAGE_SIZE); it grew after it was checked.")
        stored = StoredObject(self._info(key, path, stat, self._etag_of(data, path, stat)), data)
        if etag and stored.info.etag != etag:
            raise TransientError(f"{path} changed between its check and its read; it will be "
                                 "read again.")
        return stored

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, in key order."""
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir():
            return
        for directory, subdirs, files in os.walk(start):
            here = Path(directory)
            if here == self.root:
                subdirs[:] = [d for d in subdirs if d != META_DIR]
            subdirs.sort()
            for file_name in sorted(files):
                if file_name.startswith(".imgproc-tmp-"):
                    continue
                key = (here / file_name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    info = self.head(key)
                    if info is not None:
                        yield info

    # --- writing --------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        cache_control: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        path = self._path(key)
        headers = {"ContentType": content_type, "CacheControl": cache_control,
                   "Metadata": metadata or {}}
        try:
            _write_atomically(path, data)
            _write_atomically(self._header_path(key), json.dumps(headers).encode())
        except OSError as exc:
            raise TransientError(f"Cannot write {path}: {exc.strerror}.") from exc

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            for path in (self._path(key), self._header_path(key)):
                path.unlink(missing_ok=True)
                _prune_empty_parents(path.parent, self.root)

    # --- paths and identity ---------------------------------------------------------------

    def _path(self, key: str) -> Path:
        check_key(key)
        parts = key.split("/")
        if key.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise BadKey(f"The key {key!r} is not a safe relative path (empty, '.' or '..' part).")
        if parts[0] == META_DIR:
            raise BadKey(f"The key {key!r} is inside imgproc's own {META_DIR}/ folder.")
        # the last part also names the headers file beside the tree (+ ".json")
        longest = max(len(p.encode("utf-8")) for p in [*parts[:-1], parts[-1] + _HEADER_SUFFIX])
        if longest > NAME_MAX:
            raise BadKey(
                f"A part of the key is too long for a local directory: {longest} bytes with "
                f"imgproc's {_HEADER_SUFFIX} header file, over the limit of {NAME_MAX} bytes per "
                f"file name (at most {NAME_MAX - len(_HEADER_SUFFIX)} for the last part)."
            )
        path = self.root.joinpath(*parts)
        real_root = self.root.resolve()
        if not path.resolve().is_relative_to(real_root):
            raise BadKey(f"The key {key!r} leads outside {self.root} (through a symlink).")
        return path

    def check_key(self, key: str) -> None:
        """Raise BadKey for a key this directory cannot hold (see `_path`)."""
        self._path(key)

    def _header_path(self, key: str) -> Path:
        return self._headers / f"{key}{_HEADER_SUFFIX}"

    def _info(self, key: str, path: Path, stat: os.stat_result, etag: str) -> ObjectInfo:
        headers = _read_json(self._header_path(key))
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=etag,
            last_modified=_iso(stat.st_mtime_ns),
            content_type=headers.get("ContentType"),
            cache_control=headers.get("CacheControl"),
            metadata=headers.get("Metadata"),
        )

    def _cached_etag(self, path: Path, stat: os.stat_result) -> str | None:
        with self._lock:
            return self._etags.get((str(path), stat.st_size, stat.st_mtime_ns))

    def _etag_of(self, data: bytes, path: Path, stat: os.stat_result) -> str:
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if len(data) == stat.st_size:
            with self._lock:
                self._etags[(str(path), stat.st_size, stat.st_mtime_ns)] = etag
        return etag


def _iso(mtime_ns: int) -> str:
    moment = datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".imgproc-tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
    temp.write_bytes(data)
    os.replace(temp, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _prune_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
