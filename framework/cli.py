"""The `framework` command line: `start`, `routes` (and the commands other modules add).

Errors print one paragraph and what to do next, never a traceback. Exit codes: 0 ok,
1 the project has a problem, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import RouteTreeError
from .escape import EscapingFormatter
from .options import add_limit_options

log = logging.getLogger("framework")

EPILOG_START = """examples:
  framework start                       serve ./app on http://127.0.0.1:3000
  framework start --port 8000 --workers 2
  framework start --root examples/shop --host 0.0.0.0 --proxy-headers
  framework start --max-body-size 50MiB --trusted-origin https://app.example
  framework start --max-head-size 16KiB --head-timeout 5 --max-concurrency 200

limits are on by default (request head 64KiB, head within 10 s, 1000 in flight, body 10MiB);
what each guards against and what to leave to a reverse proxy: docs/security.md
"""
EPILOG_ROUTES = """examples:
  framework routes                      the route table, most specific first
  framework routes --json | jq '.[].path'
"""


class UsageError(Exception):
    """Bad command-line input: exit 2 with the message."""


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter("framework: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


def checked_root(value: str) -> Path:
    root = Path(value).resolve()
    if not root.is_dir():
        raise UsageError(f"--root {value}: no such directory. Pass the folder that holds your `app/` folder.")
    if not (root / "app").is_dir():
        raise UsageError(
            f"no `app/` folder in {root}. Run the command from your project's root, or pass --root PATH; "
            "routes live in app/**/route.py."
        )
    return root


def add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", help="project folder holding app/ (default: .)")


def add_server_options(parser: argparse.ArgumentParser, port: int = 3000) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"port to bind (default: {port})")


def cmd_start(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import serving_app
    from .limits import uvicorn_options
    from .options import settings_from_args
    from .settings import ENV_SETTINGS

    root = checked_root(args.root)
    setup_logging(args.log_level)
    os.environ.setdefault("FRAMEWORK_ENV", "production")  # like NODE_ENV; set before the app is imported
    settings = settings_from_args(args)
    app = serving_app(root, settings)
    count = len(app.router.table.endpoints)  # type: ignore[attr-defined]
    log.info("%d route%s from %s", count, "" if count == 1 else "s", root / "app")
    options: dict[str, Any] = dict(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        proxy_headers=args.proxy_headers,
        loop="auto",
        server_header=False,
    )
    if args.workers > 1:
        os.environ["FRAMEWORK_ROOT"] = str(root)
        os.environ[ENV_SETTINGS] = settings.to_env()  # each worker builds the app and the protocol from it
        uvicorn.run("framework.app:app_from_environment", factory=True, workers=args.workers,
                    **options, **uvicorn_options(settings, workers=True))
    else:
        uvicorn.run(app, **options, **uvicorn_options(settings))
    return 0


def cmd_routes(args: argparse.Namespace) -> int:
    from .app import project_root
    from .table import load_table

    root = checked_root(args.root)
    setup_logging("warning")
    table = load_table(project_root(root))
    for warning in table.warnings:
        log.warning(warning)
    rows = [
        {"path": e.route.pattern, "methods": list(e.methods), "file": e.route.file}
        for e in table.endpoints
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print(f"no routes: add a route.py under {root / 'app'}")
        return 0
    width = max(len(r["path"]) for r in rows)
    mwidth = max(len(", ".join(r["methods"])) for r in rows)
    for r in rows:
        print(f"{r['path']:<{width}}  {', '.join(r['methods']):<{mwidth}}  {r['file']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framework",
        description="File-based routing for Python: app/**/route.py files served on Starlette and uvicorn.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    start = sub.add_parser(
        "start", help="serve the project in production mode", epilog=EPILOG_START,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the project with uvicorn (fastest loop and parser available, no reload).",
    )
    add_root(start)
    add_server_options(start)
    start.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    start.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    start.add_argument("--no-access-log", action="store_true", help="do not log each request")
    start.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from 127.0.0.1")
    add_limit_options(start)
    start.set_defaults(func=cmd_start)

    routes = sub.add_parser(
        "routes", help="print the route table", epilog=EPILOG_ROUTES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print every route, most specific first: URL pattern, methods, file.",
    )
    add_root(routes)
    routes.add_argument("--json", action="store_true", help="a JSON list of {path, methods, file}")
    routes.set_defaults(func=cmd_routes)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:  # type: ignore[type-arg]
    """Commands defined beside their feature (`dev`, `check`, `new`), each adding its own sub-parser."""
    from .check_commands import register_check, register_new
    from .dev.cli import register as register_dev

    return [register_dev, register_check, register_new]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"framework {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RouteTreeError as exc:
        print(f"framework {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
