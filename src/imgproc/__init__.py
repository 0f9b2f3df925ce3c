"""imgproc: turns uploaded images into web-ready variants, placeholders and records."""

__version__ = "0.1.0"
