"""`printable(text)`: request-supplied text made safe to print to a terminal or a log.

A request path is percent-decoded before anything prints it, so `/%1b]0;owned%07` puts a real ESC
and BEL on the terminal: it can retitle the window, recolour or clear the screen, and a `%0a`
forges a whole line (`reloaded app/x/route.py`). Every place that prints request data goes through
`printable`, here, so there is one rule to read and test:

- kept: every printable character, and every space character (`Zs`, so `U+00A0` stays as it is);
- escaped Python-style: C0 controls (`\\x1b`, and `\\x0a` for a line feed), DEL (`\\x7f`), C1 controls (`\\x9b`), format
  characters such as bidi overrides and zero-width joiners (`\\u202e`, `\\u200d`), line and paragraph
  separators (`\\u2028`), surrogates, private-use and unassigned code points.

A backslash is not escaped: a literal `\\x1b` in a path prints as those four characters, which is
ambiguous to read but cannot drive the terminal.

The logging formatters below apply it to every message, argument and traceback line that goes
through the framework's and uvicorn's loggers, so a handler's exception message carrying a request
value cannot reach the terminal raw either.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every character that could drive a terminal or fake a line written as an escape.

    >>> printable("/a\\x1b]0;x\\x07\\nreloaded\\u202e")
    '/a\\\\x1b]0;x\\\\x07\\\\x0areloaded\\\\u202e'
    """
    if text.isprintable():  # the common case, one C-level scan
        return text
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs" else _escape(c) for c in text)


def printable_lines(text: str) -> str:
    """`printable` for each line of a multi-line block (a traceback), keeping its line breaks.

    A line break inside an exception message still splits it; every other control is escaped."""
    if text.isprintable():
        return text
    return "\n".join(printable(line) for line in text.split("\n"))


def _escaped(value: Any) -> Any:
    return printable(value) if isinstance(value, str) else value


class EscapingMixin(logging.Formatter):
    """A formatter that escapes the message, its string arguments and the traceback before formatting.

    The record is copied, not changed: other handlers of the same logger see the original."""

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg = _escaped(record.msg)
        if isinstance(record.args, tuple):
            safe.args = tuple(_escaped(a) for a in record.args)
        elif isinstance(record.args, dict):
            safe.args = {k: _escaped(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            safe.exc_text = self.formatException(record.exc_info)
        if safe.exc_text:
            safe.exc_text = printable_lines(safe.exc_text)
        if safe.stack_info:
            safe.stack_info = printable_lines(safe.stack_info)
        return super().format(safe)


class EscapingFormatter(EscapingMixin, logging.Formatter):
    """The framework logger's formatter (`framework: warning: ...`)."""


class EscapingDefaultFormatter(EscapingMixin, DefaultFormatter):
    """uvicorn's `uvicorn.error` formatter (colours kept), escaping request data."""


class EscapingAccessFormatter(EscapingMixin, AccessFormatter):
    """uvicorn's access-log formatter (colours kept), escaping request data."""


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the escaping formatters in place of its two.

    Plain strings only, so it can travel to `--workers` processes."""
    from copy import deepcopy

    from uvicorn.config import LOGGING_CONFIG

    config = deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.EscapingDefaultFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.EscapingAccessFormatter"
    return config
