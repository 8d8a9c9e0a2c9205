"""`framework config`: the effective settings and where each came from."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from .common import Command, checked_root, command_line_overrides, limit_options, root_option

EXAMPLES = """\b
examples:
  framework config                          every setting, its value, and default / pyproject.toml / --option
  framework config --max-body-size 50MiB    what `framework start --max-body-size 50MiB` would serve with
  framework config --json | jq .base_path

\b
set them in pyproject.toml under [tool.framework] (the framework's README, Configuration); start/dev options win.
"""


def shown(value: Any) -> Any:
    """A setting as JSON data: rules as tables, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: shown(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (tuple, list)):
        return [shown(v) for v in value]
    return value


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@click.option("--json", "as_json", is_flag=True, help="a JSON object {setting: {value, source}}")
@limit_options(dev=True)
def config(root: str, as_json: bool, **limits: Any) -> None:
    """Print the effective settings of the project: each value and whether it is the default, from
    pyproject.toml's [tool.framework], or from a command-line option."""
    from ..config import load_settings

    path = checked_root(root)
    effective = load_settings(path, command_line_overrides(limits))  # what framework start would serve with
    rows = {
        f.name: {"value": shown(getattr(effective.settings, f.name)), "source": effective.sources[f.name]}
        for f in dataclasses.fields(effective.settings)
    }
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(map(len, rows))
    for name, row in rows.items():
        value = json.dumps(row["value"], ensure_ascii=False)
        click.echo(f"{name:<{width}}  {value}  ({row['source']})")
