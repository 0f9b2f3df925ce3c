"""Structure-aware mutations of image files, reproducible from a seeded `random.Random`.

`mutate(rng, data, seeds)` applies one to three mutations and returns the new bytes with a
short description of each ("png:ihdr-size 20000x8", "jpeg:exif orientation=65535 ..."). About
half of the mutations understand the container they edit and keep its checksums valid (PNG
CRCs, RIFF sizes, TIFF IFDs), so the damage reaches the decoders instead of stopping at the
first integrity check; the other half are blind byte edits, truncations and splices.

Every function here takes the rng as its first argument and uses nothing else random, so an
input is a pure function of (seed, index): see `generate`.
"""

from __future__ import annotations

import functools
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzz.seeds import p3_profile, srgb_profile

Mutation = Callable[[random.Random, bytes], "tuple[bytes, str] | None"]

# Side lengths worth trying: zero, one, format limits and just past them, sizes whose product
# sits at or just past the 100-megapixel limit, and the largest the header field can hold.
SIDES = (0, 1, 2, 3, 8, 255, 256, 16383, 16384, 16385, 10000, 10001, 20000, 32767, 32768,
         65535, 65536, 100_000, 1_000_000, 99_999_999, 2**31 - 1, 2**32 - 1)
# (width, height) pairs that are each a known trouble spot.
NASTY_SIZES = ((10000, 10000), (10000, 10001), (8, 20000), (20000, 8), (1, 100_000_000),
               (100_000_000, 1), (16383, 6103), (16384, 16), (16, 16384), (65535, 1525),
               (1525, 65535), (65535, 65535), (0, 16), (16, 0), (0, 0), (2**31 - 1, 1),
               (1, 2**31 - 1), (2**32 - 1, 2**32 - 1), (12000, 8333), (4, 25_000_000))
INTERESTING_16 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x3FFF, 0x4000, 0x7FFF, 0x8000, 0xFFFE,
                  0xFFFF)
INTERESTING_32 = (0, 1, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE,
                  0xFFFFFFFF)


def generate(seed: int, index: int, seeds: dict[str, bytes]) -> tuple[str, bytes, list[str]]:
    """Input number `index` of campaign `seed`: (seed name, bytes, mutation descriptions).

    Seeds are taken in turn, so every format gets its share whatever the run's length.
    """
    names = sorted(seeds)
    name = names[index % len(names)]
    rng = random.Random(f"imgproc-fuzz:{seed}:{index}")
    data, steps = mutate(rng, seeds[name], seeds)
    return name, data, steps


def mutate(rng: random.Random, data: bytes, seeds: dict[str, bytes]) -> tuple[bytes, list[str]]:
    steps = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        structured = STRUCTURED.get(container_of(data), ())
        if structured and rng.random() < 0.6:
            mutation = rng.choice(structured)
        else:
            mutation = rng.choice(GENERIC)
        try:
            result = splice(rng, data, seeds) if mutation is splice else mutation(rng, data)
        except (IndexError, ValueError, struct.error):
            # Earlier mutations can leave a structure too broken for this one to parse
            # (a 30-minute run lost its workers to this): treat it as not applicable.
            result = None
        if result is None:  # did not apply (the structure was not there): try a blind one
            result = bit_flips(rng, data)
        data, description = result
        steps.append(description)
    return data, steps


def container_of(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:3] == b"GIF":
        return "gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[4:8] == b"ftyp":
        return "isobmff"
    return "unknown"


# --- generic, format-blind ------------------------------------------------------------------


def _offset(rng: random.Random, data: bytes) -> int:
    """Biased to the first 512 bytes, where the headers are."""
    if not data:
        return 0
    if rng.random() < 0.6:
        return rng.randrange(min(len(data), 512))
    return rng.randrange(len(data))


def bit_flips(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    count = rng.choice((1, 1, 2, 4, 8, 32))
    for _ in range(count):
        if out:
            out[_offset(rng, out)] ^= 1 << rng.randrange(8)
    return bytes(out), f"bit-flips x{count}"


def interesting_int(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    if len(out) < 4:
        return bit_flips(rng, data)
    at = _offset(rng, out[:-4])
    order = rng.choice("<>")
    if rng.random() < 0.5:
        value = rng.choice(INTERESTING_16)
        out[at : at + 2] = struct.pack(order + "H", value)
    else:
        value = rng.choice(INTERESTING_32)
        out[at : at + 4] = struct.pack(order + "I", value)
    return bytes(out), f"int {value:#x} at {at}"


def insert_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _offset(rng, data)
    if rng.random() < 0.5 and data:
        start = rng.randrange(len(data))
        chunk = data[start : start + rng.randint(1, 256)]
    else:
        chunk = rng.randbytes(rng.randint(1, 64))
    return data[:at] + chunk + data[at:], f"insert {len(chunk)} bytes at {at}"


def delete_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _offset(rng, data)
    length = rng.choice((1, 2, 4, 16, 64, 512))
    return data[:at] + data[at + length :], f"delete {length} bytes at {at}"


def truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = rng.choice((
        rng.randrange(max(1, len(data))),
        rng.randrange(max(1, min(len(data), 64))),
        max(0, len(data) - rng.randint(1, 16)),
    ))
    return data[:cut], f"truncate at {cut}/{len(data)}"


def splice(rng: random.Random, data: bytes, seeds: dict[str, bytes]) -> tuple[bytes, str]:
    """Head of this file, tail of another seed (often of another format)."""
    other_name = rng.choice(sorted(seeds))
    other = seeds[other_name]
    cut = rng.randrange(max(1, len(data)))
    other_cut = rng.randrange(max(1, len(other)))
    return data[:cut] + other[other_cut:], f"splice at {cut} with {other_name}[{other_cut}:]"


GENERIC: tuple = (bit_flips, bit_flips, interesting_int, insert_bytes, delete_bytes, truncate,
                  truncate, splice)


# --- EXIF (TIFF structure) for JPEG APP1, PNG eXIf and WebP EXIF ------------------------------


def bogus_exif(rng: random.Random) -> tuple[bytes, str]:
    """A TIFF-structured EXIF block with a bad orientation and out-of-range offsets."""
    order = rng.choice("<>")
    orientation = rng.choice((0, 9, 65535, 1, 6, 8, 256, 0x8000))
    bad_offset = rng.choice((0xFFFFFFF0, 0x7FFFFFFF, 8, 0, 4096, 3))
    entries = [(0x0112, 3, 1, struct.pack(order + "HH", orientation, 0))]  # Orientation SHORT
    if rng.random() < 0.3:  # orientation as a LONG, or with a silly count
        entries = [(0x0112, rng.choice((4, 2, 7, 12)), rng.choice((1, 2, 0xFFFF)),
                    struct.pack(order + "I", orientation))]
    if rng.random() < 0.7:
        entries.append((0x8769, 4, 1, struct.pack(order + "I", bad_offset)))  # Exif IFD
    if rng.random() < 0.5:
        entries.append((0x8825, 4, 1, struct.pack(order + "I", rng.choice((8, bad_offset)))))
    if rng.random() < 0.5:  # Make: ASCII whose data lies far past the end
        entries.append((0x010F, 2, rng.choice((64, 0x7FFFFFFF)), struct.pack(order + "I",
                                                                            bad_offset)))
    if rng.random() < 0.3:  # an unknown type
        entries.append((0x0110, rng.choice((0, 13, 255)), 1, b"\0\0\0\0"))
    entries.sort(key=lambda entry: entry[0])
    count = len(entries) if rng.random() < 0.8 else rng.choice((0, 0xFFFF))
    ifd = struct.pack(order + "H", count)
    for tag, kind, n, value in entries:
        ifd += struct.pack(order + "HHI", tag, kind, n) + value
    next_ifd = rng.choice((0, 0, 8, bad_offset))  # 8: the first IFD again (a loop)
    ifd += struct.pack(order + "I", next_ifd)
    first = 8 if rng.random() < 0.85 else bad_offset
    header = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", first)
    tiff = header + ifd
    if rng.random() < 0.2:
        tiff = tiff[: rng.randrange(len(tiff))]
    return tiff, (f"exif orientation={orientation} ifd0@{first:#x} sub@{bad_offset:#x} "
                  f"next@{next_ifd:#x} len={len(tiff)}")


def bogus_icc(rng: random.Random) -> tuple[bytes, str]:
    """Garbage, a truncated real profile, or a real profile with a lying header."""
    real = rng.choice((srgb_profile(), p3_profile()))
    kind = rng.choice(("garbage", "truncated", "header", "flipped", "empty-tags"))
    if kind == "garbage":
        return rng.randbytes(rng.choice((1, 16, 128, 600))), "icc garbage"
    if kind == "truncated":
        cut = rng.randrange(len(real))
        return real[:cut], f"icc truncated at {cut}"
    if kind == "header":  # declared size, colour space or tag count lies
        out = bytearray(real)
        field, value = rng.choice(((0, struct.pack(">I", 0xFFFFFFFF)), (16, b"CMYK"),
                                   (16, b"GRAY"), (16, b"\0\0\0\0"), (20, b"Lab "),
                                   (128, struct.pack(">I", 0xFFFFFF)), (12, b"link")))
        out[field : field + len(value)] = value
        return bytes(out), f"icc header field {field} = {value!r}"
    if kind == "flipped":
        out = bytearray(real)
        for _ in range(8):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out), "icc bit flips"
    out = bytearray(real[:132])
    out[128:132] = struct.pack(">I", 0)
    out[0:4] = struct.pack(">I", len(out))
    return bytes(out), "icc with no tags"


# --- JPEG -------------------------------------------------------------------------------------


@dataclass
class Segment:
    marker: int
    start: int  # offset of the 0xFF
    end: int  # one past the segment (for SOS: past the entropy-coded data)


def jpeg_segments(data: bytes) -> list[Segment]:
    segments = []
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append(Segment(marker, pos, pos + 2))
            pos += 2
            continue
        if pos + 4 > len(data):
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not RSTn/stuffing
            scan = end
            while scan + 1 < len(data):
                if data[scan] == 0xFF and data[scan + 1] not in range(0xD0, 0xD8) \
                        and data[scan + 1] != 0:
                    break
                scan += 1
            end = scan
        segments.append(Segment(marker, pos, min(end, len(data))))
        pos = end
    return segments


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", min(len(payload) + 2, 0xFFFF)) + payload


def _sof(segments: list[Segment]) -> Segment | None:
    return next((s for s in segments if 0xC0 <= s.marker <= 0xCF
                 and s.marker not in (0xC4, 0xC8, 0xCC)), None)


def jpeg_sof_size(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    sof = _sof(jpeg_segments(data))
    if sof is None:
        return None
    width, height = _nasty_size(rng, limit=0xFFFF)
    out = bytearray(data)
    out[sof.start + 5 : sof.start + 9] = struct.pack(">HH", height, width)
    return bytes(out), f"jpeg:sof-size {width}x{height}"


def jpeg_sof_fields(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Precision, component count, sampling factors, table ids, or the SOF type itself."""
    sof = _sof(jpeg_segments(data))
    if sof is None:
        return None
    out = bytearray(data)
    field = rng.choice(("precision", "components", "sampling", "table", "type"))
    if field == "precision":
        value = rng.choice((0, 1, 12, 16, 255))
        out[sof.start + 4] = value
    elif field == "components":
        value = rng.choice((0, 1, 2, 4, 5, 255))
        out[sof.start + 9] = value
    elif field == "sampling":
        value = rng.choice((0x00, 0x11, 0x41, 0x14, 0x44, 0x55, 0xFF, 0x31))
        out[sof.start + 11 + 3 * rng.randrange(max(1, out[sof.start + 9] or 1))] = value
    elif field == "table":
        value = rng.choice((3, 4, 255))
        out[sof.start + 12] = value
    else:
        value = rng.choice((0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                            0xCF))
        out[sof.start + 1] = value
    return bytes(out), f"jpeg:sof {field}={value:#x}"


def jpeg_segment_surgery(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    segments = [s for s in jpeg_segments(data) if s.marker != 0xD9]
    if not segments:
        return None
    seg = rng.choice(segments)
    chunk = data[seg.start : seg.end]
    action = rng.choice(("drop", "duplicate", "move-to-front", "swap"))
    if action == "drop":
        out = data[: seg.start] + data[seg.end :]
    elif action == "duplicate":
        out = data[: seg.end] + chunk + data[seg.end :]
    elif action == "move-to-front":
        out = data[:2] + chunk + data[2 : seg.start] + data[seg.end :]
    else:
        other = rng.choice(segments)
        first, second = sorted((seg, other), key=lambda s: s.start)
        if first is second:
            return None
        out = (data[: first.start] + data[second.start : second.end]
               + data[first.end : second.start] + data[first.start : first.end]
               + data[second.end :])
    return out, f"jpeg:{action} segment {seg.marker:#04x}@{seg.start}"


def jpeg_exif(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Replace (or add) APP1 with a bogus EXIF block."""
    tiff, description = bogus_exif(rng)
    return _replace_app(data, 0xE1, [b"Exif\x00\x00" + tiff]), f"jpeg:{description}"


def jpeg_icc(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Replace (or add) APP2 ICC_PROFILE chunks: bad profile and/or bad chunk numbering."""
    profile, description = bogus_icc(rng)
    numbering = rng.choice(("ok", "ok", "count0", "seq0", "missing", "dup", "huge-count"))
    pieces = [profile[i : i + 60000] for i in range(0, max(1, len(profile)), 60000)] or [b""]
    if rng.random() < 0.4:  # split into several small chunks to exercise reassembly
        size = max(1, len(profile) // rng.randint(2, 5))
        pieces = [profile[i : i + size] for i in range(0, len(profile), size)] or [b""]
    total = len(pieces)
    numbered = []
    for seq, piece in enumerate(pieces, 1):
        count = {"count0": 0, "huge-count": 255}.get(numbering, total)
        number = 0 if numbering == "seq0" else seq
        numbered.append(b"ICC_PROFILE\x00" + bytes((number, count)) + piece)
    if numbering == "missing" and len(numbered) > 1:
        numbered.pop(rng.randrange(len(numbered)))
    if numbering == "dup":
        numbered.append(numbered[0])
    return _replace_app(data, 0xE2, numbered), f"jpeg:{description} ({numbering}, {total})"


def _replace_app(data: bytes, marker: int, payloads: list[bytes]) -> bytes:
    segments = jpeg_segments(data)
    kept = [data[s.start : s.end] for s in segments if s.marker != marker]
    new = [_segment(marker, payload[:0xFFFD]) for payload in payloads]
    body = b"".join(kept[:1] + new + kept[1:]) if kept else b"".join(new)
    tail_start = segments[-1].end if segments else 2
    return data[:2] + body + data[tail_start:]


def jpeg_tables(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Random bytes inside a DQT, DHT, DRI or SOS header payload (lengths left alone)."""
    candidates = [s for s in jpeg_segments(data) if s.marker in (0xDB, 0xC4, 0xDD, 0xDA)]
    if not candidates:
        return None
    seg = rng.choice(candidates)
    header_end = seg.start + 2 + struct.unpack(">H", data[seg.start + 2 : seg.start + 4])[0]
    start, end = seg.start + 4, min(header_end, seg.end, len(data))
    if end <= start:
        return None
    out = bytearray(data)
    for _ in range(rng.choice((1, 2, 4))):
        out[rng.randrange(start, end)] = rng.choice((0, 0xFF, 0x10, 0x11, 0x0F, 0x3F,
                                                     rng.randrange(256)))
    return bytes(out), f"jpeg:table bytes in {seg.marker:#04x}@{seg.start}"


def jpeg_scan(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Damage inside the entropy-coded data: markers in the middle, early EOI, cut short."""
    scans = [s for s in jpeg_segments(data) if s.marker == 0xDA]
    if not scans:
        return None
    seg = rng.choice(scans)
    header_end = seg.start + 2 + struct.unpack(">H", data[seg.start + 2 : seg.start + 4])[0]
    if seg.end <= header_end + 1:
        return None
    at = rng.randrange(header_end, seg.end)
    action = rng.choice(("eoi", "rst", "sof", "cut", "zeros"))
    inserts = {"eoi": b"\xff\xd9", "rst": bytes((0xFF, 0xD0 + rng.randrange(8))),
               "sof": b"\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00"
               b"\x02\x11\x01\x03\x11\x01", "zeros": b"\x00" * 64}
    if action == "cut":
        return data[:at], f"jpeg:scan cut at {at}"
    return data[:at] + inserts[action] + data[at:], f"jpeg:scan insert {action} at {at}"


def jpeg_bomb(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A big declared size with the little scan data of the seed: decode-time ratio."""
    sof = _sof(jpeg_segments(data))
    if sof is None:
        return None
    width, height = rng.choice(((10000, 10000), (12000, 8333), (65535, 1525), (1525, 65535),
                                (16384, 6000), (40000, 2500), (5000, 5000)))
    out = bytearray(data)
    out[sof.start + 5 : sof.start + 9] = struct.pack(">HH", height, width)
    return bytes(out), f"jpeg:bomb {width}x{height} from {len(data)} bytes"


# --- PNG --------------------------------------------------------------------------------------


@dataclass
class Chunk:
    kind: bytes
    data: bytes

    def encode(self) -> bytes:
        return _png_chunk(self.kind, self.data)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> tuple[list[Chunk], bytes] | None:
    """The chunks and whatever trails the last one that parsed (None: not a PNG)."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    chunks, pos = [], 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        if pos + 12 + length > len(data):
            break
        chunks.append(Chunk(data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks, data[pos:]


def _png_join(chunks: list[Chunk], trailer: bytes = b"") -> bytes:
    return PNG_SIGNATURE + b"".join(chunk.encode() for chunk in chunks) + trailer


def _with_png(mutation):
    """Give a PNG mutation the parsed chunks; it edits them and CRCs are recomputed."""

    @functools.wraps(mutation)
    def wrapper(rng: random.Random, data: bytes):
        parsed = png_chunks(data)
        if parsed is None or not parsed[0]:
            return None
        chunks, trailer = parsed
        description = mutation(rng, chunks)
        if description is None:
            return None
        return _png_join(chunks, trailer), f"png:{description}"

    return wrapper


def _index(chunks: list[Chunk], kind: bytes) -> int | None:
    return next((i for i, chunk in enumerate(chunks) if chunk.kind == kind), None)


def _before_idat(chunks: list[Chunk]) -> int:
    index = _index(chunks, b"IDAT")
    return index if index is not None else max(1, len(chunks) - 1)


@_with_png
def png_ihdr_size(rng: random.Random, chunks: list[Chunk]) -> str | None:
    if chunks[0].kind != b"IHDR" or len(chunks[0].data) < 13:
        return None
    width, height = _nasty_size(rng, limit=0xFFFFFFFF)
    chunks[0].data = struct.pack(">II", width, height) + chunks[0].data[8:]
    return f"ihdr-size {width}x{height}"


@_with_png
def png_ihdr_format(rng: random.Random, chunks: list[Chunk]) -> str | None:
    if chunks[0].kind != b"IHDR" or len(chunks[0].data) < 13:
        return None
    depth = rng.choice((0, 1, 2, 3, 4, 8, 16, 32, 255))
    colour = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 255))
    compression, filter_method = rng.choice(((0, 0),) * 4 + ((1, 0), (0, 1), (255, 255)))
    interlace = rng.choice((0, 0, 1, 2, 255))
    chunks[0].data = chunks[0].data[:8] + bytes((depth, colour, compression, filter_method,
                                                 interlace))
    return f"ihdr depth={depth} colour={colour} cm={compression} fm={filter_method} " \
           f"il={interlace}"


@_with_png
def png_iccp(rng: random.Random, chunks: list[Chunk]) -> str:
    profile, description = bogus_icc(rng)
    packing = rng.choice(("zlib", "zlib", "raw", "zlib-cut", "bomb", "method1"))
    method = 1 if packing == "method1" else 0
    if packing == "raw":
        body = profile
    elif packing == "bomb":
        body = _zeros_zlib(rng.choice((2, 16, 64)) * 1024 * 1024)
    else:
        body = zlib.compress(profile)
        if packing == "zlib-cut":
            body = body[: rng.randrange(max(1, len(body)))]
    _put_chunk(chunks, b"iCCP", b"fuzz icc\x00" + bytes((method,)) + body)
    return f"iCCP {description} ({packing})"


@_with_png
def png_exif(rng: random.Random, chunks: list[Chunk]) -> str:
    tiff, description = bogus_exif(rng)
    _put_chunk(chunks, b"eXIf", tiff)
    return f"eXIf {description}"


def _put_chunk(chunks: list[Chunk], kind: bytes, data: bytes) -> None:
    index = _index(chunks, kind)
    if index is not None:
        chunks[index] = Chunk(kind, data)
    else:
        chunks.insert(1, Chunk(kind, data))


@_with_png
def png_idat(rng: random.Random, chunks: list[Chunk]) -> str | None:
    index = _index(chunks, b"IDAT")
    if index is None:
        return None
    action = rng.choice(("duplicate", "garbage", "split", "empty", "bomb", "after-iend"))
    if action == "duplicate":
        chunks.insert(index + 1, Chunk(b"IDAT", chunks[index].data))
    elif action == "garbage":
        chunks.insert(index + 1, Chunk(b"IDAT", rng.randbytes(rng.randint(1, 300))))
    elif action == "split":
        data = chunks[index].data
        cut = rng.randrange(max(1, len(data)))
        chunks[index : index + 1] = [Chunk(b"IDAT", data[:cut]), Chunk(b"IDAT", data[cut:])]
    elif action == "empty":
        chunks[index].data = b""
    elif action == "bomb":  # more data than the header's size holds
        chunks.insert(index + 1, Chunk(b"IDAT", _zeros_zlib(8 * 1024 * 1024)))
    else:
        chunks.append(Chunk(b"IDAT", chunks[index].data))
    return f"IDAT {action}"


@_with_png
def png_apng(rng: random.Random, chunks: list[Chunk]) -> str | None:
    """acTL/fcTL with huge frame counts, frames bigger than the image, bogus ops."""
    if chunks[0].kind != b"IHDR":
        return None
    frames = rng.choice((0, 1, 2, 1000, 2**31 - 1, 2**32 - 1))
    plays = rng.choice((0, 1, 2**32 - 1))
    actl = Chunk(b"acTL", struct.pack(">II", frames, plays))
    width, height = struct.unpack(">II", chunks[0].data[:8])
    choice = rng.choice(("same", "huge", "offset", "zero"))
    fw, fh, fx, fy = {"same": (width, height, 0, 0),
                      "huge": (*_nasty_size(rng, limit=0xFFFFFFFF), 0, 0),
                      "offset": (width, height, 2**31 - 1, rng.choice((1, 2**32 - 1))),
                      "zero": (0, 0, 0, 0)}[choice]
    dispose, blend = rng.choice((0, 1, 2, 3, 255)), rng.choice((0, 1, 2, 255))
    fctl = Chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, fw, fh, fx, fy,
                                      rng.choice((1, 0)), rng.choice((0, 10)), dispose, blend))
    for kind in (b"acTL", b"fcTL"):
        index = _index(chunks, kind)
        if index is not None:
            del chunks[index]
    at = _before_idat(chunks)
    chunks[at:at] = [actl, fctl]
    if rng.random() < 0.5:  # a few fdAT frames, copies of the IDAT data
        index = _index(chunks, b"IDAT")
        if index is not None:
            for seq in range(1, rng.choice((2, 5, 50))):
                chunks.insert(-1, Chunk(b"fcTL", struct.pack(">I", seq * 2 - 1) + fctl.data[4:]))
                chunks.insert(-1, Chunk(b"fdAT", struct.pack(">I", seq * 2)
                                        + chunks[index].data))
    return f"acTL frames={frames} fcTL {choice} {fw}x{fh}+{fx}+{fy} ops={dispose},{blend}"


@_with_png
def png_ancillary(rng: random.Random, chunks: list[Chunk]) -> str:
    """PLTE/tRNS/text/sBIT/gAMA/pHYs with sizes and contents that do not fit."""
    kind = rng.choice((b"PLTE", b"tRNS", b"zTXt", b"iTXt", b"tEXt", b"gAMA", b"sBIT", b"pHYs",
                       b"cHRM", b"bKGD", b"sRGB", b"cICP", b"ABCD", b"abCD"))
    length = rng.choice((0, 1, 3, 6, 768, 771, 1024))
    body = rng.randbytes(length)
    if kind in (b"zTXt", b"iTXt") and rng.random() < 0.5:
        body = b"Comment\x00" + (b"\x00" if kind == b"zTXt" else b"\x01\x00\x00\x00") \
            + _zeros_zlib(rng.choice((1, 8)) * 1024 * 1024)
    at = _before_idat(chunks) if rng.random() < 0.7 else len(chunks) - 1
    chunks.insert(at, Chunk(kind, body))
    return f"{kind.decode()} of {len(body)} bytes at chunk {at}"


@_with_png
def png_chunk_surgery(rng: random.Random, chunks: list[Chunk]) -> str:
    index = rng.randrange(len(chunks))
    action = rng.choice(("drop", "duplicate", "swap", "flip-data"))
    kind = chunks[index].kind.decode("latin-1")
    if action == "drop":
        del chunks[index]
    elif action == "duplicate":
        chunks.insert(index, Chunk(chunks[index].kind, chunks[index].data))
    elif action == "swap":
        other = rng.randrange(len(chunks))
        chunks[index], chunks[other] = chunks[other], chunks[index]
    else:  # damage inside the data, with a valid CRC, so decoders see it
        data = bytearray(chunks[index].data)
        for _ in range(rng.choice((1, 3, 10))):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        chunks[index].data = bytes(data)
    return f"{action} {kind}@{index}"


def png_length_lie(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A chunk length field larger than the file (CRC cannot be valid here)."""
    parsed = png_chunks(data)
    if not parsed or not parsed[0]:
        return None
    pos, offsets = 8, []
    for chunk in parsed[0]:
        offsets.append(pos)
        pos += 12 + len(chunk.data)
    at = rng.choice(offsets)
    value = rng.choice((0x7FFFFFFF, 0xFFFFFFFF, len(data), 0))
    return data[:at] + struct.pack(">I", value) + data[at + 4 :], f"png:length {value:#x}@{at}"


def png_bomb(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A complete, valid PNG of up to 100 megapixels that compresses to a few hundred KB."""
    width, height = rng.choice(((10000, 10000), (8, 20000), (20000, 8), (1, 100_000_000),
                                (16384, 6103), (4, 25_000_000), (10000, 3000)))
    colour = rng.choice((0, 2, 6))
    return _bomb_png(width, height, colour), f"png:bomb {width}x{height} colour={colour}"


@functools.lru_cache(maxsize=8)
def _bomb_png(width: int, height: int, colour: int) -> bytes:
    channels = {0: 1, 2: 3, 6: 4}[colour]
    row = b"\x00" + b"\x80" * (width * channels)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(min(height, 64))]
    repeat = compressor.compress(row)  # steady state: the same bytes for every further row
    parts.append(repeat * (height - min(height, 64)) if len(repeat) else b"")
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


@functools.lru_cache(maxsize=8)
def _zeros_zlib(size: int) -> bytes:
    return zlib.compress(b"\x00" * size, 9)


# --- GIF --------------------------------------------------------------------------------------


@dataclass
class GifBlock:
    kind: str  # "ext" or "image"
    start: int
    end: int


def gif_blocks(data: bytes) -> tuple[int, list[GifBlock]] | None:
    """Offset of the first block after the header and colour table, and the blocks."""
    if len(data) < 13 or data[:3] != b"GIF":
        return None
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    first, blocks = pos, []
    while pos < len(data):
        introducer = data[pos]
        if introducer == 0x21 and pos + 2 <= len(data):
            end = _skip_subblocks(data, pos + 2)
            blocks.append(GifBlock("ext", pos, end))
        elif introducer == 0x2C and pos + 10 <= len(data):
            local = data[pos + 9]
            start = pos + 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            end = _skip_subblocks(data, start + 1)
            blocks.append(GifBlock("image", pos, end))
        else:
            break
        if end > len(data):
            break
        pos = end
    return first, blocks


def _skip_subblocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


def gif_screen(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A huge logical screen, often with many frames: every frame composited onto it."""
    if data[:3] != b"GIF" or len(data) < 13:
        return None
    width, height = rng.choice(((10000, 10000), (65535, 65535), (0, 0), (10000, 1), (1, 65535),
                                (16384, 6000), (65535, 1525), *(_nasty_size(rng, 0xFFFF),)))
    out = data[:6] + struct.pack("<HH", width, height) + data[10:]
    description = f"gif:screen {width}x{height}"
    if rng.random() < 0.5:
        out, more = _gif_many_frames(rng, out)
        description += f" {more}"
    return out, description


def gif_many_frames(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    result = _gif_many_frames(rng, data)
    return (result[0], f"gif:{result[1]}") if result[1] else None


def _gif_many_frames(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    parsed = gif_blocks(data)
    if parsed is None:
        return data, ""
    _first, blocks = parsed
    images = [i for i, block in enumerate(blocks) if block.kind == "image"]
    if not images:
        return data, ""
    last = images[-1]
    start = blocks[last - 1].start if last and blocks[last - 1].kind == "ext" else \
        blocks[last].start
    frame = data[start : blocks[last].end]
    copies = rng.choice((10, 100, 1000, 5000))
    end = blocks[last].end
    return data[:end] + frame * copies + data[end:], f"+{copies} frames"


def gif_frame_fields(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Image descriptor geometry, LZW code size, colour-table flags, GCE values."""
    parsed = gif_blocks(data)
    if parsed is None or not parsed[1]:
        return None
    block = rng.choice(parsed[1])
    out = bytearray(data)
    if block.kind == "image":
        field = rng.choice(("geometry", "lzw", "local-table"))
        if field == "geometry":
            values = [rng.choice((0, 1, 10000, 65535)) for _ in range(4)]
            out[block.start + 1 : block.start + 9] = struct.pack("<4H", *values)
            return bytes(out), f"gif:frame geometry {values}"
        if field == "lzw":
            local = out[block.start + 9]
            at = block.start + 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            if at >= len(out):
                return None
            value = rng.choice((0, 1, 11, 12, 13, 255))
            out[at] = value
            return bytes(out), f"gif:lzw code size {value}"
        value = rng.choice((0x80, 0x87, 0xC7, 0x40, 0xFF))
        out[block.start + 9] = value
        return bytes(out), f"gif:local table flags {value:#x}"
    if len(out) > block.start + 7 and out[block.start + 1] == 0xF9:  # graphic control
        out[block.start + 3] = rng.choice((0x00, 0x1C, 0x1D, 0xFF, 0x09))  # disposal, transp.
        out[block.start + 6] = rng.randrange(256)  # transparent index
        return bytes(out), "gif:graphic control values"
    out[block.start + 2] = rng.choice((0, 255, 11, 3))  # first sub-block size lies
    return bytes(out), "gif:extension sub-block size"


def gif_global_table(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    if data[:3] != b"GIF" or len(data) < 13:
        return None
    value = rng.choice((0x00, 0x80, 0x87, 0xF7, 0x07))
    out = bytearray(data)
    out[10] = value
    return bytes(out), f"gif:global table flags {value:#x}"


# --- WebP -------------------------------------------------------------------------------------


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        chunks.append((data[pos : pos + 4], body))
        pos += 8 + size + (size & 1)
        if pos > len(data):
            break
    return chunks


def riff_join(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")
                    for kind, data in chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _with_webp(mutation):
    @functools.wraps(mutation)
    def wrapper(rng: random.Random, data: bytes):
        chunks = riff_chunks(data)
        if not chunks:
            return None
        description = mutation(rng, chunks)
        if description is None:
            return None
        return riff_join(chunks), f"webp:{description}"

    return wrapper


def _vp8x(chunks: list[tuple[bytes, bytes]]) -> int:
    """Index of the VP8X chunk, adding one (sized from the bitstream) to a simple file."""
    for i, (kind, _) in enumerate(chunks):
        if kind == b"VP8X":
            return i
    width, height = _bitstream_size(chunks) or (1, 1)
    flags = 0x10 if any(kind == b"ALPH" for kind, _ in chunks) else 0
    chunks.insert(0, (b"VP8X", bytes((flags, 0, 0, 0)) + _u24(width - 1) + _u24(height - 1)))
    return 0


def _bitstream_size(chunks) -> tuple[int, int] | None:
    for kind, data in chunks:
        if kind == b"VP8 " and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return w & 0x3FFF, h & 0x3FFF
        if kind == b"VP8L" and len(data) >= 5:
            bits = int.from_bytes(data[1:5], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _u24(value: int) -> bytes:
    return (value & 0xFFFFFF).to_bytes(3, "little")


@_with_webp
def webp_canvas(rng: random.Random, chunks) -> str:
    index = _vp8x(chunks)
    width, height = rng.choice(((16383, 16383), (16384, 16384), (16385, 1), (1, 16385),
                                (2**24, 2**24), (10000, 10000), (16384, 6103), (1, 1),
                                *(_nasty_size(rng, 2**24),)))
    kind, data = chunks[index]
    flags = data[:4] if rng.random() < 0.7 else bytes((rng.choice((0x02, 0x10, 0x20, 0x08,
                                                                   0x3E)), 0, 0, 0))
    chunks[index] = (kind, flags + _u24(width - 1) + _u24(height - 1) + data[10:])
    return f"VP8X canvas {width}x{height} flags={flags[0]:#x}"


@_with_webp
def webp_bitstream_size(rng: random.Random, chunks) -> str | None:
    """The 14-bit sizes inside the VP8 or VP8L bitstream header (frames included)."""
    for i, (kind, data) in enumerate(chunks):
        width, height = rng.choice(((16383, 16383), (0, 0), (1, 16383), (16383, 1),
                                    (10000, 10000), (rng.randrange(1, 16384),) * 2))
        if kind == b"VP8 " and len(data) >= 10:
            scale = rng.randrange(4) << 14
            new = data[:6] + struct.pack("<HH", width | scale, height | scale) + data[10:]
            chunks[i] = (kind, new)
            return f"VP8 size {width}x{height}"
        if kind == b"VP8L" and len(data) >= 5:
            bits = int.from_bytes(data[1:5], "little")
            bits = (bits & ~((1 << 28) - 1)) | (max(0, width - 1) & 0x3FFF) \
                | ((max(0, height - 1) & 0x3FFF) << 14)
            chunks[i] = (kind, data[:1] + bits.to_bytes(4, "little") + data[5:])
            return f"VP8L size {width}x{height}"
    return None


@_with_webp
def webp_animation(rng: random.Random, chunks) -> str | None:
    frames = [i for i, (kind, _) in enumerate(chunks) if kind == b"ANMF"]
    if not frames:
        return None
    index = rng.choice(frames)
    kind, data = chunks[index]
    action = rng.choice(("geometry", "many", "anim"))
    if action == "geometry":
        x, y = rng.choice((0, 2**24 - 1, 8000)), rng.choice((0, 2**24 - 1, 8000))
        w, h = rng.choice((0, 2**24 - 1, 16383)), rng.choice((0, 2**24 - 1, 16383))
        chunks[index] = (kind, _u24(x) + _u24(y) + _u24(w) + _u24(h) + data[12:])
        return f"ANMF geometry +{x * 2}+{y * 2} {w + 1}x{h + 1}"
    if action == "many":
        copies = rng.choice((10, 100, 1000))
        chunks[index + 1 : index + 1] = [(kind, data)] * copies
        return f"ANMF +{copies} frames"
    anim = next((i for i, (k, _) in enumerate(chunks) if k == b"ANIM"), None)
    if anim is None:
        return None
    chunks[anim] = (b"ANIM", rng.randbytes(rng.choice((0, 2, 6, 12))))
    return "ANIM garbage"


@_with_webp
def webp_metadata(rng: random.Random, chunks) -> str:
    """ICCP or EXIF chunks with bad contents, flagged in VP8X (or, sometimes, not)."""
    index = _vp8x(chunks)
    if rng.random() < 0.5:
        payload, description = bogus_icc(rng)
        kind, flag = b"ICCP", 0x20
    else:
        payload, description = bogus_exif(rng)
        if rng.random() < 0.3:
            payload = b"Exif\x00\x00" + payload
        kind, flag = b"EXIF", 0x08
    chunks[:] = [c for c in chunks if c[0] != kind]
    chunks.insert(index + 1 if kind == b"ICCP" else len(chunks), (kind, payload))
    vp8x_kind, data = chunks[index]
    flags = data[0] | flag if rng.random() < 0.8 else data[0]
    chunks[index] = (vp8x_kind, bytes((flags,)) + data[1:])
    return f"{kind.decode()} {description}"


@_with_webp
def webp_chunk_surgery(rng: random.Random, chunks) -> str:
    index = rng.randrange(len(chunks))
    kind = chunks[index][0].decode("latin-1")
    action = rng.choice(("drop", "duplicate", "swap", "flip"))
    if action == "drop":
        del chunks[index]
    elif action == "duplicate":
        chunks.insert(index, chunks[index])
    elif action == "swap":
        other = rng.randrange(len(chunks))
        chunks[index], chunks[other] = chunks[other], chunks[index]
    else:
        data = bytearray(chunks[index][1])
        for _ in range(rng.choice((1, 3, 10))):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        chunks[index] = (chunks[index][0], bytes(data))
    return f"{action} {kind}@{index}"


def webp_riff_size(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    if data[:4] != b"RIFF":
        return None
    value = rng.choice((0, 4, len(data) * 2, 0xFFFFFFFF, 0x7FFFFFFF, len(data) - 9))
    return data[:4] + struct.pack("<I", value & 0xFFFFFFFF) + data[8:], f"webp:riff {value:#x}"


# --- TIFF -------------------------------------------------------------------------------------

TIFF_TYPES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8}


@dataclass
class Ifd:
    order: str
    offset: int
    entries: list[tuple[int, int, int, bytes]]  # tag, type, count, 4 value/offset bytes
    next_offset: int


def tiff_first_ifd(data: bytes) -> Ifd | None:
    if data[:4] not in (b"II*\x00", b"MM\x00*") or len(data) < 8:
        return None
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    if offset + 2 > len(data):
        return None
    count = struct.unpack(order + "H", data[offset : offset + 2])[0]
    end = offset + 2 + 12 * count
    if end + 4 > len(data):
        return None
    entries = []
    for i in range(count):
        at = offset + 2 + 12 * i
        tag, kind, n = struct.unpack(order + "HHI", data[at : at + 8])
        entries.append((tag, kind, n, data[at + 8 : at + 12]))
    return Ifd(order, offset, entries, struct.unpack(order + "I", data[end : end + 4])[0])


def _append_ifd(data: bytes, ifd: Ifd) -> bytes:
    """Write `ifd` at the end of the file and make it the first IFD (the old one is orphaned)."""
    out = bytearray(data)
    if len(out) & 1:
        out.append(0)
    at = len(out)
    out += struct.pack(ifd.order + "H", len(ifd.entries))
    for tag, kind, n, value in sorted(ifd.entries, key=lambda entry: entry[0]):
        out += struct.pack(ifd.order + "HHI", tag, kind, n) + value
    out += struct.pack(ifd.order + "I", ifd.next_offset)
    out[4:8] = struct.pack(ifd.order + "I", at)
    return bytes(out)


def _set_tag(ifd: Ifd, tag: int, kind: int, values: tuple[int, ...]) -> None:
    fmt = {3: "H", 4: "I", 8: "h", 9: "i", 1: "B"}[kind]
    packed = struct.pack(ifd.order + fmt * len(values), *values)
    ifd.entries = [e for e in ifd.entries if e[0] != tag]
    ifd.entries.append((tag, kind, len(values), packed.ljust(4, b"\0")[:4]))


def _with_tiff(mutation):
    @functools.wraps(mutation)
    def wrapper(rng: random.Random, data: bytes):
        ifd = tiff_first_ifd(data)
        if ifd is None:
            return None
        result = mutation(rng, data, ifd)
        if result is None:
            return None
        if isinstance(result, tuple):  # the mutation wrote the file itself
            return result[0], f"tiff:{result[1]}"
        return _append_ifd(data, ifd), f"tiff:{result}"

    return wrapper


@_with_tiff
def tiff_size(rng: random.Random, data: bytes, ifd: Ifd) -> str:
    width, height = _nasty_size(rng, limit=0xFFFFFFFF)
    kind = 4 if max(width, height) > 0xFFFF or rng.random() < 0.5 else 3
    _set_tag(ifd, 256, kind, (width,))
    _set_tag(ifd, 257, kind, (height,))
    return f"size {width}x{height}"


@_with_tiff
def tiff_fields(rng: random.Random, data: bytes, ifd: Ifd) -> str:
    tag, values = rng.choice((
        (258, rng.choice(((0,), (1,), (2,), (4,), (12,), (16,), (32,), (64,), (255,),
                          (8, 8, 8), (16, 16, 16), (8, 8, 8, 8, 8)))),  # BitsPerSample
        (259, (rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 32773, 32946, 34712, 50000, 65535)),)),
        (262, (rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 32844, 32845, 65535)),)),
        (277, (rng.choice((0, 1, 2, 3, 4, 5, 8, 255, 65535)),)),  # SamplesPerPixel
        (278, (rng.choice((0, 1, 0xFFFFFFFF, 0x7FFFFFFF)),)),  # RowsPerStrip
        (273, (rng.choice((0, 8, 0xFFFFFFF0, len(data), len(data) - 1)),)),  # StripOffsets
        (279, (rng.choice((0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 10 * len(data))),)),  # StripByteCounts
        (284, (rng.choice((0, 1, 2, 3)),)),  # PlanarConfiguration
        (274, (rng.choice((0, 9, 65535, 5, 8)),)),  # Orientation
        (338, (rng.choice((0, 1, 2, 3, 4)),)),  # ExtraSamples
        (339, (rng.choice((1, 2, 3, 4, 5, 6)),)),  # SampleFormat
        (317, (rng.choice((1, 2, 3, 34892)),)),  # Predictor
        (322, (rng.choice((0, 1, 16, 15, 65535)),)),  # TileWidth
        (323, (rng.choice((0, 1, 16, 17, 65535)),)),  # TileLength
        (530, (rng.choice((0, 1, 2, 4, 8)), rng.choice((0, 1, 2, 4, 8)))),  # YCbCrSubSampling
        (320, tuple(rng.randrange(65536) for _ in range(6))),  # ColorMap (too short)
    ))
    kind = 4 if tag in (273, 278, 279) else 3
    _set_tag(ifd, tag, kind, values)
    return f"tag {tag}={values if len(values) < 4 else (*values[:3], '...')}"


@_with_tiff
def tiff_offsets(rng: random.Random, data: bytes, ifd: Ifd) -> str:
    """An entry whose count or data offset points outside the file (ICC, EXIF, XMP, strips)."""
    tag = rng.choice((34675, 34665, 34853, 700, 273, 279, 320, 33723, 37724))
    count = rng.choice((1, 16, 600, 0x7FFFFFFF, 0xFFFFFFFF))
    offset = rng.choice((0xFFFFFFF0, len(data), len(data) - 2, 0, 8, 0x7FFFFFFF))
    kind = {34675: 7, 700: 1, 34665: 4, 34853: 4, 33723: 7, 37724: 7}.get(tag, 4)
    ifd.entries = [e for e in ifd.entries if e[0] != tag]
    ifd.entries.append((tag, kind, count, struct.pack(ifd.order + "I", offset)))
    return f"tag {tag} count={count:#x} @{offset:#x}"


@_with_tiff
def tiff_icc(rng: random.Random, data: bytes, ifd: Ifd):
    """A real (damaged) ICC payload appended and referenced from tag 34675."""
    profile, description = bogus_icc(rng)
    if len(profile) <= 4:
        profile = profile.ljust(5, b"\0")
    out = data + (b"\0" if len(data) & 1 else b"")
    at = len(out)
    out += profile
    ifd.entries = [e for e in ifd.entries if e[0] != 34675]
    ifd.entries.append((34675, 7, len(profile), struct.pack(ifd.order + "I", at)))
    return _append_ifd(out, ifd), f"ICC {description}"


@_with_tiff
def tiff_pages(rng: random.Random, data: bytes, ifd: Ifd):
    """Many pages (copies of the first IFD), a loop in the IFD chain, or a dangling next."""
    action = rng.choice(("many", "loop", "self", "dangling"))
    if action == "dangling":
        ifd.next_offset = rng.choice((0xFFFFFFF0, len(data) + 100, 3))
        return f"next IFD @{ifd.next_offset:#x}"
    if action in ("loop", "self"):
        out = bytearray(data)
        end = ifd.offset + 2 + 12 * len(ifd.entries)
        target = ifd.offset if action == "self" else 8
        out[end : end + 4] = struct.pack(ifd.order + "I", target)
        return bytes(out), f"IFD chain {action}"
    pages = rng.choice((10, 100, 1000, 5000))
    out = bytearray(data)
    if len(out) & 1:
        out.append(0)
    size = 2 + 12 * len(ifd.entries) + 4
    start = len(out)
    for page in range(pages):
        at = start + page * size
        following = at + size if page + 1 < pages else 0
        out += struct.pack(ifd.order + "H", len(ifd.entries))
        for tag, kind, n, value in sorted(ifd.entries, key=lambda entry: entry[0]):
            out += struct.pack(ifd.order + "HHI", tag, kind, n) + value
        out += struct.pack(ifd.order + "I", following)
    end = ifd.offset + 2 + 12 * len(ifd.entries)
    out[end : end + 4] = struct.pack(ifd.order + "I", start)
    return bytes(out), f"+{pages} pages"


# --- ISO-BMFF (AVIF, HEIF) --------------------------------------------------------------------

BOXES = (b"ftyp", b"meta", b"hdlr", b"pitm", b"iloc", b"iinf", b"infe", b"iprp", b"ipco",
         b"ipma", b"mdat", b"av1C", b"hvcC", b"colr", b"pixi", b"auxC", b"irot", b"imir",
         b"clap", b"ispe", b"iref", b"idat", b"grid")


def _boxes(data: bytes) -> list[tuple[bytes, int]]:
    """(type, offset of the size field) of every known box type found anywhere."""
    found = []
    for kind in BOXES:
        start = 0
        while (at := data.find(kind, start)) >= 4:
            found.append((kind, at - 4))
            start = at + 1
    return found


def bmff_ispe(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Image spatial extents: the size a decoder is told before it decodes."""
    spots = [at for kind, at in _boxes(data) if kind == b"ispe"]
    if not spots:
        return None
    width, height = _nasty_size(rng, limit=0xFFFFFFFF)
    out = bytearray(data)
    for at in spots if rng.random() < 0.7 else [rng.choice(spots)]:
        out[at + 12 : at + 20] = struct.pack(">II", width, height)
    return bytes(out), f"bmff:ispe {width}x{height}"


def bmff_box_size(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    boxes = _boxes(data)
    if not boxes:
        return None
    kind, at = rng.choice(boxes)
    old = struct.unpack(">I", data[at : at + 4])[0]
    value = rng.choice((0, 1, 7, 8, old - 1, old + 1, old * 2, 0x7FFFFFFF, 0xFFFFFFFF))
    out = bytearray(data)
    out[at : at + 4] = struct.pack(">I", value & 0xFFFFFFFF)
    return bytes(out), f"bmff:{kind.decode()} size {old}->{value & 0xFFFFFFFF}"


def bmff_fields(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Bytes inside a property box (colr, pixi, av1C/hvcC, irot, imir, iloc, ipma)."""
    boxes = [(k, at) for k, at in _boxes(data)
             if k in (b"colr", b"pixi", b"av1C", b"hvcC", b"irot", b"imir", b"iloc", b"ipma",
                      b"pitm", b"clap")]
    if not boxes:
        return None
    kind, at = rng.choice(boxes)
    size = struct.unpack(">I", data[at : at + 4])[0]
    end = min(len(data), at + max(size, 9))
    out = bytearray(data)
    for _ in range(rng.choice((1, 2, 4))):
        spot = rng.randrange(at + 8, max(at + 9, end))
        if spot < len(out):
            out[spot] = rng.choice((0, 0xFF, 0x7F, 1, 3, rng.randrange(256)))
    return bytes(out), f"bmff:{kind.decode()} bytes"


def bmff_icc(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Overwrite an embedded 'prof' colr payload with a damaged profile of the same length."""
    at = data.find(b"colrprof")
    if at < 4:
        return None
    size = struct.unpack(">I", data[at - 4 : at])[0]
    profile, description = bogus_icc(rng)
    payload = profile[: size - 12].ljust(size - 12, b"\0")
    return data[: at + 8] + payload + data[at + 8 + len(payload) :], f"bmff:{description}"


# --- shared -----------------------------------------------------------------------------------


def _nasty_size(rng: random.Random, limit: int) -> tuple[int, int]:
    if rng.random() < 0.6:
        width, height = rng.choice(NASTY_SIZES)
    else:
        width, height = rng.choice(SIDES), rng.choice(SIDES)
    return min(width, limit), min(height, limit)


STRUCTURED: dict[str, tuple] = {
    "jpeg": (jpeg_sof_size, jpeg_sof_size, jpeg_sof_fields, jpeg_segment_surgery, jpeg_exif,
             jpeg_exif, jpeg_icc, jpeg_icc, jpeg_tables, jpeg_scan, jpeg_bomb),
    "png": (png_ihdr_size, png_ihdr_size, png_ihdr_format, png_iccp, png_exif, png_idat,
            png_apng, png_ancillary, png_chunk_surgery, png_chunk_surgery, png_length_lie,
            png_bomb),
    "gif": (gif_screen, gif_screen, gif_many_frames, gif_frame_fields, gif_frame_fields,
            gif_global_table),
    "webp": (webp_canvas, webp_canvas, webp_bitstream_size, webp_animation, webp_metadata,
             webp_chunk_surgery, webp_chunk_surgery, webp_riff_size),
    "tiff": (tiff_size, tiff_size, tiff_fields, tiff_fields, tiff_fields, tiff_offsets,
             tiff_icc, tiff_pages),
    "isobmff": (bmff_ispe, bmff_ispe, bmff_box_size, bmff_fields, bmff_fields, bmff_icc),
}


def describe(name: str, steps: list[str]) -> str:
    return f"{name} | " + " | ".join(steps)

