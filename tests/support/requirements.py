"""A tool a test needs is missing: on CI that is a failure (the repo's own files must install
it), on a developer's machine a skip with the install hint."""

from __future__ import annotations

import os

import pytest


def missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
