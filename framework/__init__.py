"""File-based routing for Python, the Next.js App Router way, on Starlette and uvicorn.

The names below are imported lazily, so the pure core (`framework.segments`, `.scan`,
`.manifest`, `.matcher`, `.paths`) can be used without importing Starlette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__ as __version__

__all__ = ["Problem", "RouteContext", "RouteTreeError", "create_app"]

if TYPE_CHECKING:
    from .app import create_app
    from .endpoints import RouteContext
    from .errors import Problem, RouteTreeError


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "RouteContext":
        from .endpoints import RouteContext

        return RouteContext
    if name in ("Problem", "RouteTreeError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'framework' has no attribute {name!r}")
