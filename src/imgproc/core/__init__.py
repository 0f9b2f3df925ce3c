"""Orchestration: one original in, its variants and records out, whoever calls.

`process_object` and `remove_object` are what the Lambda and the CLI call (through `safely`);
`process_many` runs many; `problems` finds what `verify` reports.
"""

from .batch import process_many
from .guard import process_safely, safely
from .pipeline import EventHint, Pipeline
from .process import Refocus, process_object
from .remove import remove_object

__all__ = ["EventHint", "Pipeline", "Refocus", "process_many", "process_object", "process_safely",
           "remove_object", "safely"]
