"""`framework start`: serve the project in production mode with uvicorn, or granian (`--server granian`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .common import (
    Command,
    CommandError,
    ProjectError,
    checked_root,
    effective_settings,
    limit_options,
    log,
    root_option,
    server_options,
    setup_logging,
)

SERVERS = ("uvicorn", "granian")  # framework.serving runs them; imported when the command runs, for a fast --help
EXAMPLES = """\b
examples:
  framework start                       serve ./app on http://127.0.0.1:3000
  framework start --port 8000 --workers 2
  framework start --root path/to/project --host 0.0.0.0 --proxy-headers
  framework start --max-body-size 50MiB --trusted-origin https://app.example
  framework start --max-head-size 16KiB --head-timeout 5 --max-concurrency 200
  framework start --server granian --workers 2     (pip install 'framework[granian]')

\b
limits are on by default (request head 64KiB, head within 10 s, 1000 in flight, body 10MiB);
what each guards against and what to leave to a reverse proxy: docs/security.md in the framework's
repository
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@server_options
@click.option(
    "--server", type=click.Choice(SERVERS), default="uvicorn", show_default=True, help="the HTTP server to run"
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="worker processes")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.option("--no-access-log", is_flag=True, help="do not log each request")
@click.option("--proxy-headers", is_flag=True, help="trust X-Forwarded-* from 127.0.0.1")
@click.option(
    "--shutdown-timeout",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="on SIGTERM, how long requests in flight may take to finish",
)
@limit_options()
def start(
    root: str,
    host: str,
    port: int,
    server: str,
    workers: int,
    log_level: str,
    no_access_log: bool,
    proxy_headers: bool,
    shutdown_timeout: int,
    **limits: Any,
) -> None:
    """Serve the project with uvicorn or granian (fastest loop and parser available, no reload)."""
    from ..app import serving_app
    from ..dev.ports import BindError, check_free
    from ..serving import GRANIAN_INSTALL, ServeOptions, granian_missing, granian_refusal, run_granian, run_uvicorn

    if server == "granian" and granian_missing():
        raise CommandError(
            f"--server granian: granian is not installed; install it with {GRANIAN_INSTALL}, or leave out "
            "--server to serve with uvicorn"
        )
    path = checked_root(root)
    setup_logging(log_level)
    os.environ.setdefault("FRAMEWORK_ENV", "production")  # like NODE_ENV; set before the app is imported
    settings = effective_settings(path, limits)
    refusal = granian_refusal(settings) if server == "granian" else None
    if refusal:
        raise CommandError(refusal)
    app = serving_app(path, settings)  # a refused tree is reported first: it is the project's problem
    try:  # one line and exit 1, instead of uvicorn's own error and exit code 3
        check_free(host, port)
    except BindError as exc:
        raise ProjectError(str(exc.strerror)) from None
    count = len(app.router.table.endpoints)  # type: ignore[attr-defined]
    log.info("%d route%s from %s", count, "" if count == 1 else "s", path / "app")
    options = ServeOptions(host, port, workers, log_level, not no_access_log, proxy_headers, shutdown_timeout)
    if server == "granian":
        failed = run_reporting_startup(lambda: run_granian(str(path), settings, options))
    else:
        failed = run_reporting_startup(lambda: run_uvicorn(app, str(path), settings, options))
    if failed:
        raise ProjectError(f"the server did not start: {failed}")


def run_reporting_startup(run: Callable[[], None]) -> str:
    """Run the server; what a process whose instrumentation.py register() failed reported ("" if none).

    The report travels through a file named in the environment: a worker's failure stops uvicorn's or
    granian's parent without telling it why, and a single uvicorn process exits with uvicorn's code 3.
    """
    from ..instrumentation import ENV_STARTUP_REPORT

    with tempfile.TemporaryDirectory(prefix="framework-start-") as folder:
        report = Path(folder) / "startup-failure.txt"
        os.environ[ENV_STARTUP_REPORT] = str(report)
        try:
            run()
        except SystemExit:
            if not report.is_file():
                raise
        finally:
            os.environ.pop(ENV_STARTUP_REPORT, None)
        return report.read_text(encoding="utf-8") if report.is_file() else ""
