"""The `nclx` colour property of an AVIF or HEIF file's primary image, read from the boxes.

Pillow's AVIF reader does not report nclx at all, and pillow-heif reports it only when the
file has no ICC profile, so imgproc reads the property itself (ISO/IEC 23008-12: meta →
pitm, iprp → ipco and ipma). Metadata is advisory: anything malformed reads as no nclx.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .cicp import Cicp

_SCAN_LIMIT = 1 << 20  # the meta box sits before the pixel data; never walk the whole upload


def primary_nclx(data: bytes) -> Cicp | None:
    try:
        return _primary_nclx(memoryview(data)[:_SCAN_LIMIT])
    except (struct.error, ValueError, IndexError):
        return None


def _primary_nclx(data: memoryview) -> Cicp | None:
    meta = next((body for kind, body in _boxes(data) if kind == b"meta"), None)
    if meta is None:
        return None
    children = dict(_boxes(meta[4:]))  # meta is a FullBox: version and flags first
    iprp = dict(_boxes(children.get(b"iprp", memoryview(b""))))
    indexed = {i: body for i, (kind, body) in enumerate(_boxes(iprp.get(b"ipco", b"")), 1)
               if kind == b"colr" and bytes(body[:4]) == b"nclx" and len(body) >= 11}
    if not indexed:
        return None
    primary = _primary_item(children.get(b"pitm"))
    associated = _associations(iprp.get(b"ipma"), primary)
    # The primary's own nclx; else (a grid whose tiles carry it) the first one in the file.
    body = next((indexed[i] for i in associated if i in indexed), next(iter(indexed.values())))
    cp, tc, mc, flags = struct.unpack_from(">HHHB", body, 4)
    return Cicp(cp, tc, mc, bool(flags & 0x80))


def _boxes(data) -> Iterator[tuple[bytes, memoryview]]:
    """(type, body) of each box in `data`; stops at the first box that does not fit."""
    data = memoryview(data)
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            return
        yield kind, data[pos + header:pos + size]
        pos += size


def _primary_item(pitm) -> int | None:
    if pitm is None:
        return None
    return struct.unpack_from(">H" if pitm[0] == 0 else ">I", pitm, 4)[0]


def _associations(ipma, item: int | None) -> list[int]:
    """The property indices (1-based, into ipco) associated with `item`."""
    if ipma is None or item is None:
        return []
    version, flags = ipma[0], int.from_bytes(ipma[1:4], "big")
    (count,), pos = struct.unpack_from(">I", ipma, 4), 8
    for _ in range(count):
        if version < 1:
            (item_id,), pos = struct.unpack_from(">H", ipma, pos), pos + 2
        else:
            (item_id,), pos = struct.unpack_from(">I", ipma, pos), pos + 4
        n, pos = ipma[pos], pos + 1
        indices = []
        for _ in range(n):
            if flags & 1:
                (value,), pos = struct.unpack_from(">H", ipma, pos), pos + 2
                indices.append(value & 0x7FFF)
            else:
                indices.append(ipma[pos] & 0x7F)
                pos += 1
        if item_id == item:
            return indices
    return []
