"""`app/not_found.py`: the handler that answers every 404 (Next.js's `not-found`, as a route handler).

```python
# app/not_found.py
from starlette.responses import HTMLResponse

def GET(request):
    return HTMLResponse(f"<h1>Nothing at {request.url.path}</h1>")  # sent with status 404
```

It answers unmatched URLs (any method), `not_found()` and `HTTPException(404)` raised by a route.
`GET(request)` or `async def GET(request)`, returning what a route handler may:

| the handler returns                          | the client gets                               |
|----------------------------------------------|-----------------------------------------------|
| a Response with status 200 (the default)     | that response with status 404                 |
| a Response with another status (410, a redirect) | that response as it is                    |
| a dict or a list                             | JSON, 404                                     |
| `None`                                       | 404, empty body                               |
| raises `not_found()`, `HTTPException(403)`   | that status, plain text                       |

It is not a route: `app/not_found.py` is found by name, never scanned as `/not_found`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .endpoints import handler_endpoint
from .errors import Problem
from .loader import Failure, Handler, import_or_failure, misspelled_method, misspelled_text, takes_context
from .locations import line_of

NOT_FOUND_FILE = "app/not_found.py"


@dataclass(frozen=True, slots=True)
class NotFound:
    """The loaded `app/not_found.py`: its `GET`, wrapped once as a route handler is (thread pool, cookies())."""

    file: str
    endpoint: Callable[[Request], Awaitable[Response]]

    async def respond(self, request: Request) -> Response:
        """The handler's answer, kept at 404 unless it chose another status (see the module's table)."""
        try:
            response = await self.endpoint(request)
        except HTTPException as exc:  # not_found() inside not_found.py: answered, not a 500
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
        if response.status_code == 204:  # None: an empty 404
            response.headers["content-length"] = "0"
            response.status_code = 404
        elif response.status_code == 200:
            response.status_code = 404
        return response


class AppResponse(Response):
    """An ASGI app where Starlette wants a Response (an exception handler's answer): the dev error page
    of a broken `not_found.py`."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(status_code=500)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


NotFoundLoad = tuple[NotFound | Failure | None, tuple[str, ...]]


def load_not_found(root: Path) -> NotFoundLoad:
    """Import `app/not_found.py`, if any: (its handler, or the Failure stopping it, or None; warnings)."""
    if not (root / NOT_FOUND_FILE).is_file():
        return None, ()
    module = import_or_failure(root, NOT_FOUND_FILE)
    if isinstance(module, Failure):
        return module, ()
    warnings = tuple(
        f"{NOT_FOUND_FILE}:{line_of(module, name) or 1}: {misspelled_text(name, 'GET')}"
        for name, value in vars(module).items()
        if name != "GET" and misspelled_method(name, value, module.__name__) == "GET"
    )
    func = getattr(module, "GET", None)
    if not callable(func):
        what = "is missing" if func is None else f"is a {type(func).__name__}, not a function"
        problem = Problem(
            "not-found-no-handler",
            f"`GET` {what}; app/not_found.py answers every 404 with its GET handler.",
            "Define `def GET(request): ...` returning a Response, a dict or list (JSON) or None (an empty 404).",
            (NOT_FOUND_FILE,),
            line_of(module, "GET") if func is not None else None,
        )
        return Failure(NOT_FOUND_FILE, problem), warnings
    return NotFound(
        NOT_FOUND_FILE, handler_endpoint(Handler("GET", func, takes_context(func)), NOT_FOUND_FILE)
    ), warnings
