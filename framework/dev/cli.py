"""`framework dev`: the sub-command, registered through `framework.cli._extra_commands()`."""

from __future__ import annotations

import argparse
import os

EPILOG = """examples:
  framework dev                         serve ./app on http://127.0.0.1:3000, reloading on every save
  framework dev --port 8000
  framework dev --root examples/shop
  framework dev --host 0.0.0.0 --allowed-host mybox.local   reachable from the LAN as mybox.local

What reloads in the running process: route.py files (added, edited, deleted, folders renamed), any
project module they import (lib/...), a root proxy.py or middleware.py. What restarts the process
(on the same socket, no connection refused): pyproject.toml, the framework's own source.

This server is for this machine: it answers only requests whose Host is localhost, 127.0.0.1, ::1,
the --host address or an --allowed-host name (403 otherwise, against DNS rebinding), and warns when
bound to an address other machines can reach. The limits are framework start's: docs/security.md.
"""


def cmd_dev(args: argparse.Namespace) -> int:
    from ..cli import UsageError, checked_root, setup_logging
    from ..options import settings_from_args
    from .server import BindError, run_dev

    root = checked_root(args.root)
    setup_logging("warning")
    os.environ["FRAMEWORK_ENV"] = "development"  # like NODE_ENV: the app may offer dev-only conveniences
    try:
        return run_dev(root, args.host, args.port, settings_from_args(args))
    except BindError as exc:
        raise UsageError(f"{exc.strerror}. Pass another --port, or stop the program using it.") from exc
    except KeyboardInterrupt:
        return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ..cli import add_root, add_server_options
    from ..options import add_limit_options

    dev = sub.add_parser(
        "dev", help="serve the project and reload it on every change", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the project for development: every saved change is served by the next request, "
                    "without a restart; errors show a page with the file, line and traceback.",
    )
    add_root(dev)
    add_server_options(dev)
    add_limit_options(dev, dev=True)
    dev.set_defaults(func=cmd_dev)
