"""`framework routes`: the route table, most specific first."""

from __future__ import annotations

import json

import click

from .common import Command, checked_root, log, root_option, setup_logging

EXAMPLES = """\b
examples:
  framework routes                      the route table, most specific first
  framework routes --json | jq '.[].path'
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@click.option("--json", "as_json", is_flag=True, help="a JSON list of {path, methods, file}")
def routes(root: str, as_json: bool) -> None:
    """Print every route, most specific first: URL pattern, methods (and WEBSOCKET when it serves WebSockets), file."""
    from ..app import project_root
    from ..loader import WEBSOCKET
    from ..table import load_table

    path = checked_root(root)
    setup_logging("warning")
    table = load_table(project_root(path))
    for warning in table.warnings:
        log.warning(warning)
    rows = []
    for e in table.endpoints:
        methods = [*e.methods, WEBSOCKET] if e.websocket is not None else list(e.methods)  # never in `Allow`
        rows.append({"path": e.route.pattern, "methods": methods, "file": e.route.file})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no routes: add a route.py under {path / 'app'}")
        return
    width = max(len(str(r["path"])) for r in rows)
    mwidth = max(len(", ".join(r["methods"])) for r in rows)
    for r in rows:
        click.echo(f"{r['path']:<{width}}  {', '.join(r['methods']):<{mwidth}}  {r['file']}")
