"""`framework new route`: scaffold a route that passes every check."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, CommandError, root_option

EXAMPLES = """\b
examples:
  framework new route api/refresh-token
  framework new route api/users/[id] --methods GET,POST
  framework new route "api/files/[...path]" --root path/to/project

\b
writes app/<path>/route.py, a controller in lib/controllers/, a builder in lib/urls/ and a test in
tests/; existing files are never overwritten (exit 1 and nothing written if one is in the way).
"""


@click.group(epilog=EXAMPLES)
def new() -> None:
    """Scaffold a route: its route.py, a controller, a URL builder and a test."""


@new.command(cls=Command, epilog=EXAMPLES)
@click.argument("path")
@click.option("--methods", default="GET", show_default=True, help="comma-separated methods")
@root_option
def route(path: str, methods: str, root: str) -> int:
    """Scaffold app/<PATH>/route.py (PATH like api/users/[id]); [param] folders become the builder's arguments."""
    from ..check.scaffold import ScaffoldInputError, ScaffoldRefused, parse_methods, plan_route, write_changes

    base = Path(root).resolve()
    if not base.is_dir():
        raise CommandError(f"--root {root}: no such directory. Pass your project's folder.")
    try:
        changes = plan_route(base, path, parse_methods(methods))
    except ScaffoldInputError as exc:
        raise CommandError(str(exc)) from None
    except ScaffoldRefused as exc:
        click.echo(f"framework new: refused: {exc}")
        return 1
    write_changes(base, changes)
    width = max(len(c.path) for c in changes)
    for change in changes:
        click.echo(f"{change.action:<8} {change.path:<{width}}  {change.detail}")
    click.echo(f"\nnext: framework check, then python -m pytest {changes[-1].path}")
    return 0
