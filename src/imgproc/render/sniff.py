"""Recognise an upload by its content, never by its name.

A `.jpg` that holds text or HTML is refused with a sentence that says what it looks like,
so the person who uploaded it understands the failure without opening the file.
"""

from __future__ import annotations

import codecs

from ..errors import EmptyFile, UnsupportedFormat

SUPPORTED = "JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF and AVIF"

# ISO-BMFF brands (the 'ftyp' box) of the HEIF family.
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                b"mif1", b"msf1", b"mif2"}


def sniff_format(data: bytes) -> str:
    """The format name ('jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif') or a BadImage."""
    if not data:
        raise EmptyFile(f"The file is empty (0 bytes); expected an image ({SUPPORTED}).")
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        brand = _iso_bmff_family(data)
        if brand:
            return brand
    raise UnsupportedFormat(
        f"The file is not a supported image: its content looks like {describe_content(data)}; "
        f"supported formats are {SUPPORTED}."
    )


def _iso_bmff_family(data: bytes) -> str | None:
    box_size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(box_size, 16), 256)]
    brands = {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return None


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
