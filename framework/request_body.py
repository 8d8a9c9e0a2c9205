"""A request body read while its response streams: one receive channel shared by two readers.

`BODY_KEY` holds the router's reading of the body's framing, so the handler's app does not scan the
headers again.
"""

from __future__ import annotations

from collections import deque

import anyio
from starlette.types import Message, Receive, Scope


class SharedReceive:
    """One receive channel, two readers: the request body (read by the handler, maybe while its
    response streams) and a streaming response's disconnect listener. A body message the listener
    happens to read is kept for the body reader instead of being dropped, so echoing
    `request.stream()` in a `StreamingResponse` delivers every chunk (Starlette's listener reads the
    same channel under ASGI spec 2.3, which uvicorn speaks)."""

    __slots__ = ("_lock", "_pending", "_receive")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._pending: deque[Message] = deque()
        self._lock = anyio.Lock()

    async def body(self) -> Message:
        while not self._pending:
            async with self._lock:
                if not self._pending:
                    return await self._receive()
        return self._pending.popleft()

    async def disconnect(self) -> Message:
        while True:
            async with self._lock:
                message = await self._receive()
            if message["type"] != "http.request":
                return message
            self._pending.append(message)


# The router's reading of the body's framing (`routing.body_framing`), kept in the scope so the handler's
# app does not scan the headers again: the declared length, -1 undeclared (chunked, HTTP/2), None no body.
BODY_KEY = "framework.body"


def body_may_follow(scope: Scope) -> bool:
    """A request body is declared (a non-zero Content-Length, or chunked), or the protocol is HTTP/2+."""
    if BODY_KEY in scope:
        length = scope[BODY_KEY]
        return length is not None and length != 0
    for key, value in scope["headers"]:
        if key == b"content-length":
            return bool(value != b"0")
        if key == b"transfer-encoding":
            return True
    return not scope.get("http_version", "1.1").startswith("1")
