"""`max_duration = S` in a route module: a request whose handler runs longer is cut off.

| when the limit passes                    | the client gets                       | the handler                       |
|------------------------------------------|---------------------------------------|-----------------------------------|
| before the response started (usual case) | `504 Gateway Timeout`                 | async: cancelled; sync: see below |
| while the response streams               | the connection closed (no clean end)  | cancelled                         |

The limit covers the handler and the sending of its response. Each cut is logged with the method,
path, route file and limit. A sync handler runs in a thread, and Python cannot stop a thread: it runs
to its end, holding one of the thread pool's workers, and its result is discarded (nothing it sends
reaches the client). Applied at load time only to the routes that set `max_duration`.
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


class _Gate:
    """The handler's `send`: passes messages on until the limit passes, then drops them (the handler may
    still be running, a sync one surely is); remembers whether the response has started."""

    __slots__ = ("closed", "send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False
        self.closed = False

    async def __call__(self, message: Message) -> None:
        if self.closed:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


def _forget(task: asyncio.Task[None]) -> None:
    """Done callback of a handler cut off by its limit: its outcome has no one to go to."""
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "exception was never retrieved"


def deadline_app(app: ASGIApp, seconds: float, file: str) -> ASGIApp:
    """`app` cut off after `seconds`: 504, or the connection closed if the response had started.

    The handler runs in a task of its own, so the 504 leaves on time even when the handler cannot be
    cancelled at once (a sync handler's thread, a `finally` that awaits).
    """

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        gate = _Gate(send)
        task = asyncio.ensure_future(app(scope, receive, gate))
        try:
            done, _ = await asyncio.wait((task,), timeout=seconds)
        finally:
            if not task.done():  # the limit passed, or this request itself was cancelled (shutdown)
                gate.closed = True
                task.cancel()
                task.add_done_callback(_forget)
        if done:
            return task.result()  # the handler's own exception, if any, goes on as without a limit
        what = f"{scope['method']} {scope['path'].encode('unicode_escape').decode('ascii')}"
        if gate.started:
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
