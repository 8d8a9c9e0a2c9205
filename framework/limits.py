"""Server limits for uvicorn: request-head size (431), head timeout (408), concurrency (503).

uvicorn's default httptools protocol has neither a head-size limit nor a head timer: one connection
could send 300 MiB of headers (the parser keeps them all), and thousands of connections trickling a
byte now and then were held forever. The protocols here are uvicorn's own, subclassed at the few
points that matter:

- **head size**: while a request head is incomplete, the bytes fed to the parser are counted; a read
  that would take the count past `max_head_size` is fed only up to the limit, and if the head did
  not complete within it the client gets 431 and the connection is closed. The parser never holds
  more than `max_head_size` bytes of a head, one giant header value included, and body bytes that
  arrive in the same read as the end of the head are never counted.
- **head timeout**: a connection's head has a start time, set when the connection opens and when a
  read leaves a head unfinished (never for a request whose head arrives in one read, the common
  case), cleared when the head completes. One sweep per server (`HeadSweep`) cuts heads older than
  `head_timeout`: 408, or, if the client sent nothing yet, just disconnected. No timer per request
  nor per connection. Idle keep-alive connections are uvicorn's keep-alive timeout's business (5 s).
- **concurrency**: uvicorn's `limit_concurrency`, 503 beyond it.

Without httptools, uvicorn's h11 protocol is the fallback, with the same count and timeout; h11's own
`max_incomplete_event_size` is set to the same limit as a backstop (uvicorn answers its refusal 400).

What is not counted: bytes of a pipelined request that arrive in the same read as the end of the
previous message. That is at most one read (256 KiB with uvloop), so memory stays bounded.

WebSocket connections use uvicorn's default protocol with one fix: a refused handshake (a denial
response) is not logged as an error (`DenialWebSocketProtocol`).

`uvicorn_options(settings)` turns `Settings` into `uvicorn.Config` keyword arguments; `framework start`
and `framework dev` both use it. Worker processes (`--workers N`) cannot receive a class built at run
time, so they get the import string `framework.limits:WorkerProtocol`, which builds the protocol from
the settings in `FRAMEWORK_SETTINGS` (`Settings.to_env()`).
"""

from __future__ import annotations

import asyncio
import functools
import http
import importlib.util
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .escape import uvicorn_log_config
from .settings import Settings

WORKER_PROTOCOL = f"{__name__}:WorkerProtocol"
HAVE_HTTPTOOLS = importlib.util.find_spec("httptools") is not None

log = logging.getLogger("uvicorn.error")
_DEFAULTS = Settings()


def refusal(status: int, text: str) -> bytes:
    """A complete `connection: close` response, written straight to the socket (no app involved)."""
    body = f"{text}\n".encode("ascii")
    return (
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


HEAD_TOO_LARGE = refusal(431, "Request Header Fields Too Large")
HEAD_TOO_SLOW = refusal(408, "Request Timeout")


class HeadSweep:
    """One periodic look per server at the connections still sending a head, instead of a timer per
    connection: arming and cancelling a timer costs about 3 us with uvloop, a good part of a request
    on a new connection, while this costs one `loop.time()` per connection and, per tick, a walk
    over the open connections (some microseconds per thousand). It runs while there are
    connections and stops with the last one; the next connection starts it again.

    A head is cut between `head_timeout` and `head_timeout` + one interval (`head_timeout` / 10, at
    most 1 s) after it began."""

    def __init__(self, loop: asyncio.AbstractEventLoop, connections: set[Any], head_timeout: float) -> None:
        self.loop, self.connections = loop, connections
        self.interval = min(1.0, head_timeout / 10)
        self.running = False

    def start(self) -> None:
        if not self.running:
            self.running = True
            self.loop.call_later(self.interval, self.tick)

    def tick(self) -> None:
        now = self.loop.time()
        for connection in list(self.connections):  # a refusal closes connections: iterate over a copy
            since = getattr(connection, "_head_since", None)  # WebSocket connections have none
            if since is not None and now - since >= connection.head_timeout:
                connection._head_timed_out()
        if self.connections:
            self.loop.call_later(self.interval, self.tick)
        else:
            self.running = False


SWEEP = "framework_head_sweep"  # the attribute holding a server's sweep on its uvicorn ServerState


class HeadLimits:
    """The head-size count and the head timeout, shared by both protocols. Mixed in before uvicorn's
    protocol class, whose `data_received` it wraps and whose `loop`, `transport`, `cycle`, `client`
    and `server_state` it uses. The subclass keeps `_reading_head` true while the next bytes belong
    to a request head, and clears `_head_since` when a head completes.

    Its state lives in slots, not in the instance `__dict__`: uvicorn's protocols already hold 28
    attributes there, and past 30 CPython stops sharing the dict's keys between instances (each
    protocol then had a 1.5 KiB dict of its own instead of 0.3 KiB, and attribute reads left their
    fast path)."""

    __slots__ = ("_head_fed", "_head_since", "_upgraded")

    max_head_size: int = _DEFAULTS.max_head_size
    head_timeout: float = _DEFAULTS.head_timeout

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    client: tuple[str, int] | None
    server_state: Any
    _reading_head: bool
    _head_fed: int  # bytes of the current, unfinished head fed to the parser
    _head_since: float | None  # loop time the unfinished head (or the connection) began
    _upgraded: bool

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._reading_head_start()
        self._head_fed, self._upgraded = 0, False
        self._head_since = self.loop.time()  # a client that connects and sends nothing is cut too
        sweep = getattr(self.server_state, SWEEP, None)  # one per server: the ServerState is shared by its connections
        if sweep is None:
            sweep = HeadSweep(self.loop, self.server_state.connections, self.head_timeout)
            setattr(self.server_state, SWEEP, sweep)
        if not sweep.running:
            sweep.start()

    def _reading_head_start(self) -> None:
        """Set up the subclass's head state for a new connection."""

    def data_received(self, data: bytes) -> None:
        while self._reading_head:
            room = self.max_head_size - self._head_fed
            if len(data) <= room:
                self._head_fed += len(data)
                super().data_received(data)  # type: ignore[misc]
                break
            # More than the head may still take: feed what fits and see whether the head ends in it.
            self._head_fed = self.max_head_size
            if room:
                super().data_received(data[:room])  # type: ignore[misc]
            if self._upgraded or self.transport.is_closing():  # a WebSocket now, or a 400 from the parser
                return
            if self._reading_head and self._head_fed == self.max_head_size:
                log.warning(
                    "%s: request head over %d bytes: 431, connection closed", _peer(self.client), self.max_head_size
                )
                self._refuse(HEAD_TOO_LARGE)
                return
            data = data[room:]  # the head ended within the limit: the rest is body or the next request
        else:
            super().data_received(data)  # type: ignore[misc]
        if self._reading_head:
            if self._head_fed and self._head_since is None:  # this read left a head unfinished
                self._head_since = self.loop.time()
        elif self._head_fed:  # h11 (no head callback): the head is complete
            self._head_fed, self._head_since = 0, None

    def _head_timed_out(self) -> None:
        """Called by the sweep once the head is `head_timeout` old."""
        self._head_since = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self._head_fed:
            log.warning(
                "%s: request head not complete within %g s: 408, connection closed",
                _peer(self.client),
                self.head_timeout,
            )
            self._refuse(HEAD_TOO_SLOW)
        else:
            self.transport.close()  # connected and sent nothing: no response to give

    def _refuse(self, response: bytes) -> None:
        """Answer `response` and close. If a response to an earlier (pipelined) request is still being
        sent, writing ours would corrupt it: close without one."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(response)
        self.transport.close()


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "client"


class LimitedH11Protocol(HeadLimits, H11Protocol):
    """uvicorn's h11 protocol with the head-size count and the head timeout.

    h11 reads a head only while the client's state is IDLE; within one read it cannot return to
    IDLE once the head is complete (that takes our response), so the count needs no callback:
    `data_received` sees the state change after the read."""

    @property
    def _reading_head(self) -> bool:  # type: ignore[override]  # the httptools subclass keeps a plain attribute
        return self.conn.their_state is h11.IDLE

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True
        super().handle_websocket_upgrade(event)


if HAVE_HTTPTOOLS:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class LimitedHttpToolsProtocol(HeadLimits, HttpToolsProtocol):
        """uvicorn's httptools protocol with the head-size count and the head timeout. The parser's
        callbacks keep `_reading_head`: true from the end of one message (or the connection's start)
        to the end of the next head."""

        __slots__ = ("_reading_head",)

        def _reading_head_start(self) -> None:
            self._reading_head = True

        # The parser calls these once per request: the base is called directly, not through super().
        def on_headers_complete(self) -> None:
            self._reading_head, self._head_fed, self._head_since = False, 0, None
            HttpToolsProtocol.on_headers_complete(self)

        def on_message_complete(self) -> None:
            self._reading_head = True
            HttpToolsProtocol.on_message_complete(self)

        def handle_websocket_upgrade(self) -> None:
            self._upgraded = True
            super().handle_websocket_upgrade()


try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # an older uvicorn, or no `websockets` package: uvicorn's choice, which has no such slip
    WS_PROTOCOL = "auto"
else:

    class DenialWebSocketProtocol(WebSocketsSansIOProtocol):
        """uvicorn's default WebSocket protocol, told that a refused handshake is finished once the
        refusal's body is out (how the proxy, the router and the dev error page refuse an upgrade).
        Without this it logs "ASGI callable returned without completing handshake." at ERROR after
        every such refusal, though the client got the response (Kludex/uvicorn#3138)."""

        async def send(self, message: Any) -> None:
            await super().send(message)
            if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
                self.handshake_complete = True

    WS_PROTOCOL = f"{__name__}:DenialWebSocketProtocol"  # a string: worker processes import it too


@functools.lru_cache(maxsize=8)
def protocol_class(max_head_size: int, head_timeout: float, use_httptools: bool = HAVE_HTTPTOOLS) -> type:
    """The limited protocol (httptools when installed, else h11) bound to these limits."""
    base: type = LimitedHttpToolsProtocol if use_httptools else LimitedH11Protocol
    return type(
        base.__name__, (base,), {"max_head_size": max_head_size, "head_timeout": head_timeout, "__module__": __name__}
    )


def __getattr__(name: str) -> Any:
    """`framework.limits:WorkerProtocol`, the protocol a `--workers` process builds from FRAMEWORK_SETTINGS."""
    if name == "WorkerProtocol":
        settings = Settings.from_env()
        return protocol_class(settings.max_head_size, settings.head_timeout)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def uvicorn_options(settings: Settings, *, workers: bool = False) -> dict[str, Any]:
    """The `uvicorn.Config` keyword arguments that enforce `settings`.

    With `workers=True` the protocol is an import string; the caller must put `settings.to_env()`
    in FRAMEWORK_SETTINGS before uvicorn starts the processes."""
    http_protocol: Any = WORKER_PROTOCOL if workers else protocol_class(settings.max_head_size, settings.head_timeout)
    return {
        "http": http_protocol,
        "ws": WS_PROTOCOL,
        "limit_concurrency": settings.max_concurrency,
        "h11_max_incomplete_event_size": settings.max_head_size,
        "log_config": uvicorn_log_config(),
    }
