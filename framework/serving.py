"""`framework start`: the production server, uvicorn, with the limits of `framework.limits`.

On SIGTERM it stops accepting connections, lets the requests in flight finish within
`--shutdown-timeout` (uvicorn's `timeout_graceful_shutdown`; past it they are cancelled), runs the
lifespan's shutdown (instrumentation.py `shutdown()`) and exits 0. With `--workers N` every worker
process builds the app from `--root` with `framework.app:app_from_environment`, its settings read
from `FRAMEWORK_SETTINGS`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from .limits import uvicorn_options
from .settings import ENV_SETTINGS, Settings

WORKER_APP = "framework.app:app_from_environment"  # the factory each worker process calls
ENV_ROOT = "FRAMEWORK_ROOT"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """The server options of `framework start` that are not `Settings` (those travel to workers in the environment)."""

    host: str
    port: int
    workers: int
    log_level: str  # critical, error, warning, info, debug
    access_log: bool
    proxy_headers: bool
    shutdown_timeout: int  # seconds requests in flight may take to finish once SIGTERM arrives


def publish_for_workers(root: str, settings: Settings) -> None:
    """What a worker's `app_from_environment` reads: the project root and the settings."""
    os.environ[ENV_ROOT] = root
    os.environ[ENV_SETTINGS] = settings.to_env()


def run_uvicorn(app: ASGIApp, root: str, settings: Settings, options: ServeOptions) -> None:
    """Serve `app` in this process, or with `workers` > 1 uvicorn's worker processes, each building its own."""
    import uvicorn

    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "log_level": options.log_level,
        "access_log": options.access_log,
        "proxy_headers": options.proxy_headers,
        "loop": "auto",
        "server_header": False,
        "timeout_graceful_shutdown": options.shutdown_timeout,
    }
    with sigterm_exits_zero():
        if options.workers > 1:
            publish_for_workers(root, settings)  # each worker builds the app and the protocol from it
            limits = uvicorn_options(settings, workers=True)
            uvicorn.run(WORKER_APP, factory=True, workers=options.workers, **common, **limits)
        else:
            uvicorn.run(app, **common, **uvicorn_options(settings))


@contextmanager
def sigterm_exits_zero() -> Iterator[None]:
    """Once it has shut down, uvicorn raises again the SIGTERM it stopped on; under Python's default action
    the process then dies of it (exit -15) after a clean stop. Ignoring that repeat makes it exit 0."""
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
