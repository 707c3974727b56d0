"""Step Functions' payload quota: 256 KiB of JSON text, counted in UTF-8 bytes.

"Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded
string" (the service quotas), and every data field of the API (``SensitiveData``) has a maximum length of
262,144. Over it, a task's result fails the task with States.DataLimitExceeded (a task failure like any
other: recorded against AWS, a catcher on States.ALL takes it), and a state's output fails the execution
(a terminal error: no Retry or Catch applies); StartExecution and SendTaskSuccess refuse such data with a
ValidationException.

Every state output is measured, so measuring must be cheap: one pass of the C encoder, escaping
non-ASCII text, whose length can only overstate the UTF-8 byte count (``é`` is 6 characters escaped, 2
bytes in UTF-8); only text that might be over the limit is encoded again exactly.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any, Final

from workflowkit.asl.errors import DATA_LIMIT_EXCEEDED, ExecutionError, TaskFailed
from workflowkit.asl.values import to_json_text

MAX_PAYLOAD_BYTES: Final = 262_144


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _ascii_encoder() -> Callable[[Any], str]:
    # The C encoder made once (json.dumps makes one per call), untyped in the stubs: json's private API.
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan):
    # markers=None skips the cycle check, which a JSON document parsed from text never needs.
    escape = json.encoder.encode_basestring_ascii
    chunks = make(None, _not_json, escape, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode_ascii: Final = _ascii_encoder()


def exceeds_limit(value: Any) -> bool:
    """True when ``value`` as JSON text is over 262,144 UTF-8 bytes. Raises ``ValueError`` or
    ``TypeError`` for a value that is not JSON (NaN, Infinity, an object JSON has no form for)."""
    if len(_encode_ascii(value)) <= MAX_PAYLOAD_BYTES:
        return False
    return len(to_json_text(value).encode("utf-8")) > MAX_PAYLOAD_BYTES


def text_exceeds_limit(text: str) -> bool:
    """The same for JSON text as given (StartExecution's input, SendTaskSuccess's output)."""
    return len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES


def _exceeded_cause(who: str) -> str:
    return (
        f"The state/task '{who}' returned a result with a size exceeding the maximum number of bytes"
        " service limit."
    )


def task_result_too_large(who: str) -> TaskFailed:
    """A task's result over the limit: ``who`` is the Lambda function ARN for a function resource, the
    integration's service (``lambda``, ``dynamodb``...) otherwise, as AWS names it in the cause."""
    return TaskFailed(DATA_LIMIT_EXCEEDED, _exceeded_cause(who))


def state_output_too_large(state: str) -> ExecutionError:
    """A state's output over the limit: terminal, the execution fails."""
    return ExecutionError(DATA_LIMIT_EXCEEDED, _exceeded_cause(state), terminal=True)
