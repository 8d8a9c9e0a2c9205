"""`framework routes`: the route table, most specific first; a route that fails to import is listed, marked broken."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import Problem
from ..loader import Failure
from .common import Command, ProjectError, checked_root, log, root_option, setup_logging

EXAMPLES = """\b
examples:
  framework routes                      the route table, most specific first
  framework routes --json | jq '.[].path'
  framework routes --json | jq '.[] | select(.error) | .file'    the routes that fail to import

\b
A route that fails to import (a syntax error, a missing module, an exception at module level) is still
listed, marked `broken`, with the file, the line, the error and the fix under it; the command then exits 1.
"""


def not_served(failure: Failure) -> ASGIApp:
    """The stand-in `build_table` wants for a route that failed to import: this command serves nothing."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError(f"{failure.file} is listed, not served")

    return app


@dataclass(frozen=True, slots=True)
class Row:
    """One route as listed: no methods and the problem when it fails to import."""

    path: str
    methods: list[str]
    file: str
    problem: Problem | None = None

    def as_json(self) -> dict[str, Any]:
        error = self.problem and {
            "file": self.problem.files[0],
            "line": self.problem.line,
            "message": self.problem.message,
            "fix": self.problem.fix,
        }
        return {"path": self.path, "methods": self.methods, "file": self.file, "error": error}


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@click.option(
    "--json", "as_json", is_flag=True, help="a JSON list of {path, methods, file, error}; error is null when it imports"
)
def routes(root: str, as_json: bool) -> None:
    """Print every route, most specific first: URL pattern, methods (and WEBSOCKET when it serves WebSockets), file."""
    from ..app import project_root
    from ..loader import WEBSOCKET
    from ..table import build_table, load_manifest

    path = project_root(checked_root(root))
    setup_logging("warning")
    built = build_table(path, load_manifest(path), on_failure=not_served)
    for warning in built.table.warnings:
        log.warning(warning)
    broken = {f.file: f.problem for f in built.failures}
    rows = []
    for e in built.table.endpoints:
        problem = broken.pop(e.route.file, None)
        methods = [*e.methods, WEBSOCKET] if e.websocket is not None else list(e.methods)  # never in `Allow`
        rows.append(Row(e.route.pattern, [] if problem else methods, e.route.file, problem))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))
    elif rows:
        print_table(rows)
    else:
        click.echo(f"no routes: add a route.py under {path / 'app'}")
    for problem in broken.values():  # not a route: the root proxy (on stderr under --json, which stdout holds)
        click.echo(f"broken: {problem}", err=as_json)
    failed = [f.file for f in built.failures]
    if failed:
        where = "in each one's `error`" if as_json else "above"
        raise ProjectError(
            f"{len(failed)} file{'' if len(failed) == 1 else 's'} cannot be imported ({', '.join(failed)}): "
            f"the file, line and fix are {where}; every other route is listed as it would be served."
        )


def print_table(rows: list[Row]) -> None:
    """One line per route; a broken one says `broken` for its methods and has its problem on the line below."""
    methods = [", ".join(r.methods) or "broken" for r in rows]
    width, mwidth = max(len(r.path) for r in rows), max(map(len, methods))
    for r, shown in zip(rows, methods, strict=True):
        click.echo(f"{r.path:<{width}}  {shown:<{mwidth}}  {r.file}")
        if r.problem is not None:
            click.echo(f"  error: {r.problem}")
