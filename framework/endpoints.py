"""Handlers to ASGI apps, one `Endpoint` per URL: decided once at load time, so a request only looks up.

| exported            | served                                                            |
|---------------------|-------------------------------------------------------------------|
| `GET`               | GET, HEAD (the body dropped), OPTIONS (204, `Allow: GET, HEAD, OPTIONS`) |
| `POST`, `DELETE`    | those, OPTIONS; anything else 405 with the same `Allow`           |
| `OPTIONS`           | replaces the automatic one                                        |
| `WEBSOCKET`         | WebSocket handshakes (`websocket_app`); without GET, a plain GET answers 426 |

Sync handlers run in Starlette's thread pool; `context` is passed when the signature takes it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import websocket_session
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import headers as request_context
from .cache import CachedApp
from .deadline import deadline_app
from .firstcall import FirstCall
from .loader import METHODS, WEBSOCKET, Handler, LoadedRoute, is_async
from .manifest import Route
from .navigation import Redirect
from .request_body import SharedReceive, body_may_follow
from .results import json_messages, response_of
from .route_config import RouteConfig
from .settings import Settings
from .validation import typed_call

log = logging.getLogger("framework")


@dataclass(frozen=True, slots=True)
class RouteContext:
    """The optional second argument of a handler, as Next.js passes `{ params }`."""

    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL's dispatcher: the ASGI app per method (HEAD and OPTIONS filled in), its `Allow`,
    its request-body cap (None: no cap), whether it accepts cross-origin unsafe requests, and the app
    for WebSocket handshakes (None: the route exports no WEBSOCKET)."""

    route: Route
    apps: Mapping[str, ASGIApp]
    allow: str
    methods: tuple[str, ...]
    body_cap: int | None = None
    allow_cross_origin: bool = False
    warnings: tuple[str, ...] = ()  # what the loader said about the module (a lowercase `get`, ...)
    websocket: ASGIApp | None = None
    loaded: LoadedRoute | None = None  # what it was made from (the OpenAPI document reads the handlers); None: failed
    pending: Pending | None = None  # framework dev's first table: the route is imported on first use

    def ready(self) -> Endpoint:
        """The endpoint to serve with: itself, or the one its route's import gave (blocking: call it in a
        thread from the event loop)."""
        return self if self.pending is None else self.pending.resolve()


class Pending(Protocol):
    """A route whose module is imported on its first request (or by the dev server's warm-up)."""

    @property
    def resolved(self) -> bool: ...

    def resolve(self) -> Endpoint: ...


class RouteRequest(Request):
    """The `Request` a route handler gets: Starlette's, with `Request.__init__`'s attributes set in one step
    (its two `assert`s on the scope's type and the `super().__init__` call skipped: the router only sends
    HTTP here). That saves 2,000 of the 4,500 instructions making it takes. tests/test_route_request.py
    holds its attributes to those Starlette's own `__init__` sets, so a Starlette that adds one fails there."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self._stream_consumed = False
        self._is_disconnected = False
        self._form = None


def allowed_methods(exported: Iterable[str]) -> tuple[str, ...]:
    """Exported methods plus HEAD (when GET is there) and OPTIONS, sorted, exactly as Next.js lists them."""
    methods = set(exported) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(sorted(methods))


def _context(request: Request) -> RouteContext:
    return RouteContext(request.path_params)


def _caller(handler: Handler, file: str) -> Callable[[Request], Any]:
    """`call(request)`: the awaitable of the user's handler with its arguments (thread pool for a sync one,
    `context` when it takes one, typed inputs when it declares them). Not a coroutine itself: one frame
    less per request."""
    func = handler.func
    if handler.signature is not None:  # typed inputs and result (framework.signatures, framework.validation)
        return typed_call(func, handler.signature, is_async(func), _context, _name(handler), file)
    if is_async(func):
        if not handler.takes_context:
            return func

        def call(request: Request) -> Any:
            return func(request, RouteContext(request.path_params))
    elif handler.takes_context:

        def call(request: Request) -> Any:
            return run_in_threadpool(func, request, RouteContext(request.path_params))
    else:

        def call(request: Request) -> Any:
            return run_in_threadpool(func, request)

    return call


def _name(handler: Handler) -> str:
    return getattr(handler.func, "__name__", handler.method)


# The request context for `cookies()` / `headers()`, bound once: each lookup saved is paid on every request.
_enter, _leave, _apply, _STATE_KEY = (
    request_context.enter,
    request_context.leave,
    request_context.apply,
    request_context.STATE_KEY,
)


def handler_endpoint(handler: Handler, file: str) -> Callable[[Request], Awaitable[Response]]:
    """`endpoint(request) -> Response` for a handler that is not served as a route (app/not_found.py's GET).

    The request context for `cookies()` / `headers()` is set around the call (one ContextVar set and
    reset); cookie changes queued during the call are written onto the returned Response.
    """
    call, func, name = _caller(handler, file), handler.func, _name(handler)

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        token = _enter(scope)
        try:
            result = await call(request)
        except Redirect as exc:  # redirect() from the handler or a controller: cookies set so far are kept
            result = RedirectResponse(exc.location, exc.status_code)
        except Exception as exc:
            exc.add_note(f"raised by {name}() in {file}")
            raise
        finally:
            _leave(token)
        return _response(result, scope, func, name, file)

    return endpoint


def _response(result: object, scope: Scope, func: Callable[..., Any], name: str, file: str) -> Response:
    """The Response for a handler's `result`, with the cookie changes queued during the request on it."""
    if not isinstance(result, Response):
        result = response_of(result, func, name, file)
    if _STATE_KEY in scope:  # cookies() or headers() was used during the request
        _apply(scope, result)
    return result


@functools.cache  # one per `Allow` value, shared by every route with it: 200 bytes a route
def _options_app(allow: str) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(status_code=204, headers={"allow": allow})(scope, receive, send)

    return app


def body_cap(config: RouteConfig | None, settings: Settings) -> int | None:
    """The cap a route serves with: its own `max_body_size` when it set one, else the server's; None: no cap."""
    return config.max_body_size if config is not None and config.own_body_cap else settings.max_body_size


def handler_app(handler: Handler, file: str) -> ASGIApp:
    """A route's handler as an ASGI app: what `handler_endpoint` does, then the response sent, in one
    coroutine (a layer less on every request). Starlette's `request_response` adds a layer that applies the
    exception handlers; here the application applies them once (`boundary.Boundary`, or Starlette's
    middleware). When a body may follow, the handler and the response share the receive channel through
    `SharedReceive`. A dict or list with no cookie change to write is sent as `JSONBody` would send it,
    without making the Response object.

    The `try` around the call is `handler_endpoint`'s, written out here on purpose: calling a shared
    coroutine would put back the layer this saves (about 1,000 instructions a request, bench/instructions.py).
    Change the two together."""
    call, func, name = _caller(handler, file), handler.func, _name(handler)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if body_may_follow(scope):
            shared = SharedReceive(receive)
            request, receive = RouteRequest(scope, shared.body, send), shared.disconnect
        else:
            request = RouteRequest(scope, receive, send)
        token = _enter(scope)
        try:
            result = await call(request)
        except Redirect as exc:  # redirect() from the handler or a controller: cookies set so far are kept
            result = RedirectResponse(exc.location, exc.status_code)
        except Exception as exc:
            exc.add_note(f"raised by {name}() in {file}")
            raise
        finally:
            _leave(token)
        kind = type(result)
        if (kind is dict or kind is list) and _STATE_KEY not in scope:
            messages = json_messages(result)  # None: no JSON form, which `response_of` explains
            if messages is not None:
                await send(messages[0])
                await send(messages[1])
                return
        await _response(result, scope, func, name, file)(scope, receive, send)

    return app


def configured_apps(apps: dict[str, ASGIApp], config: RouteConfig, file: str, settings: Settings) -> dict[str, ASGIApp]:
    """The route segment config applied by wrapping the handlers' apps, once, at load time:

    | config                                   | wraps                                  |
    |------------------------------------------|----------------------------------------|
    | `max_duration = S`                       | every method's app (`deadline_app`)    |
    | `revalidate = N`, `dynamic = "force-static"` | GET's (and the HEAD served from it), outside `framework dev` (`CachedApp`) |

    A route that sets neither gets its apps back untouched: nothing is added to its request path.
    """
    if config.max_duration is not None:
        limit = config.max_duration
        apps = {method: deadline_app(app, limit, file) if method in METHODS else app for method, app in apps.items()}
    seconds = config.cache_seconds
    if seconds is not None and "GET" in apps and not settings.dev:
        apps["GET"] = CachedApp(apps["GET"], seconds, config.cache_private, file)
    return apps


@functools.cache  # one tuple and one string per set of methods, not one per route
def _allow(exported: frozenset[str]) -> tuple[tuple[str, ...], str]:
    methods = allowed_methods(exported)
    return methods, ", ".join(methods)


def config_wraps(config: RouteConfig, settings: Settings) -> bool:
    """Does `configured_apps` wrap this route's apps (then they are made at load time, not on first call)?"""
    return config.max_duration is not None or (config.cache_seconds is not None and not settings.dev)


def asgi_of(handler: Handler, file: str) -> ASGIApp:
    """A handler's app for the request path (`FirstCall` makes it on the route's first request)."""
    return handler_app(handler, file)


def make_endpoint(loaded: LoadedRoute, settings: Settings) -> Endpoint:
    file, eager = loaded.route.file, config_wraps(loaded.config, settings)
    apps: dict[str, ASGIApp] = {}
    for method, handler in loaded.handlers.items():
        if method != WEBSOCKET:
            apps[method] = asgi_of(handler, file) if eager else FirstCall(asgi_of, handler, file, apps)
    apps = configured_apps(apps, loaded.config, loaded.route.file, settings)
    methods, allow = _allow(frozenset(apps))
    socket = loaded.handlers.get(WEBSOCKET)
    websocket = websocket_app(socket, loaded.route.file) if socket is not None else None
    if websocket is not None and "GET" not in apps:
        apps["GET"] = upgrade_required  # HEAD follows below
    if "HEAD" not in apps and "GET" in apps:
        apps["HEAD"] = apps["GET"]  # the server sends the headers and drops the body
    if "OPTIONS" not in apps:
        apps["OPTIONS"] = _options_app(allow)
    config = loaded.config
    return Endpoint(
        loaded.route,
        apps,
        allow,
        methods,
        body_cap(config, settings),
        config.allow_cross_origin,
        loaded.warnings,
        websocket=websocket,
        loaded=loaded,
    )


def error_endpoint(route: Route, app: ASGIApp, settings: Settings) -> Endpoint:
    """Every method and WebSocket handshake answered by `app`: the dev server's stand-in for a route that
    failed to import (a handshake gets the page as the refusal, which uvicorn sends as is)."""
    return Endpoint(route, dict.fromkeys(METHODS, app), "", (), body_cap(None, settings), websocket=app)


async def upgrade_required(scope: Scope, receive: Receive, send: Send) -> None:
    """A plain GET (or HEAD) to a route that exports WEBSOCKET but no GET: 426 with `Upgrade: websocket`.

    Not 405: the handshake is itself a GET that the route serves, so `Allow` would have to list GET and
    then contradict the refusal; 426 says what to do instead (RFC 9110 section 15.5.22), as `ws` for Node does.
    """
    headers = {"upgrade": "websocket", "connection": "upgrade"}
    await PlainTextResponse("Upgrade Required: connect with a WebSocket client", 426, headers)(scope, receive, send)


class SocketWatch:
    """One WebSocket's `receive` and `send`, noting what went through: whether the handshake was answered
    (accepted or refused) and whether the socket is closed, by either side. What the framework sends
    after the handler (a close, a refusal) must never repeat what the handler already did."""

    __slots__ = ("_receive", "_send", "answered", "closed")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive, self._send = receive, send
        self.answered = self.closed = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind != "websocket.send":  # accept, close, or a refusal's http.response.*
            self.answered = True
            self.closed = self.closed or kind != "websocket.accept"
        await self._send(message)

    async def close(self, code: int) -> None:
        """Close an accepted socket the handler left open; a client already gone is no error."""
        if self.answered and not self.closed:
            with contextlib.suppress(OSError, RuntimeError):
                await self.send({"type": "websocket.close", "code": code, "reason": ""})


def websocket_app(handler: Handler, file: str) -> ASGIApp:
    """`async def WEBSOCKET(websocket[, context])` as an ASGI app.

    Starlette's `websocket_session` builds the `WebSocket` and applies the application's exception
    handlers (a `WebSocketException` closes with its code). Around it, what the server would leave to chance:

    | the handler                                   | the client gets                        |
    |-----------------------------------------------|----------------------------------------|
    | returns with the socket open                  | close 1000                             |
    | returns without accepting or closing          | 403, and a warning naming the file     |
    | raises before accepting                       | 500; the server logs the traceback     |
    | raises after accepting                        | close 1011; the server logs the traceback |
    | lets `WebSocketDisconnect` out (client gone)  | nothing more: the normal end, no log   |
    """
    func = handler.func
    call: Callable[[WebSocket], Awaitable[None]]
    if handler.takes_context:

        async def call(websocket: WebSocket) -> None:
            await func(websocket, RouteContext(websocket.path_params))
    else:
        call = func
    session = websocket_session(call)
    name = getattr(func, "__name__", WEBSOCKET)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        watch = SocketWatch(receive, send)
        try:
            await session(scope, watch.receive, watch.send)
        except WebSocketDisconnect:
            return  # receive_text() or send_text() found the client gone
        except Exception as exc:
            exc.add_note(f"raised by {name}() in {file}")
            await watch.close(1011)  # before accept, the server answers the exception with 500
            raise
        if watch.answered:
            await watch.close(1000)
            return
        log.warning(
            "%s() in %s returned without accepting the WebSocket, so it was refused. Call `await websocket.accept()` "
            "first, or `await websocket.close()` to refuse on purpose.",
            name,
            file,
        )
        await send({"type": "websocket.close", "code": 1000, "reason": ""})  # before accept: 403

    return app
