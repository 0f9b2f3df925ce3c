"""What `imgproc verify` reports: does every original have a COMPLETE record and every variant?

Problems are data (`Problem`), found without changing anything; mending is the caller's
separate step (reprocessing the originals, or `delete_orphans`), so a dry look and a fix
share one definition of "wrong".
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

from .. import records as rec
from ..keys import (
    error_id,
    is_candidate,
    manifest_key,
    original_of,
    placeholder_id,
    variant_key,
)
from ..stores.base import ObjectInfo
from .process import Pipeline


class ProblemKind(StrEnum):
    """A problem's `problem` in `verify --json`."""

    # mended by reprocessing the original
    MISSING_RECORD = "missing-record"
    FAILED = "failed"
    PARTIAL = "partial"
    STALE = "stale"
    MISSING_VARIANT = "missing-variant"
    MISSING_MANIFEST = "missing-manifest"
    WRONG_CONTENT_TYPE = "wrong-content-type"
    WRONG_DIMENSIONS = "wrong-dimensions"
    # mended by `--delete-orphans`
    ORPHAN_OBJECT = "orphan-object"
    ORPHAN_RECORD = "orphan-record"


ORPHANS = frozenset({ProblemKind.ORPHAN_OBJECT, ProblemKind.ORPHAN_RECORD})


@dataclass(frozen=True)
class Problem:
    key: str  # the original, or for an orphan object the object's key
    kind: ProblemKind
    detail: str

    @property
    def is_orphan(self) -> bool:
        return self.kind in ORPHANS

    def to_json(self) -> dict:
        return {"key": self.key, "problem": str(self.kind), "detail": self.detail}


def find_problems(pipeline: Pipeline, prefix: str, *, deep: bool = False) -> list[Problem]:
    config = pipeline.config
    originals = {
        info.key: info for info in pipeline.originals.list(prefix) if is_candidate(info.key)
    }
    outputs: dict[str, dict[str, ObjectInfo]] = defaultdict(dict)
    for info in pipeline.outputs.list(config.output_prefix + prefix):
        outputs[original_of(info.key, config) or ""][info.key] = info
    problems: list[Problem] = []
    for key, info in originals.items():
        problems += _check_original(pipeline, key, info, outputs.get(key, {}), deep)
    for original, objects in outputs.items():
        if original not in originals:
            problems += [
                Problem(object_key, ProblemKind.ORPHAN_OBJECT,
                        f"its original {original!r} does not exist")
                for object_key in sorted(objects)
            ]
    problems += _orphan_records(pipeline, prefix, originals)
    return problems


def _check_original(
    pipeline: Pipeline, key: str, info: ObjectInfo, objects: dict[str, ObjectInfo], deep: bool
) -> list[Problem]:
    config = pipeline.config
    record = pipeline.records.get(key)
    if record is None:
        return [Problem(key, ProblemKind.MISSING_RECORD, "never processed: no record")]
    if record.get("status") == rec.Status.FAILED:
        return [Problem(key, ProblemKind.FAILED, record.get("error") or "failed")]
    if record.get("source", {}).get("etag") != info.etag:
        return [Problem(key, ProblemKind.STALE, "the original changed after it was processed")]
    if record.get("configHash") != config.config_hash:
        return [Problem(key, ProblemKind.STALE, "processed with another variant configuration")]
    problems = []
    if record.get("status") == rec.Status.PARTIAL:
        names = ", ".join(e["name"] for e in record.get("variantErrors", []))
        problems.append(Problem(key, ProblemKind.PARTIAL,
                                f"variants that could not be made: {names}"))
    listed = {v["name"]: v for v in record.get("processedVariants", [])}
    withheld = {v["name"] for v in record.get("withheldVariants", [])}
    expected_keys = {manifest_key(key, config)}
    if manifest_key(key, config) not in objects:
        problems.append(Problem(key, ProblemKind.MISSING_MANIFEST,
                                f"{manifest_key(key, config)} is missing"))
    for variant in config.variants:
        if variant.name in withheld:
            continue  # not published on purpose: no file expected (a leftover is an orphan)
        object_key = variant_key(key, variant, config)
        expected_keys.add(object_key)
        entry = listed.get(variant.name)
        if entry is None:
            continue  # reported as PARTIAL above
        stored = objects.get(object_key)
        if stored is not None and stored.content_type is None:  # S3 listings omit it
            stored = pipeline.outputs.head(object_key)
        if stored is None:
            problems.append(Problem(key, ProblemKind.MISSING_VARIANT, f"{object_key} is missing"))
        elif stored.content_type != variant.content_type:
            problems.append(Problem(key, ProblemKind.WRONG_CONTENT_TYPE,
                                    f"{object_key} is served as {stored.content_type}, "
                                    f"expected {variant.content_type}"))
        elif deep:
            problems += _check_pixels(pipeline, key, object_key, entry)
    problems += [
        Problem(object_key, ProblemKind.ORPHAN_OBJECT,
                "not a variant of the current configuration")
        for object_key in sorted(set(objects) - expected_keys)
    ]
    return problems


def _check_pixels(pipeline: Pipeline, key: str, object_key: str, entry: dict) -> list[Problem]:
    """--deep: open the variant and compare its real size and format with the record."""
    stored = pipeline.outputs.get(object_key)
    if stored is None:
        return [Problem(key, ProblemKind.MISSING_VARIANT, f"{object_key} is missing")]
    try:
        with Image.open(io.BytesIO(stored.data)) as image:
            size, fmt = image.size, (image.format or "").lower()
    except Exception as exc:
        return [Problem(key, ProblemKind.WRONG_DIMENSIONS,
                        f"{object_key} is not a readable image ({exc})")]
    expected = (entry["width"], entry["height"])
    if size != expected or fmt != entry["format"]:
        return [Problem(key, ProblemKind.WRONG_DIMENSIONS,
                        f"{object_key} is {fmt} {size[0]}×{size[1]}, the record says "
                        f"{entry['format']} {expected[0]}×{expected[1]}")]
    return []


def _orphan_records(pipeline: Pipeline, prefix: str, originals: dict) -> list[Problem]:
    return [
        Problem(record["id"], ProblemKind.ORPHAN_RECORD,
                "a record for an original that does not exist")
        for record in pipeline.records.scan(rec.RecordType.IMAGE)
        if record["id"].startswith(prefix) and record["id"] not in originals
        and pipeline.originals.head(record["id"]) is None
    ]


def delete_orphans(pipeline: Pipeline, problems: Iterable[Problem]) -> int:
    problems = [p for p in problems if p.is_orphan]
    pipeline.outputs.delete([p.key for p in problems if p.kind == ProblemKind.ORPHAN_OBJECT])
    pipeline.records.delete(
        record_id
        for p in problems
        if p.kind == ProblemKind.ORPHAN_RECORD
        for record_id in (p.key, placeholder_id(p.key), error_id(p.key))
    )
    return len(problems)
