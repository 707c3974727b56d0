"""moto's record of an ended execution, kept compact: a run of 100,000 workflows keeps every one.

moto's ``Execution`` holds its input twice: as the text StartExecution was given (``execution_input``)
and parsed (``input_data``), the parsed form several times the text's size (dicts and strings: ~5 KB
of a typical ~1 KB input), and its output as text. Once an execution has ended, nothing runs on them;
what still reads them (DescribeExecution, the simulator's correlation) is rare. So an ended execution
keeps its input and output texts packed on disk (``Blobs``) and reads them back when asked, the parsed
input parsed again from its text, which gives back an equal value: the text is the JSON it came from.
Its two ``{"included": true}`` data-details dicts become one shared, never-mutated dict.
"""

from __future__ import annotations

import json
import marshal
import zlib
from typing import Any

from workflowkit.spool import Blobs

# The data-details value of every execution whose data is included (moto makes two per execution).
_INCLUDED: dict[str, bool] = {"included": True}
_INPUT, _OUTPUT = 0, 1
_compact_classes: dict[type, type] = {}


def keep_compact(execution: Any, blobs: Blobs) -> None:
    """Keep an ended execution's input and output texts in ``blobs``, its parsed input not at all (read
    back from the text), and share its details dicts."""
    fields = vars(execution)
    if "input_data" not in fields or not isinstance(execution.execution_input, str):
        return  # already compact, or no text to read the input back from
    texts = (fields.pop("execution_input"), fields.pop("output"))
    del fields["input_data"]
    execution.__class__ = _compact_class(type(execution))
    execution._texts_blobs = blobs
    _store_texts(execution, texts)
    if execution.input_details == _INCLUDED:
        execution.input_details = _INCLUDED
    if execution.output_details == _INCLUDED:
        execution.output_details = _INCLUDED


def _store_texts(execution: Any, texts: tuple[Any, Any]) -> None:
    execution._texts = execution._texts_blobs.append(zlib.compress(marshal.dumps(texts), 1))


def _texts(execution: Any) -> tuple[Any, Any]:
    texts: tuple[Any, Any] = marshal.loads(zlib.decompress(execution._texts_blobs.read(execution._texts)))
    return texts


def _text_property(index: int) -> property:
    def read(execution: Any) -> Any:
        return _texts(execution)[index]

    def write(execution: Any, value: Any) -> None:
        texts = list(_texts(execution))
        texts[index] = value
        _store_texts(execution, (texts[_INPUT], texts[_OUTPUT]))

    return property(read, write)


def _parsed_input(execution: Any) -> Any:
    return json.loads(execution.execution_input)


def _compact_class(cls: type) -> type:
    """``cls`` with its input and output read back from disk (one subclass per moto class: a synchronous
    Express execution's class stays what it was to isinstance)."""
    compact = _compact_classes.get(cls)
    if compact is None:
        compact = _compact_classes[cls] = type(
            f"Compact{cls.__name__}",
            (cls,),
            {
                "input_data": property(_parsed_input),
                "execution_input": _text_property(_INPUT),
                "output": _text_property(_OUTPUT),
                "__module__": __name__,
            },
        )
    return compact
