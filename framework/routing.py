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
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Router, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import cross_origin
from . import headers as request_context
from .errors import Problem, RouteTreeError
from .loader import Handler, LoadedRoute, load_route
from .manifest import Manifest, Route, build_manifest
from .matcher import Matcher
from .paths import BadPath, Redirect, matcher_text, raw_path_bytes, request_path_text, split_path, strip_root
from .proxy import ProxyApp, answer, load_proxy
from .scan import scan
from .settings import Settings

log = logging.getLogger("framework")


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


def body_cap(route_size: int | None, settings: Settings) -> int | None:
    """The cap a route serves with: its own `max_body_size`, else the server's; 0 means no cap."""
    size = settings.max_body_size if route_size is None else route_size
    return size or None


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
    return Endpoint(loaded.route, apps, allow, methods, body_cap(config.max_body_size, settings),
                    config.allow_cross_origin)


def error_endpoint(route: Route, app: ASGIApp, settings: Settings) -> Endpoint:
    """Every method answered by `app`: the dev server's stand-in for a route that failed to import."""
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    return Endpoint(route, {m: app for m in methods}, "", (), body_cap(None, settings))


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
    settings = settings or Settings()
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
            endpoints.append(make_endpoint(loaded, settings))
    if problems:
        raise RouteTreeError(problems)
    return table_from(manifest, endpoints, warnings, proxy)


class BodyTooLarge(HTTPException):
    """The request body is over the route's cap: 413, and the connection is not kept (the rest is unread)."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"Request body larger than {cap} bytes", {"connection": "close"})


def capped_receive(receive: Receive, cap: int) -> Receive:
    """`receive` that raises `BodyTooLarge` once more than `cap` body bytes have arrived (chunked uploads)."""
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise BodyTooLarge(cap)
        return message

    return wrapped


def body_framing(scope: Scope) -> int | None:
    """The declared body length; -1 when the body's length is not declared (chunked, or HTTP/2 without
    Content-Length) and must be counted as it streams; None when an HTTP/1 request has no body at all."""
    chunked = False
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
        if key == b"transfer-encoding":
            chunked = True
    return -1 if chunked or not scope.get("http_version", "1.1").startswith("1") else None


class FileRouter(Router):
    """Starlette's `Router`, with the file routes matched first and in constant time.

    One request, one path, one order (docs/security.md): the raw path is normalised once (`root_path`
    stripped, split, decoded, dot segments resolved; 400 / 308 here), matched, checked against the
    body cap and the cross-origin rules, then the proxy runs if its matcher accepts that same path, then
    the route. `scope["path"]` / `raw_path` are rewritten to the normalised path, so the proxy, the
    route and anything mounted the Starlette way (tried after the file routes, then Starlette's own 404,
    so `exception_handlers={404: ...}` works) all see one path. `table` is replaced whole by the dev
    server; a request holds the table it started with.
    """

    def __init__(self, table: RouteTable, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(redirect_slashes=False, **kwargs)
        self.table = table
        self.settings = settings or Settings()
        self.trusted_origins = frozenset(cross_origin.normalise_origin(o) for o in self.settings.trusted_origins)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await super().app(scope, receive, send)  # lifespan
            return
        table = self.table
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        prefix = b""
        if scope.get("root_path"):
            prefix, raw = strip_root(raw, scope["root_path"])
        endpoint = table.by_raw_path.get(raw)
        if endpoint is not None:
            scope["path_params"] = {}
            segments = None
        else:
            try:
                found = split_path(raw)
            except BadPath as exc:
                await answer(PlainTextResponse(f"Bad Request: {exc}.", status_code=400), scope, receive, send)
                return
            if isinstance(found, Redirect):
                await self._redirect(prefix, found, scope, receive, send)
                return
            segments = found
            path = prefix.decode("utf-8", "replace") + request_path_text(segments)
            if scope["path"] != path:  # dot segments or encoded dots resolved: every later stage sees the result
                scope["path"] = path
                scope["raw_path"] = prefix + raw_path_bytes(segments)
            matched = table.matcher.match(segments)
            if matched is not None:
                endpoint, scope["path_params"] = matched
        if kind == "websocket" or scope["method"] not in cross_origin.SAFE_METHODS:
            refused = self._refuse(endpoint, scope)
            if refused is not None:
                await answer(refused, scope, receive, send)
                return
        if kind == "http":
            cap = endpoint.body_cap if endpoint is not None else self.settings.max_body_size or None
            if cap is not None:
                length = body_framing(scope)
                if length == -1:
                    receive = capped_receive(receive, cap)
                elif length is not None and length > cap:
                    await PlainTextResponse(BodyTooLarge(cap).detail, 413, {"connection": "close"})(scope, receive, send)
                    return
        proxy = table.proxy
        try:
            if proxy is not None and (proxy.matcher is None or proxy.matcher.fullmatch(
                    endpoint.route.pattern if segments is None else matcher_text(segments))):  # type: ignore[union-attr]
                await proxy(scope, receive, send, partial(self._dispatch, endpoint))
            else:
                await self._dispatch(endpoint, scope, receive, send)
        except ClientDisconnect:
            log.info("%s %s: the client disconnected before sending the whole request body",
                     scope.get("method", "GET"), scope["path"].encode("unicode_escape").decode("ascii"))

    def _refuse(self, endpoint: Endpoint | None, scope: Scope) -> Response | None:
        """The cross-origin check, for unsafe methods and WebSocket handshakes (see `cross_origin`)."""
        if endpoint is not None and endpoint.allow_cross_origin:
            return None
        reason = cross_origin.refusal(scope["headers"], self.trusted_origins)
        if reason is None:
            return None
        log.info("refused a cross-origin %s %s (%s)", scope.get("method", "WebSocket"),
                 scope["path"].encode("unicode_escape").decode("ascii"), reason)
        return PlainTextResponse("Forbidden: cross-origin request refused", status_code=403)

    async def _dispatch(self, endpoint: Endpoint | None, scope: Scope, receive: Receive, send: Send) -> None:
        if endpoint is None or scope["type"] != "http":
            await super().app(scope, receive, send)  # routes added the Starlette way, then the 404
            return
        app = endpoint.apps.get(scope["method"])
        if app is None:
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": endpoint.allow})
            await response(scope, receive, send)
            return
        scope["router"] = self
        await app(scope, receive, send)

    @staticmethod
    async def _redirect(prefix: bytes, redirect: Redirect, scope: Scope, receive: Receive, send: Send) -> None:
        location = prefix.decode("latin-1") + redirect.location
        if scope.get("query_string"):
            location += "?" + scope["query_string"].decode("latin-1")
        await answer(Response(status_code=308, headers={"location": location}), scope, receive, send)
