"""The thin Starlette edge: one router over the route table, one dispatcher per URL.

Per request: a dict lookup on the raw path for static routes (else split, decode, walk the
segment tree), then a dict lookup on the method. Everything else is decided at load time:
the ASGI app for each method, HEAD served from GET, the automatic OPTIONS and the `Allow` header.
"""

from __future__ import annotations

import inspect
import logging
from functools import partial
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Router, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import headers as request_context
from .errors import Problem, RouteTreeError
from .loader import Handler, LoadedRoute, load_route
from .manifest import Manifest, Route, build_manifest
from .matcher import Matcher
from .paths import BadPath, Redirect, split_path
from .proxy import ProxyApp, load_proxy
from .scan import scan
from .settings import Settings

log = logging.getLogger("framework")


@dataclass(frozen=True, slots=True)
class RouteContext:
    """The optional second argument of a handler, as Next.js passes `{ params }`."""

    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL's dispatcher: the ASGI app per method (HEAD and OPTIONS filled in) and its `Allow`."""

    route: Route
    apps: Mapping[str, ASGIApp]
    allow: str
    methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Everything a request needs, built to one side and swapped in with one assignment."""

    manifest: Manifest
    endpoints: tuple[Endpoint, ...]
    matcher: Matcher[Endpoint]
    by_raw_path: Mapping[bytes, Endpoint] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    proxy: ProxyApp | None = None  # the root proxy.py, run before matching


def allowed_methods(exported: Iterable[str]) -> tuple[str, ...]:
    """Exported methods plus HEAD (when GET is there) and OPTIONS, sorted, exactly as Next.js lists them."""
    methods = set(exported) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(sorted(methods))


def _is_async(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))


def handler_endpoint(handler: Handler, file: str) -> Callable[[Request], Any]:
    """Wrap a user handler: thread pool for sync ones, `context` when it takes one, a checked result.

    The request context for `cookies()` / `headers()` is set around the call (one ContextVar set and
    reset); cookie changes queued during the call are written onto the returned Response.
    """
    func, method = handler.func, handler.method
    # `call` returns the awaitable without being a coroutine itself: one coroutine frame less per request.
    call: Callable[[Request], Any]
    if _is_async(func):
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


def make_endpoint(loaded: LoadedRoute) -> Endpoint:
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
    return Endpoint(loaded.route, apps, allow, methods)


def error_endpoint(route: Route, app: ASGIApp) -> Endpoint:
    """Every method answered by `app`: the dev server's stand-in for a route that failed to import."""
    return Endpoint(route, {m: app for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}, "", ())


def raw_key(route: Route) -> bytes | None:
    """The raw path a static route answers without any decoding, or None when it has none."""
    if not route.is_static or "%" in route.pattern:
        return None
    return route.pattern.encode("utf-8")


def table_from(manifest: Manifest, endpoints: Iterable[Endpoint], warnings: Iterable[str] = (),
               proxy: ProxyApp | None = None) -> RouteTable:
    endpoints = tuple(endpoints)
    by_raw = {key: e for e in endpoints if (key := raw_key(e.route)) is not None}
    matcher = Matcher((e.route, e) for e in endpoints)
    return RouteTable(manifest, endpoints, matcher, by_raw, tuple(warnings), proxy)


def load_manifest(root: Path) -> Manifest:
    return build_manifest(scan(root))


def build_table(root: Path, settings: Settings | None = None) -> RouteTable:
    """Scan, check, import and index the routes under `root/app`, and load the root `proxy.py`.

    Any problem (a refused tree, a route or proxy that fails to import) raises `RouteTreeError`
    naming every file: the start-mode contract. The dev server builds its tables in `dev/reloader.py`,
    where a failing route or proxy gets the error page instead.
    """
    manifest = load_manifest(root)
    endpoints: list[Endpoint] = []
    problems: list[Problem] = []
    proxy, warnings = load_proxy(root)
    warnings = list(warnings)
    if isinstance(proxy, Problem):
        problems.append(proxy)
        proxy = None
    for route in manifest.routes:
        loaded = load_route(root, route)
        if isinstance(loaded, Problem):
            problems.append(loaded)
        else:
            warnings.extend(loaded.warnings)
            endpoints.append(make_endpoint(loaded))
    if problems:
        raise RouteTreeError(problems)
    return table_from(manifest, endpoints, warnings, proxy)


class FileRouter(Router):
    """Starlette's `Router`, with the file routes matched first and in constant time.

    Anything added the Starlette way (`app.mount(...)`, `app.add_route(...)`) is tried after the
    file routes, then Starlette's own 404 applies (so `exception_handlers={404: ...}` works).
    `table` is replaced whole by the dev server; a request holds the table it started with.
    """

    def __init__(self, table: RouteTable, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(redirect_slashes=False, **kwargs)
        self.table = table
        self.settings = settings or Settings()

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        table = self.table
        if table.proxy is not None:
            await table.proxy(scope, receive, send, partial(self._dispatch, table))
            return
        await self._dispatch(table, scope, receive, send)

    async def _dispatch(self, table: RouteTable, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        root_path = scope.get("root_path")
        if root_path and raw.startswith(root_path.encode("utf-8")):
            raw = raw[len(root_path) :] or b"/"
        endpoint = table.by_raw_path.get(raw)
        if endpoint is not None:
            scope["path_params"] = {}
        else:
            try:
                segments = split_path(raw)
            except BadPath as exc:
                await PlainTextResponse(f"Bad Request: {exc}.", status_code=400)(scope, receive, send)
                return
            if isinstance(segments, Redirect):
                await self._redirect(segments, scope, receive, send)
                return
            found = table.matcher.match(segments)
            if found is None:
                await super().app(scope, receive, send)
                return
            endpoint, scope["path_params"] = found
        app = endpoint.apps.get(scope["method"])
        if app is None:
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": endpoint.allow})
            await response(scope, receive, send)
            return
        scope["router"] = self
        await app(scope, receive, send)

    @staticmethod
    async def _redirect(redirect: Redirect, scope: Scope, receive: Receive, send: Send) -> None:
        location = redirect.location
        if scope.get("query_string"):
            location += "?" + scope["query_string"].decode("latin-1")
        await Response(status_code=308, headers={"location": location})(scope, receive, send)
