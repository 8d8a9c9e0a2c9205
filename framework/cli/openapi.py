"""`framework openapi`: the OpenAPI 3.1 document of the project's routes, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import Command, checked_root, log, root_option, setup_logging

EXAMPLES = """\b
examples:
  framework openapi                         the document on stdout
  framework openapi --out openapi.json      written to a file (then: schemathesis run openapi.json --url ...)
  framework openapi | jq '.paths | keys'

\b
framework dev serves the same at /_framework/openapi.json, with Swagger UI at /_framework/docs;
framework start does with `openapi = true` under [tool.framework].
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="write to this file instead of stdout")
def openapi(root: str, out: str | None) -> None:
    """Print the OpenAPI 3.1 document of the routes: paths, parameters, bodies and responses from the
    handlers' annotations, summaries from their docstrings. Exit 1 with the problems if the tree does not load."""
    from ..config import load_settings, project_root
    from ..openapi import table_document
    from ..table import load_table

    path = checked_root(root)
    setup_logging("warning")
    settings = load_settings(path).settings
    table = load_table(project_root(path), settings)
    for warning in table.warnings:
        log.warning(warning)
    text = json.dumps(table_document(path, table.endpoints, settings.base_path), indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}: {len(json.loads(text)['paths'])} paths", err=True)
