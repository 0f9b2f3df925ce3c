"""An original was deleted: its variants, manifest and records go with it."""

from __future__ import annotations

from ..keys import error_id, is_output, is_own_output, output_prefix_of, placeholder_id
from ..outcome import Outcome, Result
from .pipeline import Pipeline, Stopwatch


def remove_object(pipeline: Pipeline, key: str) -> Outcome:
    """Delete the variants and records of `key`, unless the original is back already.

    A delete event can arrive after a re-upload of the same key (events are not ordered);
    the original's presence now is what counts.
    """
    clock = Stopwatch()
    if is_output(key, pipeline.config):
        return Outcome(key, Result.IGNORED, "under the output prefix; outputs are never processed")
    if pipeline.originals.head(key) is not None:
        return Outcome(key, Result.IGNORED, "the original exists again; nothing deleted",
                       duration_ms=clock.ms())
    had_record = pipeline.records.get(key) is not None
    removed = remove_outputs(pipeline, key)
    return Outcome(key, Result.DELETED, f"deleted {removed} object(s)"
                   + (" and the records" if had_record else ""), duration_ms=clock.ms())


def remove_outputs(pipeline: Pipeline, key: str) -> int:
    """Delete an original's variants, manifest and records; how many objects went.

    Only `key`'s own objects: a longer key's outputs share the folder's prefix.
    """
    prefix = output_prefix_of(key, pipeline.config)
    outputs = [info.key for info in pipeline.outputs.list(prefix)
               if is_own_output(key, info.key, pipeline.config)]
    pipeline.outputs.delete(outputs)
    pipeline.records.delete([key, placeholder_id(key), error_id(key)])
    if outputs and pipeline.on_replaced:
        pipeline.on_replaced(key)
    return len(outputs)
