"""`max_duration = S` in a route module: a request whose handler runs longer is cut off.

| when the limit passes                    | the client gets                       | the handler                       |
|------------------------------------------|---------------------------------------|-----------------------------------|
| before the response started (usual case) | `504 Gateway Timeout`                 | async: cancelled; sync: see below |
| while the response streams               | the connection closed (no clean end)  | cancelled                         |

The limit covers the handler and the sending of its response. Each cut is logged with the method,
path, route file and limit. The request's task is cancelled at the limit. A sync handler runs in a
thread, and Python cannot stop a thread: the request stops waiting for it and answers 504 at once,
while the thread runs to its end and its result is discarded. (An async handler that catches the
cancellation and carries on answers when it returns.) Applied at load time, only to the routes that
set `max_duration`; it costs them a timer per request.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("framework")


class DurationExceeded(Exception):
    """The limit passed after the response had started: raised so that the server closes the connection
    (a response cut short must not look complete to the client)."""


class _Tracked:
    """The handler's `send`, remembering whether the response has started."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


def deadline_app(app: ASGIApp, seconds: float, file: str) -> ASGIApp:
    """`app` cut off after `seconds`: 504, or the connection closed if the response had started.

    The request's task is cancelled at the limit (`asyncio.timeout`): an async handler stops at the
    `await` it was in; a sync one stops being waited for, while its thread runs on.
    """

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        tracked = _Tracked(send)
        timeout = asyncio.timeout(seconds)
        try:
            async with timeout:
                await app(scope, receive, tracked)
            return
        except TimeoutError:
            if not timeout.expired():
                raise  # the handler's own (a socket timeout): a 500, as without a limit
        what = f"{scope['method']} {scope['path'].encode('unicode_escape').decode('ascii')}"
        if tracked.started:
            log.warning(
                "%s: %s ran longer than max_duration = %g s after its response had started; connection closed",
                what,
                file,
                seconds,
            )
            raise DurationExceeded(f"{what}: {file} ran longer than max_duration = {seconds:g} s")
        log.warning("%s: %s ran longer than max_duration = %g s; answered 504", what, file, seconds)
        await PlainTextResponse("Gateway Timeout", status_code=504)(scope, receive, send)

    return limited
