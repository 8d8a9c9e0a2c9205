"""The thin Starlette edge: one router over the route table.

Per request: a dict lookup on the raw path for static routes (else split, decode, walk the
segment tree), the body cap and the cross-origin check, the proxy, then a dict lookup on the method.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Router
from starlette.types import Message, Receive, Scope, Send

from . import cross_origin
from .cross_origin import SAFE_METHODS
from .endpoints import Endpoint
from .headers import STATE_KEY
from .instrumentation import ENV_STARTUP_REPORT, ErrorContext, StartupFailed, report_error
from .paths import BadPath, Redirect, matcher_text, raw_path_bytes, request_path_text, split_path, strip_root
from .patterns import compile_matcher, substitute
from .proxy import ProxyApp, answer
from .public import SEGMENTS_KEY
from .request_body import BODY_KEY
from .server import run_after
from .settings import RedirectRule, Settings
from .table import RouteTable

log = logging.getLogger("framework")
_REPORTED = "_framework_reported"  # set on an exception on_request_error was told about
_NOT_ERRORS = (HTTPException, WebSocketException, ClientDisconnect)  # answers and departures, not errors


def method_of(scope: Scope) -> str:
    return "WEBSOCKET" if scope["type"] == "websocket" else str(scope["method"])


def connection(scope: Scope, receive: Receive) -> HTTPConnection:
    """What `on_request_error` gets as `request`: a `Request` (a plain `HTTPConnection` for a WebSocket)."""
    return Request(scope, receive) if scope["type"] == "http" else HTTPConnection(scope)


class MethodNotAllowed(HTTPException):
    """405 for a method the route does not export, with its `Allow`; raised so exception handlers (the dev
    page, the proxy's `next(headers=...)`) see it. `endpoint` is the route that refused."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(405, headers={"allow": endpoint.allow})
        self.endpoint = endpoint


class NoRoute(HTTPException):
    """404 for a URL nothing answers (no route, no public file); `not_found()` from a route is not one."""

    def __init__(self) -> None:
        super().__init__(404)


# A dict the dev server's request log puts in the scope; the router notes in it which file answered:
# "proxy" (the proxy ran) and "route" (the route file, None for a 404). Absent in `framework start`.
TRACE_KEY = "framework.trace"


def note_answer(scope: Scope, key: str, file: str | None) -> None:
    """Record in the request's trace (when there is one) that `file` is answering as `key`."""
    trace = scope.get(TRACE_KEY)
    if trace is not None:
        trace[key] = file


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


def file_like(raw: bytes) -> bool:
    """A last segment with a dot (`/feed.xml`, `/robots.txt`): `trailing_slash = true` leaves it without one."""
    return b"." in raw.rsplit(b"/", 1)[-1]


@dataclass(frozen=True, slots=True)
class PathRules:
    """`[tool.framework]` redirects and headers, compiled once; matched on the path the router dispatches."""

    redirects: tuple[tuple[re.Pattern[str], RedirectRule], ...]
    headers: tuple[tuple[re.Pattern[str], tuple[tuple[bytes, bytes], ...]], ...]

    @classmethod
    def of(cls, settings: Settings) -> PathRules:
        return cls(
            tuple((compile_matcher(r.source, named=True), r) for r in settings.redirects),
            tuple(
                (
                    compile_matcher(h.source),
                    tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in h.headers),
                )
                for h in settings.headers
            ),
        )

    def redirect(self, text: str, scope: Scope) -> Response | None:
        """The first redirect whose source matches: 308 (permanent) or 307, the query passed on."""
        for regex, rule in self.redirects:
            match = regex.fullmatch(text)
            if match is not None:
                location = substitute(rule.destination, match)
                if location.startswith("/"):  # a path of this app: under its prefix (root_path, base_path)
                    location = scope.get("root_path", "") + location
                query = scope.get("query_string", b"").decode("latin-1")
                if query:
                    location += ("&" if "?" in location else "?") + query
                return Response(status_code=308 if rule.permanent else 307, headers={"location": location})
        return None

    def with_headers(self, text: str, send: Send) -> Send:
        """`send` adding the headers of every rule that matches, unless the response sets them itself."""
        extra = [pair for regex, pairs in self.headers if regex.fullmatch(text) for pair in pairs]
        if not extra:
            return send

        async def send_with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                present = {k.lower() for k, _ in message.get("headers", ())}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            await send(message)

        return send_with_headers


class FileRouter(Router):
    """Starlette's `Router`, with the file routes matched first and in constant time.

    One request, one path, one order (docs/security.md): the raw path is normalised once (`root_path`
    stripped, split, decoded, dot segments resolved; 400 / 308 here), matched, checked against the
    body cap and the cross-origin rules, then the proxy runs if its matcher accepts that same path, then
    the route. `scope["path"]` / `raw_path` are rewritten to the normalised path, so the proxy, the
    route and anything mounted the Starlette way (tried after the file routes, then `public/`, then the
    404 raised as `NoRoute`, so `exception_handlers={404: ...}` and `app/not_found.py` answer it) all see
    one path. A handler's (or the proxy's) unhandled exception goes to instrumentation.py's
    `on_request_error` before it goes on to the 500. `table` is replaced whole by the dev server; a
    request holds the table it started with.
    """

    def __init__(self, table: RouteTable, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(redirect_slashes=False, **kwargs)
        self.table = table
        self.settings = settings = settings or Settings()
        self.trusted_origins = frozenset(settings.trusted_origins)
        self.base_path = settings.base_path
        self.trailing_slash = settings.trailing_slash
        self.path_rules = PathRules.of(settings) if settings.headers or settings.redirects else None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await super().app(scope, receive, send)  # lifespan
            return
        table = self.table
        located = self._locate(scope, table)
        if isinstance(located, Response):  # 400, 308 or 404 before anything else runs
            await answer(located, scope, receive, send)
            return
        raw, segments, endpoint = located
        if endpoint is not None and endpoint.pending is not None:  # framework dev: imported on first use
            endpoint = await run_in_threadpool(endpoint.ready)
        proxy, rules = table.proxy, self.path_rules
        text = ""  # the path the matchers see; written only when one is there to read it
        if rules is not None or (proxy is not None and proxy.matcher is not None):
            text = matcher_text(segments) if segments is not None else raw.decode("utf-8")
        if rules is not None:
            redirect = rules.redirect(text, scope)
            if redirect is not None:
                await answer(redirect, scope, receive, send)
                return
            send = rules.with_headers(text, send)
        if kind == "http":
            if scope["method"] not in SAFE_METHODS and (refused := self._refuse(endpoint, scope)) is not None:
                await answer(refused, scope, receive, send)
                return
            cap = endpoint.body_cap if endpoint is not None else self.settings.max_body_size
            if cap is not None:
                length = body_framing(scope)
                scope[BODY_KEY] = length
                if length == -1:
                    receive = capped_receive(receive, cap)
                elif length is not None and length > cap:
                    await PlainTextResponse(BodyTooLarge(cap).detail, 413, {"connection": "close"})(
                        scope, receive, send
                    )
                    return
        elif (refused := self._refuse(endpoint, scope)) is not None:  # every WebSocket handshake is checked
            await answer(refused, scope, receive, send)
            return
        if proxy is not None and proxy.matcher is not None and proxy.matcher.fullmatch(text) is None:
            proxy = None  # the matcher sees the path the router dispatches
        try:
            if proxy is not None:
                note_answer(scope, "proxy", proxy.file)
                await self._proxied(proxy, endpoint, scope, receive, send)
            else:
                await self._dispatch(endpoint, scope, receive, send)
        except ClientDisconnect:
            log.info(
                "%s %s: the client disconnected before sending the whole request body",
                scope.get("method", "GET"),
                scope["path"].encode("unicode_escape").decode("ascii"),
            )

    def _locate(
        self, scope: Scope, table: RouteTable
    ) -> tuple[bytes, tuple[str, ...] | None, Endpoint | None] | Response:
        """Normalise the path once and match it: (the raw path under the app's prefix, its segments or None
        for a static route found by its raw path, the endpoint), or the answer when the path is not one.

        `root_path` and `base_path` are stripped (the latter added to `root_path`, so the app behaves as
        if mounted there); `scope["path"]` and `raw_path` are rewritten to the normalised path."""
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        prefix = b""
        if scope.get("root_path"):
            prefix, raw = strip_root(raw, scope["root_path"])
        if self.base_path:
            base, raw = strip_root(raw, self.base_path)
            if not base:
                return PlainTextResponse("Not Found", status_code=404)  # outside the app's base path
            prefix += base
            scope["root_path"] = scope.get("root_path", "") + self.base_path
        slash = self.trailing_slash and raw != b"/" and raw.endswith(b"/")
        if slash:
            raw = raw[:-1]
        endpoint = table.by_raw_path.get(raw)
        found: tuple[str, ...] | None = None
        if endpoint is None:
            try:
                parsed = split_path(raw)
            except BadPath as exc:
                return PlainTextResponse(f"Bad Request: {exc}.", status_code=400)
            if isinstance(parsed, Redirect):
                return self._redirect(prefix, parsed, scope)
            found = parsed
        if self.trailing_slash and raw != b"/":
            canonical = raw if found is None else raw_path_bytes(found)
            if slash == file_like(canonical):  # /about wants its `/`, /feed.xml/ does not
                return self._redirect(prefix, Redirect(canonical.decode("latin-1")), scope)
        if found is None:
            scope["path_params"] = {}
            return raw, None, endpoint
        path = request_path_text(found)
        if prefix or slash:
            path = prefix.decode("utf-8", "replace") + path + ("/" if slash and found else "")
        if scope["path"] != path:  # dot segments or encoded dots resolved: every later stage sees the result
            scope["path"] = path
            scope["raw_path"] = prefix + raw_path_bytes(found) + (b"/" if slash and found else b"")
        matched = table.matcher.match(found)
        if matched is None:
            scope[SEGMENTS_KEY] = found  # for public/
            return raw, found, None
        endpoint, scope["path_params"] = matched
        return raw, found, endpoint

    def _refuse(self, endpoint: Endpoint | None, scope: Scope) -> Response | None:
        """The cross-origin check, for unsafe methods and WebSocket handshakes (see `cross_origin`)."""
        if endpoint is not None and endpoint.allow_cross_origin:
            return None
        reason = cross_origin.refusal(scope["headers"], self.trusted_origins)
        if reason is None:
            return None
        log.info(
            "refused a cross-origin %s %s (%s)",
            scope.get("method", "WebSocket"),
            scope["path"].encode("unicode_escape").decode("ascii"),
            reason,
        )
        return PlainTextResponse("Forbidden: cross-origin request refused", status_code=403)

    async def _dispatch(self, endpoint: Endpoint | None, scope: Scope, receive: Receive, send: Send) -> None:
        if TRACE_KEY in scope:
            note_answer(scope, "route", endpoint.route.file if endpoint is not None else None)
        if endpoint is None:
            await super().app(scope, receive, send)  # routes added the Starlette way, then the 404
            return
        if scope["type"] != "http":
            await self._websocket(endpoint, scope, receive, send)
            return
        app = endpoint.apps.get(scope["method"])
        if app is None:
            raise MethodNotAllowed(endpoint)
        scope["router"] = self
        try:
            await app(scope, receive, send)
        except Exception as exc:  # no frame added on the way in: only an error pays for the report
            await self._report(exc, scope, receive, endpoint)
            raise
        finally:
            state = scope.get(STATE_KEY)
            if state is not None and state.after:  # after() was called: the response is out by now
                await run_after(state.after, endpoint.route.file)

    async def _websocket(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        """A handshake to a file route goes to its WEBSOCKET. Without one, a route added the Starlette way
        for the same path still gets it (how WebSockets were served before, also under a catch-all file
        route); else 403, with a log line saying why."""
        app = endpoint.websocket
        if app is not None:
            scope["router"] = self
            try:
                await app(scope, receive, send)
            except Exception as exc:
                await self._report(exc, scope, receive, endpoint)
                raise
        elif any(route.matches(scope)[0] is Match.FULL for route in self.routes):
            await super().app(scope, receive, send)
        else:
            log.info(
                "refused a WebSocket to %s: %s exports no WEBSOCKET (add `async def WEBSOCKET(websocket): ...`)",
                scope["path"].encode("unicode_escape").decode("ascii"),
                endpoint.route.file,
            )
            await answer(
                PlainTextResponse("Forbidden: no WebSocket at this URL", status_code=403), scope, receive, send
            )

    async def _proxied(
        self, proxy: ProxyApp, endpoint: Endpoint | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """The proxy, then the route; an error of the proxy itself goes to `on_request_error` too."""
        try:
            await proxy(scope, receive, send, partial(self._dispatch, endpoint))
        except Exception as exc:
            if not getattr(exc, _REPORTED, False) and not isinstance(exc, _NOT_ERRORS):
                route = endpoint.route.pattern if endpoint is not None else None
                where = ErrorContext(route, getattr(proxy, "file", "proxy.py"), method_of(scope), "proxy")
                await report_error(self.table.instrumentation, exc, connection(scope, receive), where)
            raise

    async def _report(self, exc: Exception, scope: Scope, receive: Receive, endpoint: Endpoint) -> None:
        """A handler's error to `on_request_error`, once: marked, so the proxy around it does not report it again."""
        if not isinstance(exc, _NOT_ERRORS):
            setattr(exc, _REPORTED, True)
            where = ErrorContext(endpoint.route.pattern, endpoint.route.file, method_of(scope))
            await report_error(self.table.instrumentation, exc, connection(scope, receive), where)

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """After the file routes and the Starlette ones: a file of `public/`, else `NoRoute` (404)."""
        public, segments = self.table.public, scope.get(SEGMENTS_KEY)
        if scope["type"] == "http" and public is not None and segments is not None:
            response = await public.response(scope, segments)
            if response is not None:
                await response(scope, receive, send)
                return
        if scope["type"] == "http":
            raise NoRoute()
        await super().not_found(scope, receive, send)  # a WebSocket: closed

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's lifespan, with a `register()` failure told in one line (its problem: file, line,
        fix) instead of a traceback; `framework start` prints it itself (`ENV_STARTUP_REPORT`)."""

        async def send_one_line(message: Message) -> None:
            failed = sys.exc_info()[1]  # sent from Starlette's `except` around the lifespan
            if message["type"] == "lifespan.startup.failed" and isinstance(failed, StartupFailed):
                message = {**message, "message": "" if os.environ.get(ENV_STARTUP_REPORT) else str(failed)}
            await send(message)

        await super().lifespan(scope, receive, send_one_line)

    def _redirect(self, prefix: bytes, redirect: Redirect, scope: Scope) -> Response:
        """308 to the clean path (empty segments dropped; with `trailing_slash`, the `/` the URL lacks),
        relative, under the app's prefix, the query kept."""
        location = prefix.decode("latin-1") + redirect.location
        if self.trailing_slash and redirect.location != "/" and not file_like(redirect.location.encode("latin-1")):
            location += "/"
        if scope.get("query_string"):
            location += "?" + scope["query_string"].decode("latin-1")
        return Response(status_code=308, headers={"location": location})
