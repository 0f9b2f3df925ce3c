"""Every image format imgproc knows, in one registry: what sniffing, decoding, encoding,
flattening, keys and config read. Adding a format is one entry here plus its codec options
(`render/encode.py` for an output format).

No codec is imported here; `render/` does that when a picture arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # imgproc's name: in config files, records and manifests
    label: str  # in sentences a user reads
    mime_type: str
    extensions: tuple[str, ...]  # upload extensions (any case); the first names a variant file
    pillow: str  # Pillow's format id
    plugin: str | None  # Pillow's plugin module, or None when pillow-heif registers it
    magic: re.Pattern[bytes] | None = None  # matched at the start of the file
    brands: frozenset[bytes] = frozenset()  # ISO-BMFF 'ftyp' brands, for HEIF-family files
    max_side: int | None = None  # largest side its encoder accepts; None: not an output
    alpha: bool = False  # as an output, keeps transparency (else flattened on the background)
    upright_on_load: bool = False  # the reader applies the orientation tag itself (TIFF)

    @property
    def is_output(self) -> bool:
        return self.max_side is not None

    @property
    def extension(self) -> str:
        return self.extensions[0]


def _magic(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern, re.DOTALL)


# Output formats first, in the order config errors list them. AVIF before HEIF: an AVIF file
# also carries HEIF's generic brands (mif1), so brand sniffing must ask AVIF first.
REGISTRY: tuple[Format, ...] = (
    Format("jpeg", "JPEG", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), "JPEG",
           "JpegImagePlugin", magic=_magic(rb"\xff\xd8\xff"),
           max_side=65500),  # libjpeg's JPEG_MAX_DIMENSION, below the format's 65535
    Format("webp", "WebP", "image/webp", ("webp",), "WEBP", "WebPImagePlugin",
           magic=_magic(rb"RIFF....WEBP"), max_side=16383, alpha=True),
    Format("png", "PNG", "image/png", ("png",), "PNG", "PngImagePlugin",
           magic=_magic(rb"\x89PNG\r\n\x1a\n"), max_side=2**31 - 1, alpha=True),
    Format("avif", "AVIF", "image/avif", ("avif",), "AVIF", "AvifImagePlugin",
           brands=frozenset({b"avif", b"avis"}), max_side=65536, alpha=True),
    Format("gif", "GIF", "image/gif", ("gif",), "GIF", "GifImagePlugin",
           magic=_magic(rb"GIF8[79]a")),
    Format("tiff", "TIFF", "image/tiff", ("tif", "tiff"), "TIFF", "TiffImagePlugin",
           magic=_magic(rb"II\*\x00|MM\x00\*"), upright_on_load=True),
    Format("heif", "HEIC/HEIF", "image/heif", ("heic", "heif", "hif"), "HEIF", None,
           brands=frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm",
                             b"hevs", b"mif1", b"msf1", b"mif2"})),
)

# Image formats people upload that imgproc does not read, by extension: such an upload gets a
# FAILED record naming its format (never silence), unless its content is a supported format.
UNREAD_IMAGE_FORMATS: dict[str, str] = {
    "bmp": "BMP", "dib": "BMP", "ico": "ICO", "cur": "Windows cursor", "svg": "SVG",
    "svgz": "SVG", "tga": "TGA", "ppm": "PPM", "pgm": "PGM", "pbm": "PBM", "pnm": "PNM",
    "pam": "PAM", "psd": "Photoshop (PSD)", "psb": "Photoshop (PSB)", "jxl": "JPEG XL",
    "heics": "HEIF image sequence", "jp2": "JPEG 2000", "j2k": "JPEG 2000", "jpx": "JPEG 2000",
    "jpf": "JPEG 2000", "exr": "OpenEXR", "hdr": "Radiance HDR", "dds": "DirectDraw Surface",
    "xcf": "GIMP (XCF)", "dng": "DNG raw", "cr2": "Canon raw (CR2)", "cr3": "Canon raw (CR3)",
    "nef": "Nikon raw (NEF)", "arw": "Sony raw (ARW)", "orf": "Olympus raw (ORF)",
    "rw2": "Panasonic raw (RW2)", "raf": "Fujifilm raw (RAF)", "pcx": "PCX", "wbmp": "WBMP",
    "qoi": "QOI", "eps": "EPS",
}

# The order a <picture> offers the output formats: fewest bytes first, and JPEG, which every
# browser decodes, last (it becomes the <img>).
PICTURE_ORDER: tuple[str, ...] = ("avif", "webp", "png", "jpeg")

FORMATS: dict[str, Format] = {f.name: f for f in REGISTRY}
OUTPUT_FORMATS: tuple[str, ...] = tuple(f.name for f in REGISTRY if f.is_output)
UPLOAD_EXTENSIONS: frozenset[str] = frozenset(e for f in REGISTRY for e in f.extensions)


def format_named(name: str) -> Format:
    return FORMATS[name]


def supported_labels() -> str:
    """"JPEG, WebP, PNG, AVIF, GIF, TIFF and HEIC/HEIF", for error sentences."""
    labels = [f.label for f in REGISTRY]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


__all__ = ["FORMATS", "OUTPUT_FORMATS", "PICTURE_ORDER", "REGISTRY", "UPLOAD_EXTENSIONS", "Format",
           "format_named", "supported_labels"]
