"""Powertools' JSON log lines, the same bytes for less CPU (docs/decisions/0042).

Powertools' ``LambdaPowertoolsFormatter`` spends most of a line's formatting on two things that do not
shape the line: it tests every attribute of the ``LogRecord`` against a 24-name *tuple* of reserved
names (a linear scan per attribute, twice per key), and it tries ``json.loads`` on every message,
raising and catching a ``JSONDecodeError`` for each ordinary sentence. :class:`LeanFormatter` asks the
same questions of a frozenset and skips the decode for a message that cannot be JSON (its first
non-blank character starts no JSON value); everything else is Powertools' own code.

:func:`lean` switches a Logger's registered formatter to it in place: the formatter object, its keys,
options and state are untouched, only the class of the two methods changes. A formatter that is not
exactly Powertools' (a custom one, or a custom ``json_deserializer``) is left alone.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.formatter import (
    RESERVED_LOG_ATTRS,
    LambdaPowertoolsFormatter,
    _get_context,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aws_lambda_powertools import Logger

_RESERVED = frozenset(RESERVED_LOG_ATTRS)
# What a JSON text (as json.loads reads it: NaN and Infinity included) can start with, after blanks.
_JSON_STARTS = frozenset('{["-0123456789tfnNI')
_JSON_BLANKS = " \t\n\r"


class LeanFormatter(LambdaPowertoolsFormatter):
    """``LambdaPowertoolsFormatter`` with set lookups and no doomed ``json.loads`` (same output)."""

    def _extract_log_keys(self, log_record: logging.LogRecord) -> dict[str, Any]:
        # Powertools' LambdaPowertoolsFormatter._extract_log_keys, with ``_RESERVED`` for the tuple.
        record_dict = log_record.__dict__.copy()
        record_dict["asctime"] = self.formatTime(record=log_record)
        extras = {k: v for k, v in record_dict.items() if k not in _RESERVED}

        formatted_log: dict[str, Any] = {}
        for keys in (self.log_format, _get_context().get()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if isinstance(value, str):
                        formatted_log[key] = value % record_dict
                    else:
                        raise ValueError(
                            "Logging keys that override reserved log attributes need to be type 'str', "
                            f"instead got '{type(value).__name__}'",
                        )
                else:
                    formatted_log[key] = value

        formatted_log.update(**extras)
        return formatted_log

    def _extract_log_message(
        self, log_record: logging.LogRecord
    ) -> dict[str, Any] | str | bool | Iterable[Any]:
        message = log_record.msg
        if (
            type(message) is str
            and not log_record.args
            and message.lstrip(_JSON_BLANKS)[:1] not in _JSON_STARTS
            and self.json_deserializer is json.loads
        ):
            return message  # json.loads would raise: Powertools keeps the message as it is
        return super()._extract_log_message(log_record)


def lean(logger: Logger) -> Logger:
    """Switch ``logger``'s formatter, if it is Powertools' own, to :class:`LeanFormatter`; returns it."""
    formatter = logger.registered_formatter
    if type(formatter) is LambdaPowertoolsFormatter:
        formatter.__class__ = LeanFormatter
    return logger
