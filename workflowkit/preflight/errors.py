"""Reading AWS errors: which codes mean "there is no such thing"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

# Each service spells "not found" its own way.
NOT_FOUND = frozenset(
    {
        "404",
        "AWS.SimpleQueueService.NonExistentQueue",
        "NoSuchBucket",
        "NoSuchEntity",
        "NotFound",
        "NotFoundException",
        "ParameterNotFound",
        "QueueDoesNotExist",
        "ResourceNotFound",
        "ResourceNotFoundException",
        "StateMachineDoesNotExist",
    }
)
ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "403"}
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def exists(call: Callable[[], Any]) -> bool:
    """True when ``call`` succeeds, False when AWS answers "not found"; other errors propagate."""
    try:
        call()
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return False
        raise
    return True
