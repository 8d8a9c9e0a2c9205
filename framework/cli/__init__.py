"""The `framework` command line: one module per command, `common.py` for what they share.

Nothing else in the framework imports this package; each command imports what it needs when it
runs, so `framework --help` stays fast. Exit codes: 0 ok, 1 the project has a problem, 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..version import __version__
from .check import check
from .config import config
from .dev import dev
from .init import init
from .new import new
from .openapi import openapi
from .routes import routes
from .start import start


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="framework")
def cli() -> None:
    """File-based routing for Python: app/**/route.py files served on Starlette and uvicorn."""


for command in (init, dev, start, routes, openapi, check, new, config):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting (tests call it in process)."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="framework", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
