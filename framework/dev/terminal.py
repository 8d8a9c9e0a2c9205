"""What `framework dev` prints: a banner, one line per reload, per error, per request. Colour only on a terminal.

Every text that is not the console's own (a request's method and path, an exception's message,
file names) goes through `printable`: a path like `/%1b]0;x%07%0areloaded` cannot retitle the
terminal or print a line of its own. Only `paint` writes escape sequences.

    framework dev ready in 212 ms: http://127.0.0.1:3000 (4 routes from /srv/shop/app)
    reloaded app/api/x/route.py in 14 ms
    error app/api/x/route.py:3 SyntaxError: invalid syntax (this route answers 500 until fixed)
    GET /api/x 500 in 2 ms (app/api/x/route.py)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import RouteTreeError
from ..escape import printable
from .errorpage import ErrorReport
from .reloader import Outcome

RED, GREEN, YELLOW, CYAN, BOLD = "31", "32", "33", "36", "1"


def use_colour(stream: TextIO) -> bool:
    """A terminal, and no NO_COLOR (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def status_colour(status: int) -> str:
    """1xx and 2xx green, 3xx cyan, 4xx yellow, 5xx red."""
    return GREEN if status < 300 else CYAN if status < 400 else YELLOW if status < 500 else RED


def _names(files: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(printable(f) for f in files[:limit])
    return shown + (f" and {len(files) - limit} more" if len(files) > limit else "")


@dataclass
class Console:
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    colour: bool | None = None

    def __post_init__(self) -> None:
        if self.colour is None:
            self.colour = use_colour(self.stream)

    def paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def banner(self, url: str, routes: int, ms: float, root: str, restarted: str | None = None) -> None:
        why = f" after {restarted} changed" if restarted else ""
        self.line(
            f"{self.paint(BOLD, 'framework dev')} ready in {ms:.0f} ms{printable(why)}: "
            f"{self.paint(CYAN, printable(url))} "
            f"({routes} route{'' if routes == 1 else 's'} from {printable(root)}/app; Ctrl+C to stop)"
        )

    def warning(self, text: str) -> None:
        self.line(f"{self.paint(YELLOW, 'warning')} {printable(text)}")

    def failure(self, text: str) -> None:
        """An error that is not a report about the project's code (a refused restart, an internal error)."""
        self.line(f"{self.paint(RED, 'error')} {printable(text)}")

    def error(self, report: ErrorReport, note: str = "") -> None:
        self.line(f"{self.paint(RED, 'error')} {printable(report.location)} {printable(report.title)}{printable(note)}")

    def tree_error(self, error: RouteTreeError, serving: bool) -> None:
        still = (
            "page loads in a browser show this error, other requests get the last good routes"
            if serving
            else "every URL shows this error until it is fixed"
        )
        self.line(f"{self.paint(RED, 'error')} the route tree is invalid ({still}):")
        for problem in error.problems:
            self.line(f"  {printable(str(problem))}")

    def report(self, outcome: Outcome, serving: bool = True) -> None:
        if outcome.tree_error is not None:
            self.tree_error(outcome.tree_error, serving)
            return
        for warning in outcome.warnings:
            self.warning(warning)
        for failure in outcome.failures:
            self.error(failure, " (this route answers 500 until fixed)")
        if outcome.table is None or outcome.failures:  # a change that failed to import did not reload
            return
        count = ""
        if outcome.added or outcome.removed:
            count = f" ({outcome.routes} route{'' if outcome.routes == 1 else 's'})"
        self.line(f"{self.paint(GREEN, 'reloaded')} {_names(outcome.files) or 'app/'} in {outcome.ms:.0f} ms{count}")

    def request(self, method: str, path: str, status: int | None, ms: float, note: str = "") -> None:
        """`GET /api/x 200 in 4 ms`: the status coloured by its class (2xx green, 3xx cyan, 4xx yellow, 5xx red)."""
        shown = self.paint(status_colour(status), str(status)) if status is not None else "-"
        self.line(f"{printable(method)} {printable(path)} {shown} in {ms:.0f} ms{printable(note)}")

    def restart(self, file: str) -> None:
        self.line(f"{self.paint(YELLOW, 'restarting')}: {printable(file)} changed (the server keeps its socket)")
