"""`framework dev`: serve the project and reload it on every change."""

from __future__ import annotations

import os
from typing import Any

import click

from .common import (
    Command,
    CommandError,
    checked_root,
    effective_settings,
    limit_options,
    root_option,
    server_options,
    setup_logging,
)

EXAMPLES = """\b
examples:
  framework dev                         serve ./app on http://127.0.0.1:3000, reloading on every save
  framework dev --port 8000
  framework dev --root examples/shop
  framework dev --host 0.0.0.0 --allowed-host mybox.local   reachable from the LAN as mybox.local

\b
What reloads in the running process: route.py files (added, edited, deleted, folders renamed), any
project module they import (lib/...), a root proxy.py, middleware.py or instrumentation.py (its old
shutdown(), then the new register() and middleware), app/not_found.py, public/. What restarts the
process (on the same socket, no connection refused): pyproject.toml, the framework's own source.

\b
This server is for this machine: it answers only requests whose Host is localhost, 127.0.0.1, ::1,
the --host address or an --allowed-host name (403 otherwise, against DNS rebinding), and warns when
bound to an address other machines can reach. The limits are framework start's: docs/security.md.
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@server_options
@limit_options(dev=True)
def dev(root: str, host: str, port: int, **limits: Any) -> int:
    """Serve the project for development: every saved change is served by the next request, without a
    restart; errors show a page with the file, line and traceback."""
    from ..dev.runner import BindError, run_dev

    path = checked_root(root)
    setup_logging("warning")
    os.environ["FRAMEWORK_ENV"] = "development"  # like NODE_ENV: the app may offer dev-only conveniences
    try:
        return run_dev(path, host, port, effective_settings(path, limits))
    except BindError as exc:
        raise CommandError(f"{exc.strerror}. Pass another --port, or stop the program using it.") from exc
    except KeyboardInterrupt:
        return 0
