"""moto's record of an ended execution, kept compact: a run of 100,000 workflows keeps every one.

moto's ``Execution`` holds its input twice: as the text StartExecution was given (``execution_input``)
and parsed (``input_data``), the parsed form several times the text's size (dicts and strings: ~5 KB
of a typical ~1 KB input). Once an execution has ended, nothing runs on its parsed input; what still
reads it (DescribeExecution, ListExecutions' callers, the simulator's correlation) is rare. So an ended
execution keeps the text only and parses it on each read, which gives back an equal value: the text is
the JSON the parsed input came from. Its two ``{"included": true}`` data-details dicts become one
shared, never-mutated dict.
"""

from __future__ import annotations

import json
from typing import Any

# The data-details value of every execution whose data is included (moto makes two per execution).
_INCLUDED: dict[str, bool] = {"included": True}
_compact_classes: dict[type, type] = {}


def keep_compact(execution: Any) -> None:
    """Drop an ended execution's parsed input (read back from its text) and share its details dicts."""
    if "input_data" not in vars(execution) or not isinstance(execution.execution_input, str):
        return  # already compact, or no text to read the input back from
    execution.__class__ = _compact_class(type(execution))
    del execution.__dict__["input_data"]
    if execution.input_details == _INCLUDED:
        execution.input_details = _INCLUDED
    if execution.output_details == _INCLUDED:
        execution.output_details = _INCLUDED


def _parsed_input(execution: Any) -> Any:
    return json.loads(execution.execution_input)


def _compact_class(cls: type) -> type:
    """``cls`` with ``input_data`` read from the execution's input text (one subclass per moto class:
    a synchronous Express execution's class stays what it was to isinstance)."""
    compact = _compact_classes.get(cls)
    if compact is None:
        compact = _compact_classes[cls] = type(
            f"Compact{cls.__name__}", (cls,), {"input_data": property(_parsed_input), "__module__": __name__}
        )
    return compact
