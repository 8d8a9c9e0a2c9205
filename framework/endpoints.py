"""Handlers to ASGI apps, one `Endpoint` per URL: decided once at load time, so a request only looks up.

| exported            | served                                                            |
|---------------------|-------------------------------------------------------------------|
| `GET`               | GET, HEAD (the body dropped), OPTIONS (204, `Allow: GET, HEAD, OPTIONS`) |
| `POST`, `DELETE`    | those, OPTIONS; anything else 405 with the same `Allow`           |
| `OPTIONS`           | replaces the automatic one                                        |

Sync handlers run in Starlette's thread pool; `context` is passed when the signature takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import headers as request_context
from .loader import METHODS, Handler, LoadedRoute, RouteConfig, is_async
from .manifest import Route
from .settings import Settings


@dataclass(frozen=True, slots=True)
class RouteContext:
    """The optional second argument of a handler, as Next.js passes `{ params }`."""

    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL's dispatcher: the ASGI app per method (HEAD and OPTIONS filled in), its `Allow`,
    its request-body cap (None: no cap) and whether it accepts cross-origin unsafe requests."""

    route: Route
    apps: Mapping[str, ASGIApp]
    allow: str
    methods: tuple[str, ...]
    body_cap: int | None = None
    allow_cross_origin: bool = False
    warnings: tuple[str, ...] = ()  # what the loader said about the module (a lowercase `get`, ...)


def allowed_methods(exported: Iterable[str]) -> tuple[str, ...]:
    """Exported methods plus HEAD (when GET is there) and OPTIONS, sorted, exactly as Next.js lists them."""
    methods = set(exported) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(sorted(methods))


def handler_endpoint(handler: Handler, file: str) -> Callable[[Request], Any]:
    """Wrap a user handler: thread pool for sync ones, `context` when it takes one, a checked result.

    The request context for `cookies()` / `headers()` is set around the call (one ContextVar set and
    reset); cookie changes queued during the call are written onto the returned Response.
    """
    func, method = handler.func, handler.method
    # `call` returns the awaitable without being a coroutine itself: one coroutine frame less per request.
    call: Callable[[Request], Any]
    if is_async(func):
        if handler.takes_context:
            def call(request: Request) -> Any:
                return func(request, RouteContext(request.path_params))
        else:
            call = func
    elif handler.takes_context:
        def call(request: Request) -> Any:
            return run_in_threadpool(func, request, RouteContext(request.path_params))
    else:
        def call(request: Request) -> Any:
            return run_in_threadpool(func, request)

    name = getattr(func, "__name__", method)
    # Bound once here: each lookup saved is paid on every request.
    enter, leave, apply, state_key = request_context.enter, request_context.leave, request_context.apply, \
        request_context.STATE_KEY

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        token = enter(scope)
        try:
            result = await call(request)
        except Exception as exc:
            exc.add_note(f"raised by {name}() in {file}")
            raise
        finally:
            leave(token)
        if not isinstance(result, Response):
            raise TypeError(
                f"{file}: {name}() returned {type(result).__name__}, not a Response; "
                "return a starlette Response such as JSONResponse(...) or PlainTextResponse(...)"
            )
        if state_key in scope:  # cookies() or headers() was used during the request
            apply(scope, result)
        return result

    return endpoint


def _options_app(allow: str) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(status_code=204, headers={"allow": allow})(scope, receive, send)

    return app


def body_cap(config: RouteConfig | None, settings: Settings) -> int | None:
    """The cap a route serves with: its own `max_body_size` when it set one, else the server's; None: no cap."""
    return config.max_body_size if config is not None and config.own_body_cap else settings.max_body_size


def make_endpoint(loaded: LoadedRoute, settings: Settings) -> Endpoint:
    apps: dict[str, ASGIApp] = {
        method: request_response(handler_endpoint(handler, loaded.route.file))
        for method, handler in loaded.handlers.items()
    }
    methods = allowed_methods(apps)
    allow = ", ".join(methods)
    if "HEAD" not in apps and "GET" in apps:
        apps["HEAD"] = apps["GET"]  # the server sends the headers and drops the body
    if "OPTIONS" not in apps:
        apps["OPTIONS"] = _options_app(allow)
    config = loaded.config
    return Endpoint(loaded.route, apps, allow, methods, body_cap(config, settings),
                    config.allow_cross_origin, loaded.warnings)


def error_endpoint(route: Route, app: ASGIApp, settings: Settings) -> Endpoint:
    """Every method answered by `app`: the dev server's stand-in for a route that failed to import."""
    return Endpoint(route, {m: app for m in METHODS}, "", (), body_cap(None, settings))


