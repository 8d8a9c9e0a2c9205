"""While the route tree is invalid, a page load in a browser shows why; every other request gets the last good routes.

| request while the tree is invalid              | answer                                                   |
|------------------------------------------------|----------------------------------------------------------|
| a page load (`Accept: text/html`)              | 500, the tree-error page: each problem, its files, the fix |
| anything else: `curl`, `fetch()`, a test client, a WebSocket | the last good version of the route         |

A person looking at the browser sees the problem instead of a page that silently predates it. API clients
and tests keep working on the last good routes while a refactor is half saved (a file moved but the old one
not yet deleted); the terminal names the problem for them.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import RouteTreeError
from .errorpage import error_response, report_tree, wants_html


def tree_error_page(app: ASGIApp, current: Callable[[], RouteTreeError | None]) -> ASGIApp:
    """`app`, except that page loads get the tree-error page while `current()` returns an error."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        error = current() if scope["type"] == "http" else None
        if error is not None:
            accept = next((value for key, value in scope["headers"] if key == b"accept"), b"").decode("latin-1")
            if wants_html(accept):
                await error_response(report_tree(error), accept)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded
