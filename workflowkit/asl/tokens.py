"""The task token's format: who issued it, readable by whoever holds it.

A Step Functions task token is opaque to its holder but not to Step Functions: the service reads from
it which execution (so which state machine) issued it, and authorises ``states:SendTask*`` against that
state machine's ARN (CDK's ``grantTaskResponse`` grants exactly that). Ours is Base64 text of
``<execution ARN>#<nonce>``: the nonce (128 bits from the execution's seeded random) makes each token
unique, the ARN lets the permission check and the host find the execution without a lookup. Text
that does not decode to that shape is not a token at all (``InvalidToken``), as opposed to a token
that was never issued (``TaskDoesNotExist``), which only the registry of issued tokens can tell.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import uuid
from typing import Final

_EXECUTION_ARN: Final = re.compile(
    r"arn:(?P<partition>[\w-]+):states:(?P<region>[\w-]+):(?P<account>\d{12}):execution:"
    r"(?P<machine>[^:#]+):[^:#]+"
)
_NONCE: Final = re.compile(r"[0-9a-f]{32}")


def new_token(execution_arn: str, source: random.Random) -> str:
    nonce = uuid.UUID(int=source.getrandbits(128), version=4).hex
    return base64.b64encode(f"{execution_arn}#{nonce}".encode()).decode("ascii")


def execution_of(token: str) -> str | None:
    """The ARN of the execution that issued ``token``; None when the text is not a token."""
    try:
        text = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    execution, _, nonce = text.rpartition("#")
    if not _EXECUTION_ARN.fullmatch(execution) or not _NONCE.fullmatch(nonce):
        return None
    return execution


def state_machine_of(token: str) -> str | None:
    """The ARN of the state machine whose execution issued ``token``; None when it is not a token."""
    execution = execution_of(token)
    if execution is None:
        return None
    match = _EXECUTION_ARN.fullmatch(execution)
    assert match is not None
    return (
        f"arn:{match['partition']}:states:{match['region']}:{match['account']}"
        f":stateMachine:{match['machine']}"
    )
