"""The `imgproc` command line: `main` is the entry point (`imgproc.cli:main`)."""

from .main import main

__all__ = ["main"]
