"""The thin Starlette edge: one router over the route table.

Per request: a dict lookup on the raw path for static routes (else split, decode, walk the
segment tree), the body cap and the cross-origin check, the proxy, then a dict lookup on the method.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

from . import cross_origin
from .endpoints import Endpoint
from .headers import STATE_KEY
from .paths import BadPath, Redirect, matcher_text, raw_path_bytes, request_path_text, split_path, strip_root
from .proxy import answer
from .server import run_after
from .settings import Settings
from .table import RouteTable

log = logging.getLogger("framework")


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


def starlette_app(root: Path, table: RouteTable, settings: Settings, **starlette_options: Any) -> Starlette:
    """A Starlette application whose router is a `FileRouter` over `table`; routes added the Starlette way
    (`routes=`, `app.mount`) are tried after the file routes."""
    app = Starlette(**starlette_options)
    app.router = FileRouter(table, settings, routes=app.router.routes, lifespan=app.router.lifespan_context)
    app.state.framework_root = root
    return app


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
        self.trusted_origins = frozenset(self.settings.trusted_origins)

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
            cap = endpoint.body_cap if endpoint is not None else self.settings.max_body_size
            if cap is not None:
                length = body_framing(scope)
                if length == -1:
                    receive = capped_receive(receive, cap)
                elif length is not None and length > cap:
                    await PlainTextResponse(BodyTooLarge(cap).detail, 413, {"connection": "close"})(
                        scope, receive, send
                    )
                    return
        proxy = table.proxy
        if proxy is not None and proxy.matcher is not None:  # the matcher sees the path the router dispatches
            text = matcher_text(segments) if segments is not None else raw.decode("utf-8")
            if proxy.matcher.fullmatch(text) is None:
                proxy = None
        try:
            if proxy is not None:
                await proxy(scope, receive, send, partial(self._dispatch, endpoint))
            else:
                await self._dispatch(endpoint, scope, receive, send)
        except ClientDisconnect:
            log.info(
                "%s %s: the client disconnected before sending the whole request body",
                scope.get("method", "GET"),
                scope["path"].encode("unicode_escape").decode("ascii"),
            )

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
        if endpoint is None or scope["type"] != "http":
            await super().app(scope, receive, send)  # routes added the Starlette way, then the 404
            return
        app = endpoint.apps.get(scope["method"])
        if app is None:
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": endpoint.allow})
            await response(scope, receive, send)
            return
        scope["router"] = self
        try:
            await app(scope, receive, send)
        finally:
            state = scope.get(STATE_KEY)
            if state is not None and state.after:  # after() was called: the response is out by now
                await run_after(state.after, endpoint.route.file)

    @staticmethod
    async def _redirect(prefix: bytes, redirect: Redirect, scope: Scope, receive: Receive, send: Send) -> None:
        location = prefix.decode("latin-1") + redirect.location
        if scope.get("query_string"):
            location += "?" + scope["query_string"].decode("latin-1")
        await answer(Response(status_code=308, headers={"location": location}), scope, receive, send)
