"""workflow_core.logs.LeanFormatter writes the lines Powertools' own formatter writes, byte for byte."""

from __future__ import annotations

import enum
import io
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from workflow_core import logs

Emit = Callable[[Logger], None]


def _raise_and_log(logger: Logger) -> None:
    try:
        raise ValueError("bad ünïcode")
    except ValueError as error:
        error.add_note("a note")
        logger.exception("it failed", extra={"error_type": "ValueError"})


_ODD = type("NotJson", (), {})()  # json_default (str) writes it

CASES: dict[str, Emit] = {
    "plain sentence": lambda log: log.info("order accepted", extra={"verdict": "ok", "n": 3}),
    "no extras": lambda log: log.info("handled"),
    "empty message": lambda log: log.info(""),
    "blank message": lambda log: log.info("  \t"),
    "json object message": lambda log: log.info('{"a": 1, "b": [true, null]}'),
    "json after blanks": lambda log: log.info(" \n[1, 2]"),
    "json-looking but not": lambda log: log.info("{not json}"),
    "true": lambda log: log.info("true"),
    "starts like a literal": lambda log: log.info("terminal failure", extra={"error": "x"}),
    "number": lambda log: log.info("-12.5"),
    "nan": lambda log: log.info("NaN"),
    "infinity word": lambda log: log.info("Infinity and beyond"),
    "dict message": lambda log: log.info({"k": "v", "nested": {"x": 1}}),
    "args": lambda log: log.info("%s of %d", "3", 4),
    "args json": lambda log: log.info("%s", "[1]"),
    "non-ascii and none": lambda log: log.warning("refusé ✓", extra={"reason": None, "who": "Zoë"}),
    "error level": lambda log: log.error("rejected event", extra={"message_id": "m-1"}),
    "exception": _raise_and_log,
    "object extra": lambda log: log.info("odd", extra={"when": _ODD}),
    "message subclass": lambda log: log.info(type("S", (str,), {})("subclass")),
    # Keys Powertools itself sets after the extras: a stack_trace extra is dropped, the others are kept.
    "exception-named extras": lambda log: log.info(
        "x", extra={"exception": "e", "exception_name": "N", "stack_trace": "s", "xray_trace_id": "t"}
    ),
    "exc_info outside an exception": lambda log: log.info("no exception here", exc_info=True),
    "falsy reserved extra": lambda log: log.info("m", extra={"empty": "", "zero": 0, "no": False}),
}


def _logger(service: str, *, lean: bool) -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    logger = Logger(service=service, stream=stream, level="DEBUG")
    if lean:
        assert logs.lean(logger) is logger
        assert type(logger.registered_formatter) is logs.LeanFormatter
    return logger, stream


def _strip_volatile(line: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(line)
    parsed.pop("timestamp")  # the two lines are written at different instants
    if "exception" in parsed:  # the traceback names the test's own lines, identical but for line numbers
        parsed["exception"] = parsed["exception"].splitlines()[-1]
    return parsed


@pytest.mark.parametrize("case", list(CASES), ids=str)
@pytest.mark.parametrize("keys", ["none", "appended", "thread-safe", "reserved override"])
def test_lean_lines_are_powertools_lines(case: str, keys: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc-def;Parent=1;Sampled=0")
    lines = []
    services = (f"stock-{case}-{keys}", f"lean--{case}-{keys}")  # one Logger each; the same length
    for lean in (False, True):
        logger, stream = _logger(services[lean], lean=lean)
        if keys == "appended":
            logger.append_keys(correlation_id="c-1", event_id="e-1", cold_start=False, nothing=None)
        elif keys == "thread-safe":
            logger.thread_safe_append_keys(request="r-1")
        elif keys == "reserved override":
            logger.append_keys(location="%(module)s", level="%(levelno)s")
        try:
            CASES[case](logger)
        finally:
            logger.thread_safe_clear_keys()
        lines.append(stream.getvalue())
    stock, lean_line = lines[0], lines[1].replace(f'"{services[1]}"', f'"{services[0]}"')
    assert stock.count("\n") == 1
    assert _strip_volatile(lean_line) == _strip_volatile(stock)
    # Byte for byte, with the timestamp put back to the stock line's.
    stock_timestamp = json.loads(stock)["timestamp"]
    lean_timestamp = json.loads(lean_line)["timestamp"]
    if "exception" not in stock:
        assert lean_line.replace(lean_timestamp, stock_timestamp, 1) == stock


def test_a_reserved_key_that_is_not_a_string_is_refused_as_powertools_does() -> None:
    for lean in (False, True):
        logger, _ = _logger(f"svc-bad-{lean}", lean=lean)
        logger.append_keys(location=3)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        with pytest.raises(ValueError, match="need to be type 'str', instead got 'int'"):
            logger.registered_formatter.format(record)


def test_lean_leaves_other_formatters_alone() -> None:
    class Custom(LambdaPowertoolsFormatter):
        pass

    custom = Logger(service="svc-custom", logger_formatter=Custom(), stream=io.StringIO())
    logs.lean(custom)
    assert type(custom.registered_formatter) is Custom

    loads_calls: list[str] = []

    def deserializer(text: str) -> Any:
        loads_calls.append(text)
        return json.loads(text)

    stream = io.StringIO()
    own = Logger(service="svc-own-loads", json_deserializer=deserializer, stream=stream, level="DEBUG")
    logs.lean(own)
    own.info("a sentence")
    assert loads_calls == ["a sentence"]  # a custom deserializer still sees every message
    assert json.loads(stream.getvalue())["message"] == "a sentence"


def _formatters(**options: Any) -> tuple[LambdaPowertoolsFormatter, LambdaPowertoolsFormatter]:
    stock = LambdaPowertoolsFormatter(**options)
    lean_one = LambdaPowertoolsFormatter(**options)
    lean_one.__class__ = logs.LeanFormatter
    return stock, lean_one


@pytest.mark.parametrize(
    "options",
    [{}, {"utc": True}, {"datefmt": "%d/%m/%Y %H:%M:%S.%F"}, {"use_rfc3339": True}],
    ids=["default", "utc", "datefmt", "rfc3339"],
)
def test_timestamps_are_powertools_timestamps_to_the_millisecond(options: dict[str, Any]) -> None:
    # The same record through both formatters: the timestamp too must be byte for byte the same, across
    # seconds (the lean one keeps a second's date and zone) and at the edges of a millisecond.
    stock, lean_one = _formatters(**options)
    moments = [1767603600.0, 1767603600.9995, 1767603600.999999, 1767603601.0004, 1767603600.5, 1767690000.25]
    for created in moments:
        record = logging.LogRecord("x", logging.INFO, __file__, 7, "m", None, None)
        record.created = created
        record.msecs = (created - int(created)) * 1000
        assert lean_one.format(record) == stock.format(record), created


def test_a_second_s_cached_date_is_not_reused_for_another_converter() -> None:
    stock, lean_one = _formatters()
    record = logging.LogRecord("x", logging.INFO, __file__, 7, "m", None, None)
    record.created, record.msecs = 1767603600.0, 0.0
    lean_one.format(record)

    def an_hour_east(seconds: float | None = None) -> time.struct_time:
        return time.gmtime((seconds or 0.0) + 3600)

    stock.converter = lean_one.converter = an_hour_east
    assert lean_one.format(record) == stock.format(record)


def _record(created: float = 1767603600.25, **attributes: Any) -> logging.LogRecord:
    record = logging.LogRecord("x", logging.INFO, __file__, 7, "m", None, None)
    record.created = created
    record.msecs = 250.0
    record.__dict__.update(attributes)
    return record


class _Level(str, enum.Enum):  # noqa: UP042 - not a StrEnum: its str() is "_Level.INFO", as a filter's may be
    INFO = "INFO"


ODD_RECORDS: dict[str, Callable[[], logging.LogRecord]] = {
    "level name not a str": lambda: _record(levelname=27.0),
    "level name a str enum": lambda: _record(levelname=_Level.INFO),
    "line number a float": lambda: _record(lineno=7.0),
    "no function name": lambda: _record(funcName=None),
    "before 1970": lambda: _record(created=-0.5),
}


@pytest.mark.parametrize("case", list(ODD_RECORDS), ids=str)
def test_records_a_filter_made_odd_are_written_as_powertools_writes_them(case: str) -> None:
    stock, lean_one = _formatters(utc=True)
    lean_one.format(_record(created=0.5))  # a second formatted before, which an odd one must not reuse
    record = ODD_RECORDS[case]()
    assert lean_one.format(record) == stock.format(record)


def test_a_key_that_is_not_a_string_is_refused_as_powertools_refuses_it() -> None:
    for formatter in _formatters():
        record = _record()
        record.__dict__[1] = "one"
        with pytest.raises(TypeError, match="keywords must be strings"):
            formatter.format(record)


@pytest.mark.parametrize("attribute", ["default_time_format", "custom_ms_time_directive"])
def test_a_time_format_changed_on_the_formatter_is_honoured(attribute: str) -> None:
    stock, lean_one = _formatters(utc=True)
    value = "%H:%M:%S.%F" if attribute == "default_time_format" else "%Q"
    setattr(stock, attribute, value)
    setattr(lean_one, attribute, value)
    assert lean_one.format(_record()) == stock.format(_record())


def test_a_time_zone_set_within_a_second_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    stock, lean_one = _formatters()  # local time: the zone part comes from the TZ setting
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        lean_one.format(_record())
        monkeypatch.setenv("TZ", "Asia/Kolkata")
        time.tzset()
        later = _record(created=1767603600.5)
        assert lean_one.format(later) == stock.format(later)
        assert "+0530" in lean_one.format(later)
    finally:
        monkeypatch.undo()
        time.tzset()
