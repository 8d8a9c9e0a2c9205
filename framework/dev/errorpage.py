"""The dev error page: what broke, where (file, line, the source around it), and the traceback.

Browsers (`Accept: text/html`) get an HTML page, every other client plain text. Everything taken
from user code or the exception is HTML-escaped. Never used by `framework start`.
"""

from __future__ import annotations

import html
import linecache
import traceback
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import Problem, RouteTreeError, location
from ..locations import project_location, project_relative

CONTEXT_LINES = 3


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """Everything the page shows. `file` is relative to the project root; `source` is (line number, text)."""

    title: str
    file: str | None
    line: int | None
    fix: str = ""
    source: tuple[tuple[int, str], ...] = ()
    traceback: str = ""

    @property
    def location(self) -> str:
        if self.file is None:
            return "unknown location"
        return location(self.file, self.line)


def source_lines(
    root: Path, file: str | None, line: int | None, context: int = CONTEXT_LINES
) -> tuple[tuple[int, str], ...]:
    """The lines around `line` in `root/file`, read fresh from disk (the file may have just changed)."""
    if file is None or not line:
        return ()
    path = str(root / file)
    linecache.checkcache(path)
    lines = linecache.getlines(path)
    start, end = max(1, line - context), min(len(lines), line + context)
    return tuple((n, lines[n - 1].rstrip("\n")) for n in range(start, end + 1))


def format_traceback(exc: BaseException, root: Path | None = None) -> str:
    """The traceback from the first frame in the project's own files on (the server's frames above it say nothing)."""
    te = traceback.TracebackException.from_exception(exc)
    if root is not None:
        first = next((i for i, f in enumerate(te.stack) if project_relative(root, f.filename) is not None), None)
        if first:
            te.stack = traceback.StackSummary.from_list(te.stack[first:])
    return "".join(te.format()).rstrip()


def report_exception(root: Path, exc: BaseException) -> ErrorReport:
    """A handler (or module-level) exception as a report."""
    file, line = project_location(root, exc)
    title = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return ErrorReport(title, file, line, "", source_lines(root, file, line), format_traceback(exc, root))


def report_problem(root: Path, problem: Problem, exc: BaseException | None = None) -> ErrorReport:
    """A route that cannot be imported: the loader's problem (file, line, fix) plus the traceback when we have it."""
    file = problem.files[0] if problem.files else None
    return ErrorReport(
        problem.message[:1].upper() + problem.message[1:],
        file,
        problem.line,
        problem.fix,
        source_lines(root, file, problem.line),
        format_traceback(exc, root) if exc is not None else "",
    )


def report_tree(error: RouteTreeError) -> ErrorReport:
    """An invalid route tree (a conflict, a bad folder name): every problem, no source."""
    first = error.problems[0] if error.problems else None
    return ErrorReport(
        "The route tree has a problem"
        if len(error.problems) == 1
        else f"The route tree has {len(error.problems)} problems",
        first.files[0] if first else None,
        first.line if first else None,
        "\n\n".join(str(p) for p in error.problems),
    )


def render_text(report: ErrorReport) -> str:
    parts = [f"Error: {report.title}", f"  at {report.location}"]
    if report.fix:
        parts += ["", report.fix]
    if report.source:
        width = len(str(report.source[-1][0]))
        parts.append("")
        parts += [f"{'>' if n == report.line else ' '} {n:>{width}} | {text}" for n, text in report.source]
    if report.traceback:
        parts += ["", report.traceback]
    return "\n".join(parts) + "\n"


_STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:0;background:#fff;color:#1f2328}
header{background:#b42318;color:#fff;padding:18px 24px}
header h1{font-size:18px;margin:0 0 4px}
header p{margin:0;font-family:ui-monospace,monospace}
main{padding:16px 24px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px;overflow:auto;font:13px/1.45 ui-monospace,monospace}
.hit{background:#ffe2e0;display:block}
.n{color:#8c959f;user-select:none}
.fix{white-space:pre-wrap}
"""


def render_html(report: ErrorReport) -> str:
    e = html.escape
    body = [f"<header><h1>{e(report.title)}</h1><p>{e(report.location)}</p></header><main>"]
    if report.fix:
        body.append(f'<p class="fix">{e(report.fix)}</p>')
    if report.source:
        width = len(str(report.source[-1][0]))
        rows = []
        for n, text in report.source:
            row = f'<span class="n">{n:>{width}} </span>{e(text)}'
            rows.append(f'<span class="hit">{row}</span>' if n == report.line else row + "\n")
        body.append(f"<h2>Source</h2><pre>{''.join(rows)}</pre>")
    if report.traceback:
        body.append(f"<h2>Traceback</h2><pre>{e(report.traceback)}</pre>")
    body.append("<p>framework dev: fix the file and reload this page; the server picks the change up.</p></main>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(report.title)}</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def wants_html(accept: str | None) -> bool:
    """`text/html` in the Accept header, as every browser sends for a page load."""
    return bool(accept) and "text/html" in accept.lower()  # type: ignore[union-attr]


def error_response(report: ErrorReport, accept: str | None) -> Response:
    if wants_html(accept):
        return HTMLResponse(render_html(report), status_code=500)
    return PlainTextResponse(render_text(report), status_code=500)


def report_app(report: ErrorReport) -> ASGIApp:
    """An ASGI app answering every request with the report: the stand-in for a route that fails to import."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        accept = dict(scope.get("headers") or ()).get(b"accept", b"").decode("latin-1")
        await error_response(report, accept)(scope, receive, send)

    return app


def exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's 500 handler in dev mode: the error page for any exception a handler raised."""
    root = Path(getattr(request.app.state, "framework_root", "."))
    return error_response(report_exception(root, exc), request.headers.get("accept"))
