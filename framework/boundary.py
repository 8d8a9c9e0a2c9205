"""The application's error boundary: Starlette's two outer layers in one, for an app with no user middleware.

Starlette wraps every application in `ServerErrorMiddleware` (an unhandled exception: the 500 handler, or
the debug page, then re-raised for the server to log) and, inside the user middleware,
`ExceptionMiddleware` (an exception with a handler, `HTTPException` first of all: its answer). With no
user middleware between them, the two are one `try` around the router with one `send` that notes when
the response started; that is what `FrameworkApp.__call__` does with a `Boundary`, with the same
handlers, in the same order, with the same outcomes (a handled exception after the response started is a
`RuntimeError`, a handler that raises is a 500). It saves three coroutine layers (Starlette's `__call__`
among them), two `send` wrappers, a `Request` and a closure per request. `Boundary` holds the handlers
and makes the answers; the `try` lives in `__call__`, so the request path pays no call for it.

With user middleware (instrumentation.py, `create_app(middleware=...)`), Starlette's own stack is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException, WebSocketException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket

HANDLERS_KEY = "starlette.exception_handlers"  # where Starlette's route wrappers look the handlers up


class Boundary:
    """`ServerErrorMiddleware(ExceptionMiddleware(app))` with the same `handlers` and `debug`, as one layer."""

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, ExceptionHandler], debug: bool) -> None:
        self.app = app
        server = ServerErrorMiddleware(app, debug=debug)  # its 500 and debug pages
        inner = ExceptionMiddleware(app, debug=debug)  # its HTTPException and WebSocketException answers
        self.by_class: dict[Any, ExceptionHandler] = {
            HTTPException: inner.http_exception,
            WebSocketException: inner.websocket_exception,
        }
        self.by_status: dict[int, ExceptionHandler] = {}
        self.on_error: ExceptionHandler | None = None
        for key, handler in handlers.items():
            if key in (500, Exception):
                self.on_error = handler
            elif isinstance(key, int):
                self.by_status[key] = handler
            else:
                self.by_class[key] = handler
        self.handlers = (self.by_class, self.by_status)
        self.server = server

    async def answer(
        self, handler: ExceptionHandler, exc: Exception, scope: Scope, receive: Receive, send: Send, sender: Send
    ) -> None:
        """`ExceptionMiddleware`'s answer to a handled exception: `handler`'s response, sent through `sender`."""
        conn = Request(scope, receive, send) if scope["type"] == "http" else WebSocket(scope, receive, send)
        response = await _call(handler, conn, exc)
        if response is not None:
            await response(scope, receive, sender)
        exc.__traceback__ = None  # a reused exception instance would collect tracebacks

    async def fail(self, exc: Exception, scope: Scope, receive: Receive, send: Send, started: bool) -> None:
        """`ServerErrorMiddleware`'s answer to an unhandled exception of an HTTP request: the 500 handler's
        response, or the debug page, unless the response already started (the caller re-raises)."""
        request = Request(scope)
        if self.server.debug:
            response = await run_in_threadpool(self.server.debug_response, request, exc)
        elif self.on_error is None:
            response = self.server.error_response(request, exc)
        else:
            response = await _call(self.on_error, request, exc)
        if not started:
            await response(scope, receive, send)

    def handler(self, exc: Exception) -> ExceptionHandler | None:
        """The handler for `exc`: by status for an `HTTPException`, else the nearest class in its MRO."""
        if isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            if cls in self.by_class:
                return self.by_class[cls]
        return None


async def _call(handler: ExceptionHandler, conn: Any, exc: Exception) -> Any:
    if is_async_callable(handler):
        return await handler(conn, exc)
    return await run_in_threadpool(handler, conn, exc)
