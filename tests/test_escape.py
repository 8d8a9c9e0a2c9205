"""`printable`: request data printed to a terminal cannot drive it or forge a line."""

from __future__ import annotations

import io
import logging

import pytest

from framework.escape import EscapingAccessFormatter, EscapingFormatter, printable, printable_lines


@pytest.mark.parametrize(
    "text, shown",
    [
        ("/api/users/42", "/api/users/42"),
        ("/caf\u00e9 \u00a0\u3000", "/caf\u00e9 \u00a0\u3000"),  # letters and space characters stay
        ("/\x1b]0;owned\x07", "/\\x1b]0;owned\\x07"),  # OSC retitle: ESC and BEL
        ("/a\nreloaded app/x/route.py", "/a\\x0areloaded app/x/route.py"),  # a forged line
        ("/a\r\tb\x00", "/a\\x0d\\x09b\\x00"),
        ("/del\x7f c1\x9b", "/del\\x7f c1\\x9b"),  # DEL and the one-byte CSI
        ("/\u202egnp.exe", "/\\u202egnp.exe"),  # bidi override
        ("/zw\u200bj\u200d\ufeff", "/zw\\u200bj\\u200d\\ufeff"),  # zero-width and BOM format characters
        ("/ls\u2028ps\u2029", "/ls\\u2028ps\\u2029"),  # line and paragraph separators
        ("/tag\U000e0041", "/tag\\U000e0041"),  # a tag character (format, astral)
        ("/lone\udcff", "/lone\\udcff"),  # a surrogate left by surrogateescape
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_printable_lines_keeps_line_breaks_and_escapes_the_rest() -> None:
    assert (
        printable_lines("Traceback:\n  x\x1b[2J\nValueError: \u202e") == "Traceback:\n  x\\x1b[2J\nValueError: \\u202e"
    )


def format_with(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.emit(record)
    return stream.getvalue()


def test_the_log_formatters_escape_messages_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("bad id \x1b]0;owned\x07")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("framework", logging.ERROR, __file__, 1, "refused %s", ("/x\x1b[31m\ny",), exc_info)
    out = format_with(EscapingFormatter("%(levelname)s: %(message)s"), record)
    assert "\x1b" not in out and "\x07" not in out
    assert out.startswith("ERROR: refused /x\\x1b[31m\\x0ay\nTraceback")
    assert "ValueError: bad id \\x1b]0;owned\\x07" in out
    assert record.args == ("/x\x1b[31m\ny",)  # the record itself is untouched for other handlers


def test_the_access_log_formatter_escapes_the_request_line() -> None:
    args = ("127.0.0.1:5000", "GET", "/\x1b[2J\nforged", "1.1", 200)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    out = format_with(
        EscapingAccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False), record
    )
    assert out == '127.0.0.1:5000 - "GET /\\x1b[2J\\x0aforged HTTP/1.1" 200 OK\n'


def test_framework_start_logs_request_data_escaped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The access log line and the traceback of a handler whose exception message carries the path."""
    from tests.helpers import run_framework, wait_for, write_tree

    write_tree(
        tmp_path,
        {
            "app/api/boom/[...rest]/route.py": """
        def GET(request, context):
            raise ValueError("no such thing: " + "/".join(context.params["rest"]))
    """
        },
    )
    with run_framework(tmp_path) as server:
        assert server.get("/api/boom/x%1b]0;owned%07%1b[2J").status == 500
        wait_for(lambda: "no such thing" in server.log(), what="the traceback")
        log = server.log()
    assert "\x1b" not in log and "\x07" not in log
    assert "ValueError: no such thing: x\\x1b]0;owned\\x07\\x1b[2J" in log
