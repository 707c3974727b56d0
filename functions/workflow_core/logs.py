"""Powertools' JSON log lines, the same bytes for less CPU (docs/decisions/0042).

Powertools' ``LambdaPowertoolsFormatter`` spends most of a line's formatting on two things that do not
shape the line: it tests every attribute of the ``LogRecord`` against a 24-name *tuple* of reserved
names (a linear scan per attribute, twice per key), and it tries ``json.loads`` on every message,
raising and catching a ``JSONDecodeError`` for each ordinary sentence. :class:`LeanFormatter` asks the
same questions of a frozenset and skips the decode for a message that cannot be JSON (its first
non-blank character starts no JSON value).

A line without an exception (nearly every line) is also put together in one pass instead of Powertools'
seven: no copy of the record's attributes, the default keys' ``%`` templates read straight from the record,
the timestamp's date and zone formatted once a second (``strftime`` is most of a timestamp's cost, and a
second's lines share them), and no empty exception fields written only to be stripped again. A line with
an exception, a custom date format and everything else goes through Powertools' own code.

:func:`lean` switches a Logger's registered formatter to it in place: the formatter object, its keys,
options and state are untouched, only the class of the two methods changes. A formatter that is not
exactly Powertools' (a custom one, or a custom ``json_deserializer``) is left alone.
"""

from __future__ import annotations

import json
import logging
import time
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
# Powertools' default keys' templates (``_build_default_keys``), read here without ``%`` formatting.
_LEVEL, _LOCATION, _TIMESTAMP = "%(levelname)s", "%(funcName)s:%(lineno)d", "%(asctime)s"
_DEFAULT_TIME_FORMAT = LambdaPowertoolsFormatter.default_time_format
_MS_DIRECTIVE = LambdaPowertoolsFormatter.custom_ms_time_directive
_DATE_PART, _ZONE_PART = _DEFAULT_TIME_FORMAT.split(_MS_DIRECTIVE)


class LeanFormatter(LambdaPowertoolsFormatter):
    """``LambdaPowertoolsFormatter`` with set lookups and no doomed ``json.loads`` (same output)."""

    # The timestamp's parts of the latest second formatted: (key, date part, zone part); the key is the
    # converter, the second and the time zone setting.
    _second: tuple[tuple[Any, ...], str, str] | None = None

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info is not None:
            return super().format(record)  # the exception's fields, as Powertools writes them
        record_dict = record.__dict__
        asctime = self.formatTime(record=record)
        formatted_log: dict[str, Any] = {}
        for keys in (self.log_format, _get_context().get()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    formatted_log[key] = _reserved_value(value, record, record_dict, asctime)
                else:
                    formatted_log[key] = value
        for key, value in record_dict.items():
            if key not in _RESERVED:
                if not isinstance(key, str):  # Powertools' update(**extras) refuses it: refused alike
                    return super().format(record)
                formatted_log[key] = value
        formatted_log["message"] = self._extract_log_message(record)
        # Powertools sets the three exception fields to what they were or None, and the stack trace to
        # None: without an exception only the stack trace can change the line (an extra of that name
        # is dropped), the Nones are stripped below wherever they stand.
        if self.serialize_stacktrace:
            formatted_log.pop("stack_trace", None)
        formatted_log["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize(log={k: v for k, v in formatted_log.items() if v is not None})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        created = record.created
        if (
            self.use_rfc3339_iso8601
            or datefmt
            or self.datefmt
            or self.default_time_format != _DEFAULT_TIME_FORMAT  # changed on the formatter itself
            or self.custom_ms_time_directive != _MS_DIRECTIVE
            or type(created) is not float
            or created < 0  # before 1970, a second's fraction does not truncate towards its start
        ):
            return super().formatTime(record, datefmt)
        # Powertools: time.strftime("%Y-%m-%d %H:%M:%S,<msecs>%z", converter(created)). The date and the
        # zone are the same for every line of one second, in one time zone setting (time.tzset changes
        # time.tzname): they are formatted once a second.
        key = (self.converter, int(created), time.tzname, time.timezone, time.altzone)
        cached = self._second
        if cached is None or cached[0] != key:
            moment = self.converter(created)
            date_part, zone_part = time.strftime(_DATE_PART, moment), time.strftime(_ZONE_PART, moment)
            cached = self._second = (key, date_part, zone_part)
        return f"{cached[1]}{int(record.msecs):03d}{cached[2]}"

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


def _reserved_value(
    template: Any, record: logging.LogRecord, record_dict: dict[str, Any], asctime: str
) -> str:
    """A reserved key's template filled from the record, as Powertools' ``template % record_dict`` does."""
    # The three defaults read straight from the record when its values are the ordinary types (a
    # filter may have set others: they go through % as Powertools formats them).
    if template == _LEVEL and type(record.levelname) is str:
        return record.levelname
    if template == _LOCATION and type(record.funcName) is str and type(record.lineno) is int:
        return f"{record.funcName}:{record.lineno}"
    if template == _TIMESTAMP:
        return asctime
    if not isinstance(template, str):
        raise ValueError(
            "Logging keys that override reserved log attributes need to be type 'str', "
            f"instead got '{type(template).__name__}'",
        )
    return template % {**record_dict, "asctime": asctime}


def lean(logger: Logger) -> Logger:
    """Switch ``logger``'s formatter, if it is Powertools' own, to :class:`LeanFormatter`; returns it."""
    formatter = logger.registered_formatter
    if type(formatter) is LambdaPowertoolsFormatter:
        formatter.__class__ = LeanFormatter
    return logger
