"""The Starlette application around the `FileRouter`: app-level files applied, and swappable as a whole.

| app-level file                 | applied here as                                                       |
|--------------------------------|-----------------------------------------------------------------------|
| `instrumentation.py` `middleware` | Starlette user middleware, after `create_app(middleware=...)`'s, outside the router and its 404s |
| `register()` / `shutdown()`    | the lifespan, around the one passed to `create_app(lifespan=...)`      |
| `app/not_found.py`             | the 404 exception handler (unless `exception_handlers` has a 404 of its own) |

`FrameworkApp.swap(table)` is the dev server's reload: hooks switched, the middleware stack rebuilt
when the file changed, then the table and the stack assigned together, between two requests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from .boundary import HANDLERS_KEY, Boundary
from .fallback import AppResponse, NotFound
from .instrumentation import ErrorContext, Lifecycle, OnFailure, report_error
from .proxy import BrokenProxy
from .routing import FileRouter
from .settings import Settings
from .table import RouteTable


def middleware_of(table: RouteTable) -> tuple[Middleware, ...]:
    return table.instrumentation.middleware if table.instrumentation is not None else ()


class FrameworkApp(Starlette):
    """A Starlette application whose router is a `FileRouter`; routes added the Starlette way (`routes=`,
    `app.mount`) are tried after the file routes. `lifecycle` runs instrumentation.py's register() and
    shutdown(); `on_failure` (dev) turns a failing register() into an error page instead of a refusal
    to start."""

    router: FileRouter

    def __init__(
        self,
        root: Path,
        table: RouteTable,
        settings: Settings,
        on_failure: OnFailure | None = None,
        **starlette_options: Any,
    ) -> None:
        handlers = dict(starlette_options.pop("exception_handlers", None) or {})
        if 404 not in handlers and HTTPException not in handlers:  # the project's own handler wins
            handlers[404] = answer_not_found
        super().__init__(exception_handlers=handlers, **starlette_options)
        self.lifecycle = Lifecycle(root, on_failure)
        self.base_middleware = list(self.user_middleware)
        self.user_middleware = [*self.base_middleware, *middleware_of(table)]
        lifespan = self._with_hooks(self.router.lifespan_context)
        self.router = FileRouter(table, settings, routes=self.router.routes, lifespan=lifespan)
        self.state.framework_root = root

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack; with no user middleware, its two error layers as one (`Boundary`, run by
        `__call__`), around the router's own stack (which skips `Router.__call__`)."""
        if self.user_middleware or getattr(self, "max_body_size", None) is not None:
            return super().build_middleware_stack()
        boundary = Boundary(self.router.middleware_stack, self.exception_handlers, self.debug)
        return cast(ASGIApp, boundary)  # not an ASGI app itself: `__call__` runs it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's `__call__`; with a `Boundary` for a stack, its `try` run here, in this same frame:
        `ServerErrorMiddleware` outside `ExceptionMiddleware`, around the router (see framework/boundary.py)."""
        scope["app"] = self
        stack = self.middleware_stack
        if stack is None:
            stack = self.middleware_stack = self.build_middleware_stack()
        if not isinstance(stack, Boundary):
            await stack(scope, receive, send)  # Starlette's own stack
            return
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await stack.app(scope, receive, send)  # lifespan
            return
        scope[HANDLERS_KEY] = stack.handlers
        started = False

        def sender(message: Message) -> Awaitable[None]:  # not a coroutine: the caller awaits `send`'s own
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            return send(message)

        try:
            try:
                await stack.app(scope, receive, sender)
            except Exception as exc:
                handler = stack.handler(exc)
                if handler is None:
                    raise
                if started:
                    raise RuntimeError("Caught handled exception, but response already started.") from exc
                await stack.answer(handler, exc, scope, receive, send, sender)
        except Exception as exc:
            if kind == "http":
                await stack.fail(exc, scope, receive, send, started)
            raise

    def _with_hooks(self, inner: Lifespan[Any]) -> Lifespan[Any]:
        """The project's lifespan, inside register() and shutdown()."""

        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[Any]:
            await self.lifecycle.start(self.router.table.instrumentation)
            self.router.table = self._served(self.router.table)
            try:
                async with inner(app) as state:
                    yield state
            finally:
                await self.lifecycle.stop()

        return lifespan

    def _served(self, table: RouteTable) -> RouteTable:
        """`table`, or, while register() fails (dev), the table whose every request gets the error page."""
        broken = self.lifecycle.broken
        return table if broken is None else dataclasses.replace(table, proxy=BrokenProxy(broken))

    async def swap(self, table: RouteTable) -> None:
        """framework dev: serve `table` from the next request on. A new instrumentation.py has the old
        version's shutdown() and its own register() run first; its middleware replaces the old."""
        old = self.router.table
        await self.lifecycle.switch(table.instrumentation)
        stack = None
        if middleware_of(table) is not middleware_of(old):
            self.user_middleware = [*self.base_middleware, *middleware_of(table)]
            stack = self.build_middleware_stack()
        self.router.table = self._served(table)
        if stack is not None:
            self.middleware_stack = stack


async def answer_not_found(request: Request, exc: Exception) -> Response:
    """Every 404 (an unmatched URL, `not_found()`, `HTTPException(404)`): `app/not_found.py`'s answer, or
    Starlette's plain `Not Found`."""
    table: RouteTable = request.app.router.table
    handler = table.not_found
    if handler is None or request.scope["type"] != "http":
        return plain_404(exc)
    if not isinstance(handler, NotFound):
        return AppResponse(handler)  # dev: the error page of a broken not_found.py
    try:
        return await handler.respond(request)
    except Exception as error:
        where = ErrorContext(None, handler.file, request.method, "not_found")
        await report_error(table.instrumentation, error, request, where)
        raise


def plain_404(exc: Exception) -> Response:
    """Starlette's own answer to a 404: the exception's detail (`Not Found`) and headers, plain text."""
    return PlainTextResponse(
        getattr(exc, "detail", "Not Found"), status_code=404, headers=getattr(exc, "headers", None)
    )


def starlette_app(
    root: Path, table: RouteTable, settings: Settings, on_failure: OnFailure | None = None, **starlette_options: Any
) -> FrameworkApp:
    """The application for `table`: `create_app`, `framework start` and `framework dev` build it here."""
    return FrameworkApp(root, table, settings, on_failure, **starlette_options)
