"""Shared fixtures: an embedded store (directory + SQLite) with a helper to upload originals."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgproc.config import Config
from imgproc.core import Pipeline
from imgproc.stores import DirectoryStore, SqliteRecordStore

pytest_plugins = ["tests.aws_fixtures"]


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """An empty embedded bucket directory."""
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def pipeline(media: Path) -> Pipeline:
    store = DirectoryStore(media)
    return Pipeline(store, store, SqliteRecordStore(media / ".imgproc" / "metadata.db"), Config())


@pytest.fixture
def upload(media: Path):
    """upload(key, data) writes an original into the embedded bucket, like an S3 PUT."""

    def _upload(key: str, data: bytes) -> Path:
        path = media / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return _upload
