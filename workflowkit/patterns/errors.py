"""The two ways TestEventPattern / PutRule refuse their input, worded as EventBridge words them."""

from __future__ import annotations

__all__ = ["EVENT_NOT_VALID", "InvalidEventError", "InvalidEventPatternError"]

# TestEventPattern's answer to an event that is not a JSON object with the envelope's fields; AWS gives no
# reason (recorded: localstack tests/aws/services/events/test_events_patterns.snapshot.json,
# test_invalid_event_payload and test_plain_string_payload).
EVENT_NOT_VALID = "Parameter Event is not valid."


class InvalidEventPatternError(ValueError):
    """The pattern is one EventBridge's PutRule / TestEventPattern refuses (``InvalidEventPatternException``).

    ``str(error)`` is EventBridge's reason, word for word (AWS answers "Event pattern is not valid. Reason:
    <reason>"); ``path`` says where in the pattern, which AWS gives only as a line and column.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class InvalidEventError(ValueError):
    """The event given to TestEventPattern is refused (``ValidationException``); ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(EVENT_NOT_VALID)
        self.detail = detail
