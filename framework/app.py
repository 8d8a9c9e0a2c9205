"""`create_app()`: the project under `root` as a Starlette application."""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from .apidocs import docs_routes
from .application import starlette_app
from .config import load_env_file, load_settings, project_root, publish_url_settings
from .loader import Failure
from .settings import Settings
from .table import load_table

__all__ = ["app_from_environment", "create_app", "project_root", "serving_app", "with_dev_error_page"]

log = logging.getLogger("framework")


def create_app(
    root: str | os.PathLike[str] = ".", *, dev: bool = False, settings: Settings | None = None, **starlette_options: Any
) -> Starlette:
    """Build the application for the project at `root`.

    Raises `RouteTreeError` (naming every file involved) when the tree cannot be served.
    `starlette_options` go to `Starlette(...)`: `middleware`, `exception_handlers`, `lifespan`, `routes`.
    With `dev=True`, handler exceptions show the dev error page; `framework dev` adds hot reload.
    `settings` default to the project's `[tool.framework]` in pyproject.toml (`framework.config`; raises
    `ConfigError` for a bad key), over the safe defaults; its `env_file` is loaded first. `dev=True` also
    sets `settings.dev`: routes' `revalidate` / `force-static` responses are not cached.
    """
    path = project_root(root)
    settings = settings or load_settings(path).settings
    if dev:
        settings = dataclasses.replace(settings, dev=True)
    publish_url_settings(settings)
    load_env_file(path, settings)
    table = load_table(path, settings)
    for warning in table.warnings:
        log.warning(warning)
    on_failure = None
    if dev:
        starlette_options["exception_handlers"] = with_dev_error_page(starlette_options.get("exception_handlers"))
        on_failure = dev_failure_page(path)
    starlette_options["routes"] = [*starlette_options.get("routes", ()), *docs_routes(settings)]
    return starlette_app(path, table, settings, on_failure, **starlette_options)


def serving_app(root: str | os.PathLike[str], settings: Settings | None = None) -> Starlette:
    """`create_app` for a production server process (`framework start`, its workers, the benchmark).

    The route modules, handlers and table live as long as the process: `gc.freeze()` moves them out
    of the collector's reach, or every collection walks them again (at 10,000 routes that was 17 % of
    the server's time under load). Only here, not in `create_app`: a test suite that builds many apps
    in one process must still get them collected, and dev reloads replace modules.
    """
    app = create_app(root, settings=settings)
    gc.freeze()
    return app


def with_dev_error_page(handlers: Any) -> dict[Any, Any]:
    """The dev error page as the 500 handler, and the dev 404 and 405 pages, unless the project set its own."""
    from .dev.hints import dev_exception_handlers

    merged = dict(handlers or {})
    for key, handler in dev_exception_handlers().items():
        taken = (500, Exception) if key is Exception else (key, HTTPException)
        if not any(k in merged for k in taken):
            merged[key] = handler
    return merged


def dev_failure_page(root: Path) -> Callable[[Failure], ASGIApp]:
    """`create_app(dev=True)`: a register() that fails is logged and answers every request with the error page."""
    from .dev.errorpage import report_app, report_problem

    def page(failure: Failure) -> ASGIApp:
        log.error("%s (every request answers 500 until fixed)", failure.problem)
        return report_app(report_problem(root, failure.problem, failure.error))

    return page


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes call (`framework start --workers N`)."""
    return serving_app(os.environ.get("FRAMEWORK_ROOT", "."), Settings.from_env())
