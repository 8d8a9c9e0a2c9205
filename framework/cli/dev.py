"""`framework dev`: serve the project and reload it on every change."""

from __future__ import annotations

import os
from errno import EADDRINUSE
from typing import Any

import click
from click.core import ParameterSource

from .common import (
    DEFAULT_PORT,
    Command,
    ProjectError,
    checked_root,
    effective_settings,
    limit_options,
    root_option,
    server_options,
    setup_logging,
)

EXAMPLES = """\b
examples:
  framework dev                         serve ./app on http://127.0.0.1:3000 (or the next free port up to 3009)
  framework dev --port 8000             exactly port 8000: exit 1 if it is in use
  framework dev --quiet                 no line per request (`GET /api/x 200 in 4 ms`); reloads and errors still print
  framework dev --root path/to/project
  framework dev --host 0.0.0.0 --allowed-host mybox.local   reachable from the LAN as mybox.local

\b
What reloads in the running process: route.py files (added, edited, deleted, folders renamed), any
project module they import (lib/...), a root proxy.py, middleware.py or instrumentation.py (its old
shutdown(), then the new register() and middleware), app/not_found.py, public/. What restarts the
process (on the same socket, no connection refused): pyproject.toml, the framework's own source.

\b
This server is for this machine: it answers only requests whose Host is localhost, 127.0.0.1, ::1,
the --host address or an --allowed-host name (403 otherwise, against DNS rebinding), and warns when
bound to an address other machines can reach. The limits are framework start's (docs/security.md in the
framework's repository).
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@server_options
@click.option("--quiet", "-q", is_flag=True, help="no line per request (reloads and errors are still printed)")
@limit_options(dev=True)
def dev(root: str, host: str, port: int, quiet: bool, **limits: Any) -> int:
    """Serve the project for development: every saved change is served by the next request, without a
    restart; errors show a page with the file, line and traceback."""
    from ..dev.ports import BindError
    from ..dev.runner import run_dev

    path = checked_root(root)
    setup_logging("warning")
    os.environ["FRAMEWORK_ENV"] = "development"  # like NODE_ENV: the app may offer dev-only conveniences
    given = click.get_current_context().get_parameter_source("port") is ParameterSource.COMMANDLINE
    try:
        settings = effective_settings(path, limits)
        return run_dev(path, host, port, settings, log_requests=not quiet, try_next_ports=not given)
    except BindError as exc:
        hint = (
            f" Leave --port out to take the next free port from {DEFAULT_PORT}."
            if given and exc.errno == EADDRINUSE
            else ""
        )
        raise ProjectError(f"{exc.strerror}{hint}") from None
    except KeyboardInterrupt:
        return 0
