"""The regression inputs in `crashers/`, rebuilt from scratch: `python -m tests.fuzz.nasty`.

Two kinds of file live there. `bug-<id>[+<id>]--<what>.<ext>`: the smallest input found for a
bug listed in `known.py` (its test is a strict xfail until the bug is fixed). `<what>.<ext>`:
inputs that are known to be nasty for an image pipeline and must keep passing the oracle:
huge declared sizes with valid checksums, strips, bombs, huge animation screens, many pages,
broken metadata. Every file is small; the names say what each holds.

Files found by a fuzz run are copied in by hand (from bench/fuzz.py's --out directory),
renamed after what they are; this script does not overwrite or delete them.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

from tests.fuzz import mutators as m
from tests.fuzz.seeds import build_seeds, p3_profile, srgb_profile

CRASHERS = Path(__file__).with_name("crashers")


def _png(width: int, height: int, depth: int, colour: int, rows: bytes,
         extra: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (m.PNG_SIGNATURE + m._png_chunk(b"IHDR", header)
            + b"".join(m._png_chunk(kind, data) for kind, data in extra)
            + m._png_chunk(b"IDAT", zlib.compress(rows, 9)) + m._png_chunk(b"IEND", b""))


def _edit_png(data: bytes, edit) -> bytes:
    chunks, trailer = m.png_chunks(data)
    edit(chunks)
    return m._png_join(chunks, trailer)


def _jpeg_sof(data: bytes, width: int, height: int) -> bytes:
    sof = m._sof(m.jpeg_segments(data))
    return data[: sof.start + 5] + struct.pack(">HH", height, width) + data[sof.start + 9 :]


def _gif_screen(data: bytes, width: int, height: int, frames: int) -> bytes:
    out = data[:6] + struct.pack("<HH", width, height) + data[10:]
    _first, blocks = m.gif_blocks(out)
    last = max(i for i, block in enumerate(blocks) if block.kind == "image")
    frame = out[blocks[last - 1].start : blocks[last].end]
    return out[: blocks[last].end] + frame * frames + out[blocks[last].end :]


def _exif_bad() -> bytes:
    """Orientation 65535, Exif IFD and Make data offsets past the end, IFD0 loops to itself."""
    entries = [(0x010F, 2, 64, 0xFFFFFFF0), (0x0112, 3, 1, 65535 << 16),
               (0x8769, 4, 1, 0x7FFFFFFF)]
    ifd = struct.pack(">H", len(entries)) + b"".join(
        struct.pack(">HHII", tag, kind, count, value) for tag, kind, count, value in entries)
    return b"Exif\x00\x00MM\x00*" + struct.pack(">I", 8) + ifd + struct.pack(">I", 8)


def build() -> dict[str, bytes]:
    seeds = build_seeds()
    files: dict[str, bytes] = {}
    # --- open bugs (see known.py) ---------------------------------------------------------
    files["png-palette2-trns257.png"] = _png(
        2, 2, 8, 3, b"\0\0\1" * 2, ((b"PLTE", bytes(range(6))), (b"tRNS", b"\x80" * 257)))
    files["jpeg-gray-icc-space-c3.jpg"] = m._replace_app(
        seeds["jpeg-gray"], 0xE2, [b"ICC_PROFILE\x00\x01\x01" + _icc_space(b"\xc3\xa9ab")])
    files["png-gray-1x100000000.png"] = m._bomb_png(1, 100_000_000, 0)
    # --- formats imgproc does not read, judged under their own names (oracle.name_for) -----
    files["unread-bmp-24bit.bmp"] = seeds["unread-bmp"]
    files["unread-ico-two-sizes.ico"] = seeds["unread-ico"]
    files["unread-svg-rect.svg"] = seeds["unread-svg"]
    files["unread-psd-rgb-raw.psd"] = seeds["unread-psd"]
    files["unread-jxl-container.jxl"] = seeds["unread-jxl"]
    files["unread-empty.tga"] = b""  # EmptyFile, as render says, not UnsupportedFormat
    files["unread-name-jpeg-content.bmp"] = seeds["unread-name-jpeg-as-bmp"]  # renders
    # --- fixed bugs: Pillow's "<_io.BytesIO object at 0x…>" in the sentence; JPEG > 65500 -------
    files["png-signature-only.png"] = m.PNG_SIGNATURE
    files["jpeg-sof-0x32.jpg"] = _jpeg_sof(seeds["jpeg-baseline-exif6-p3icc"], 0, 32)
    files["avif-ispe-65535x65535.avif"] = _ispe(seeds["avif"], 65535, 65535)
    files["png-gray-1x65501-jpeg-side-limit.png"] = _png(1, 65501, 8, 0, b"\0\x80" * 65501)
    # --- known-nasty inputs that must keep passing ---------------------------------------------
    files["png-rgb-8x20000-strip.png"] = m._bomb_png(8, 20000, 2)
    files["png-gray-10000x10000-bomb.png"] = m._bomb_png(10000, 10000, 0)
    files["png-ihdr-2147483647x1-valid-crc.png"] = _edit_png(
        seeds["png-rgba"], lambda c: setattr(c[0], "data", struct.pack(">II", 2**31 - 1, 1)
                                             + c[0].data[8:]))
    files["png-iccp-zlib-bomb-16mib.png"] = _edit_png(
        seeds["png-rgba"], lambda c: c.insert(1, m.Chunk(b"iCCP", b"bomb\x00\x00"
                                                         + m._zeros_zlib(16 * 1024 * 1024))))
    files["png-iccp-truncated-profile.png"] = _edit_png(
        seeds["png-rgba"], lambda c: c.insert(1, m.Chunk(b"iCCP", b"cut\x00\x00"
                                                         + zlib.compress(p3_profile()[:300]))))
    files["apng-actl-2147483647-frames.png"] = _edit_png(
        seeds["apng"], lambda c: setattr(c[m._index(c, b"acTL")], "data",
                                         struct.pack(">II", 2**31 - 1, 0)))
    files["gif-screen-10000x10000-300-frames.gif"] = _gif_screen(seeds["gif-animated"], 10000,
                                                                 10000, 300)
    files["gif-screen-65535x65535.gif"] = _gif_screen(seeds["gif-animated"], 65535, 65535, 0)
    jpeg = seeds["jpeg-baseline-exif6-p3icc"]
    files["jpeg-sof-65535x65535.jpg"] = _jpeg_sof(jpeg, 65535, 65535)
    files["jpeg-sof-10000x10000-tiny-scan.jpg"] = _jpeg_sof(jpeg, 10000, 10000)
    files["jpeg-exif-orientation-65535-offsets-out-of-range.jpg"] = m._replace_app(
        jpeg, 0xE1, [_exif_bad()])
    files["jpeg-icc-truncated-chunk-missing.jpg"] = m._replace_app(
        jpeg, 0xE2, [b"ICC_PROFILE\x00\x01\x03" + p3_profile()[:200],
                     b"ICC_PROFILE\x00\x03\x03" + p3_profile()[400:500]])
    webp = m.riff_chunks(seeds["webp-lossy"])
    m._vp8x(webp)
    webp[0] = (b"VP8X", webp[0][1][:4] + m._u24(16383) + m._u24(16383))
    files["webp-vp8x-canvas-16384x16384.webp"] = m.riff_join(webp)
    anim = m.riff_chunks(seeds["webp-animated"])
    anim[0] = (b"VP8X", anim[0][1][:4] + m._u24(16382) + m._u24(6102))
    files["webp-animated-canvas-16383x6103.webp"] = m.riff_join(anim)
    tiff = seeds["tiff-multipage"]
    files["tiff-300-pages.tif"] = _tiff_pages(tiff, 300)
    files["tiff-ifd-chain-loops-to-itself.tif"] = _tiff_loop(tiff)
    files["tiff-size-4294967295x4294967295.tif"] = m._append_ifd(tiff, _tiff_sized(tiff))
    return files


def _icc_space(space: bytes) -> bytes:
    """The sRGB profile with its colour-space signature (bytes 16-19) replaced."""
    profile = srgb_profile()
    return profile[:16] + space + profile[20:]


def _tiff_pages(data: bytes, pages: int) -> bytes:
    ifd = m.tiff_first_ifd(data)
    out = bytearray(data)
    size = 2 + 12 * len(ifd.entries) + 4
    start = len(out) + (len(out) & 1)
    out += b"\0" * (start - len(out))
    for page in range(pages):
        following = start + (page + 1) * size if page + 1 < pages else 0
        out += struct.pack(ifd.order + "H", len(ifd.entries))
        for tag, kind, count, value in ifd.entries:
            out += struct.pack(ifd.order + "HHI", tag, kind, count) + value
        out += struct.pack(ifd.order + "I", following)
    end = ifd.offset + 2 + 12 * len(ifd.entries)
    out[end : end + 4] = struct.pack(ifd.order + "I", start)
    return bytes(out)


def _tiff_loop(data: bytes) -> bytes:
    ifd = m.tiff_first_ifd(data)
    end = ifd.offset + 2 + 12 * len(ifd.entries)
    return data[:end] + struct.pack(ifd.order + "I", ifd.offset) + data[end + 4 :]


def _tiff_sized(data: bytes) -> m.Ifd:
    ifd = m.tiff_first_ifd(data)
    m._set_tag(ifd, 256, 4, (2**32 - 1,))
    m._set_tag(ifd, 257, 4, (2**32 - 1,))
    return ifd


def _ispe(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    for kind, at in m._boxes(data):
        if kind == b"ispe":
            out[at + 12 : at + 20] = struct.pack(">II", width, height)
    return bytes(out)


def main() -> None:
    CRASHERS.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    for name, data in build().items():
        if only and name not in only:
            continue
        (CRASHERS / name).write_bytes(data)
        print(f"{len(data):8} bytes  {name}")


if __name__ == "__main__":
    main()
