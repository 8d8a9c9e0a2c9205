"""`framework start --server uvicorn|granian`: the same options, meaning the same things, on either server.

| option / setting      | uvicorn (the default)                                | granian (`pip install 'framework[granian]'`)                |
|-----------------------|------------------------------------------------------|-------------------------------------------------------------|
| `max_head_size`       | the limited protocol of `framework.limits`: 431     | `http1_settings.max_buffer_size`: 431 (at least 8 KiB)      |
| `head_timeout`        | the limited protocol: 408, or closed if nothing sent | `http1_settings.header_read_timeout`: closed, no 408       |
| `max_concurrency`     | `limit_concurrency`: 503                             | `backpressure`: further connections wait in the listen queue |
| `--proxy-headers`     | uvicorn's `ProxyHeadersMiddleware`                   | the same middleware, around the app in each worker          |
| `--shutdown-timeout`  | `timeout_graceful_shutdown`, then `shutdown()` runs  | `workers_kill_timeout`: a worker still busy is killed       |

Body cap and cross-origin check live in the app, so they are the same on both. On SIGTERM both stop
accepting connections, let the requests in flight finish within `--shutdown-timeout`, run the
lifespan's shutdown (instrumentation.py `shutdown()`) and exit 0. Every worker process builds the app
from `--root` with `framework.app:app_from_environment`, its settings read from `FRAMEWORK_SETTINGS`;
granian always serves from worker processes (one by default), uvicorn from this one unless `--workers`.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from typing import Any

from starlette.types import ASGIApp

from .instrumentation import StartupFailed
from .limits import uvicorn_options
from .settings import ENV_SETTINGS, KiB, Settings

WORKER_APP = "framework.app:app_from_environment"  # the factory each worker process calls
ENV_ROOT = "FRAMEWORK_ROOT"
GRANIAN_INSTALL = "pip install 'framework[granian]'"
GRANIAN_MIN_HEAD_SIZE = 8 * KiB  # hyper's smallest HTTP/1 read buffer; granian panics below it
NO_BACKPRESSURE = 2**31 - 1  # `max_concurrency = none`: granian wants a number
FORWARDED_ALLOW_IPS = "127.0.0.1,::1"  # uvicorn's default for --proxy-headers, also read from the environment


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


# --- uvicorn ---------------------------------------------------------------------------------------


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


# --- granian ---------------------------------------------------------------------------------------


def granian_missing() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:
        return True
    return False


def granian_refusal(settings: Settings) -> str | None:
    """Why granian cannot serve with `settings` as they are (the fix included), or None."""
    if settings.max_head_size < GRANIAN_MIN_HEAD_SIZE:
        return (
            f"--server granian cannot limit request heads to less than 8KiB (hyper's smallest read buffer), and "
            f"max_head_size is {settings.max_head_size} bytes: set --max-head-size 8KiB or more, or serve with "
            "--server uvicorn"
        )
    return None


def run_granian(root: str, settings: Settings, options: ServeOptions) -> None:
    """Serve with granian's worker processes (ASGI, HTTP/1 only), each building the app from `root`."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    publish_for_workers(root, settings)
    server = Granian(
        WORKER_APP,
        address=options.host,
        port=options.port,
        interface=Interfaces.ASGI,  # with the lifespan: register() and shutdown() run in each worker
        factory=True,
        workers=options.workers,
        # HTTP/1 only: with `auto`, a connection that never sends a byte waits for the HTTP/2 preface
        # with no timeout, and would hold one of the `backpressure` places for ever.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.head_timeout * 1000)),
            max_buffer_size=settings.max_head_size,
        ),
        backpressure=settings.max_concurrency or NO_BACKPRESSURE,
        log_level=LogLevels(options.log_level),
        log_access=options.access_log,
        log_dictconfig=granian_log_config(options.log_level),
        workers_kill_timeout=options.shutdown_timeout,
    )
    server.serve(target_loader=partial(load_worker_app, proxy_headers=options.proxy_headers))


def load_worker_app(target: str, *, proxy_headers: bool) -> ASGIApp:
    """In a granian worker: the app from the factory `target`, behind uvicorn's proxy-headers middleware
    when asked, trusting `FORWARDED_ALLOW_IPS` as uvicorn does (so `--proxy-headers` means one thing)."""
    module, _, name = target.partition(":")
    app: ASGIApp = getattr(import_module(module), name)()
    if not proxy_headers:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    trusted = os.environ.get("FORWARDED_ALLOW_IPS", FORWARDED_ALLOW_IPS)
    return ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type,return-value]  # uvicorn types ASGI apps more narrowly


class ReportedStartupFailure(logging.Filter):
    """granian logs a failed lifespan startup with its traceback; a `register()` failure is reported by
    `framework start` itself, in one line naming the file and line, so its traceback is dropped here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], StartupFailed):
            record.exc_info, record.exc_text = None, None
        return True


def granian_log_config(level: str) -> dict[str, Any]:
    """granian's logging with the framework's escaping formatters (request paths cannot drive the terminal),
    its messages on stderr and the access log on stdout as uvicorn's; plain strings, for the workers."""
    from granian.log import LOGGING_CONFIG

    config: dict[str, Any] = deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["()"] = "framework.escape.EscapingFormatter"
    config["filters"] = {"reported": {"()": f"{__name__}.ReportedStartupFailure"}}
    config["handlers"]["console"].update(stream="ext://sys.stderr", filters=["reported"])
    config["loggers"]["granian.access"]["level"] = level.upper()
    return config
