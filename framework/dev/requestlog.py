"""One terminal line per request, as `next dev` prints them: method, path, status, milliseconds.

    GET /api/users/7 200 in 4 ms
    GET /nowhere 404 in 1 ms
    GET /admin 307 in 2 ms (proxy.py)
    GET /api/report 500 in 9 ms (app/api/report/route.py)
    WS /chat/lobby 101 in 3 ms
    GET /events 200 in 20412 ms

| the request                                   | when its line is printed, and what it says                     |
|-----------------------------------------------|----------------------------------------------------------------|
| answered by a route, or 404                   | once the last byte of the body is handed to the server          |
| a stream (`StreamingResponse`, server-sent events) | when the stream ends: the time is the stream's whole life; nothing while it runs |
| answered by the proxy without reaching a route | `(proxy.py)` after the time                                    |
| a 5xx                                         | after the error's own line, naming the route file (the proxy's when it answered) |
| a WebSocket handshake                         | `WS`, when it is accepted (101) or refused (its status); the socket's life after is not logged |
| the client left, or the handler stopped, before the end | when the handler returns, with `(response not finished)` or `(no response sent)` |
| refused by the Host check (`hosts.py`)        | not printed: that layer is outside this one                     |

The path is the one the client sent (percent-decoded), through `printable`. `framework dev --quiet` leaves
this layer out. The router notes which file answered in the scope (`routing.TRACE_KEY`).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..routing import TRACE_KEY
from .terminal import Console

_FINAL_BODY = frozenset({"http.response.body", "websocket.http.response.body"})
_STATUS = frozenset({"http.response.start", "websocket.http.response.start"})


class RequestLine:
    """One request's line: the status it was answered with, who answered, printed once."""

    __slots__ = ("console", "method", "path", "printed", "sent", "started", "status", "trace")

    def __init__(self, console: Console, method: str, path: str) -> None:
        self.console, self.method, self.path = console, method, path
        self.started = time.perf_counter()
        self.status: int | None = None
        self.sent = self.printed = False
        self.trace: dict[str, str | None] = {}

    def seen(self, message: Message) -> bool:
        """Note what `message` says about the answer; True once the answer is complete."""
        kind = message["type"]
        if kind in _STATUS:
            self.status = message["status"]
            return False
        if kind == "websocket.accept":
            self.status = 101
        elif kind == "websocket.close":
            self.status = self.status or 403  # a close before the accept refuses the handshake: the server says 403
        elif kind not in _FINAL_BODY or message.get("more_body", False):
            return False
        self.sent = True
        return True

    def answered_by(self) -> str | None:
        """The file to name: the proxy's when it answered without the route, the route's for a 5xx."""
        trace = self.trace
        if "proxy" in trace and "route" not in trace:
            return trace["proxy"]
        if self.status is not None and self.status >= 500:
            return trace.get("route") or trace.get("proxy")
        return None

    def print(self) -> None:
        if self.printed:
            return
        self.printed = True
        ms = (time.perf_counter() - self.started) * 1000
        notes = [note for note in (self.answered_by(), self._unfinished()) if note]
        self.console.request(self.method, self.path, self.status, ms, f" ({'; '.join(notes)})" if notes else "")

    def _unfinished(self) -> str | None:
        if self.sent:
            return None
        return "no response sent" if self.status is None else "response not finished"


def request_log(app: ASGIApp, console: Console) -> ASGIApp:
    """`app`, printing one line per HTTP request and WebSocket handshake on `console`."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await app(scope, receive, send)
            return
        line = RequestLine(console, scope["method"] if kind == "http" else "WS", scope["path"])
        scope[TRACE_KEY] = line.trace

        async def send_and_note(message: Message) -> None:
            await send(message)
            if not line.printed and line.seen(message) and (line.status or 0) < 500:
                line.print()  # a 5xx waits for the handler to return: the error's own line comes first

        try:
            await app(scope, receive, send_and_note)
        finally:
            line.print()

    return logged
