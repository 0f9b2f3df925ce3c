"""Recognise an upload by its content, never by its name.

A `.jpg` that holds text or HTML is refused with a sentence that says what it looks like,
so the person who uploaded it understands the failure without opening the file.
"""

from __future__ import annotations

import codecs

from ..errors import EmptyFile, UnsupportedFormat
from ..formats import REGISTRY, supported_labels

SUPPORTED = supported_labels()


def sniff_format(data: bytes) -> str:
    """The name of the format in `formats.REGISTRY` the bytes hold, or a BadImage."""
    if not data:
        raise EmptyFile(f"The file is empty (0 bytes); expected an image ({SUPPORTED}).")
    head = data[:64]
    for fmt in REGISTRY:
        if fmt.magic is not None and fmt.magic.match(head):
            return fmt.name
    if head[4:8] == b"ftyp":
        family = _iso_bmff_family(data)
        if family:
            return family
    raise UnsupportedFormat(
        f"The file is not a supported image: its content looks like {describe_content(data)}; "
        f"supported formats are {SUPPORTED}."
    )


def _iso_bmff_family(data: bytes) -> str | None:
    box_size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(box_size, 16), 256)]
    brands = {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    return next((fmt.name for fmt in REGISTRY if brands & fmt.brands), None)


_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"BM", "a BMP image, which is not supported"),
    (b"\x00\x00\x01\x00", "an ICO icon, which is not supported"),
    (b"8BPS", "a Photoshop document, which is not supported"),
    (b"\x1f\x8b", "gzip-compressed data"),
)


def describe_content(data: bytes) -> str:
    """A few words on what unrecognised bytes seem to be, for the error sentence."""
    for magic, words in _SIGNATURES:
        if data.startswith(magic):
            return words
    text = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "SVG or XML, which is not supported" if b"<svg" in text else "an XML document"
    if text.startswith((b"{", b"[")):
        return "JSON or other text"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:512], final=False)
    except UnicodeDecodeError:
        return f"unrecognised binary data (first bytes {data[:8].hex(' ')})"
    return "plain text"


def name_unread_format(key: str, error: UnsupportedFormat) -> UnsupportedFormat:
    """An unsupported upload whose name says which image format it is gets that name in its
    sentence; any other keeps the content's description."""
    from ..formats import UNREAD_IMAGE_FORMATS
    from ..keys import extension_of

    label = UNREAD_IMAGE_FORMATS.get(extension_of(key) or "")
    if label is None:
        return error
    return UnsupportedFormat(
        f"The file is {label} (.{extension_of(key)}), an image format imgproc does not read; "
        f"supported formats are {SUPPORTED}."
    )
