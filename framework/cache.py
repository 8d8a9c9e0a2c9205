"""The in-process response cache behind `revalidate = N` and `dynamic = "force-static"` (GET and HEAD).

| request                                        | served                                              | `X-Framework-Cache` |
|------------------------------------------------|-----------------------------------------------------|---------------------|
| no entry for the URL                           | the handler runs; a storable response is kept       | `MISS`              |
| entry younger than N s (force-static: always)  | the kept response, the handler does not run         | `HIT`               |
| entry older than N s                           | the kept response at once; one background run per URL replaces it | `STALE` |
| with a `Cookie` or `Authorization` header (unless `cache_private = True`) | the handler runs; nothing read or kept | `BYPASS` |

The key is the URL: the path the router dispatched (`scope["raw_path"]`, normalised by the router) and
the raw query string, so `/a?x=1` and `/a?x=2` are two entries, and no header takes part in it.
A response is kept when it is a 200 sent in one piece (not streamed: a `StreamingResponse`, a large
file), with no `Set-Cookie` or `Vary`, and no `Cache-Control` of the handler's own saying `private`,
`no-store` or `no-cache`; anything else is passed on as it is and the next request runs the handler
again. A background run that fails or gives such a response leaves the stale entry in place (the next
stale request tries again); its error is logged with the route file.

Kept responses get `Cache-Control: s-maxage=N, stale-while-revalidate=<one year - N>` (force-static:
`s-maxage=31536000`), as Next.js sends them, unless the handler set its own `Cache-Control`; served
ones also `Age`. Each route keeps at most `MAX_ENTRIES` URLs and `MAX_BYTES` of bodies, dropping the
least recently used. The cache lives in the process: each `--workers` process has its own.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .headers import STATE_KEY
from .server import run_after

log = logging.getLogger("framework")

HEADER = b"x-framework-cache"
HIT, STALE, MISS, BYPASS = b"HIT", b"STALE", b"MISS", b"BYPASS"
ONE_YEAR = 31_536_000  # seconds: Next.js's default `expireTime`
MAX_ENTRIES = 1000  # URLs per route
MAX_BYTES = 32 * 1024 * 1024  # bodies per route; a larger single body is not kept
_NOT_SHARED = (b"private", b"no-store", b"no-cache")
Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Stored:
    """One kept 200 response: its headers as sent (our `Cache-Control` included), its body, and when."""

    headers: Headers
    body: bytes
    at: float  # time.monotonic()


def cache_control(seconds: float) -> bytes:
    """The `Cache-Control` of a kept response, as Next.js writes it.

    >>> cache_control(5), cache_control(math.inf)
    (b's-maxage=5, stale-while-revalidate=31535995', b's-maxage=31536000')
    """
    if math.isinf(seconds):
        return b"s-maxage=%d" % ONE_YEAR
    if seconds >= ONE_YEAR:
        return b"s-maxage=%d" % seconds
    return b"s-maxage=%d, stale-while-revalidate=%d" % (seconds, ONE_YEAR - seconds)


def has_credentials(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """The request carries an `Authorization` header or a non-empty `Cookie`: its answer may be someone's own."""
    return any(key == b"authorization" or (key == b"cookie" and value.strip()) for key, value in headers)


def cache_key(scope: Scope) -> bytes:
    """`/a?x=1`: the dispatched raw path and the raw query (`raw_path` is what the router matched)."""
    path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    return path + b"?" + query


def storable(status: int, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """A 200 that is the same for everyone who asks: no `Set-Cookie`, no `Vary`, not marked private."""
    if status != 200:
        return False
    for key, value in headers:
        key = key.lower()
        if key in (b"set-cookie", b"vary"):
            return False
        if key == b"cache-control" and any(word in value.lower() for word in _NOT_SHARED):
            return False
    return True


class ResponseCache:
    """One route's kept responses by URL, least recently used first, bounded in entries and body bytes."""

    __slots__ = ("entries", "max_bytes", "max_entries", "refreshing", "size")

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.entries: OrderedDict[bytes, Stored] = OrderedDict()
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.size = 0  # bytes of bodies kept
        self.refreshing: dict[bytes, asyncio.Task[None]] = {}  # URL -> its one background run

    def get(self, key: bytes) -> Stored | None:
        stored = self.entries.get(key)
        if stored is not None:
            self.entries.move_to_end(key)
        return stored

    def put(self, key: bytes, stored: Stored) -> None:
        if len(stored.body) > self.max_bytes:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = stored
        self.size += len(stored.body)
        while len(self.entries) > self.max_entries or self.size > self.max_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)


class Capture:
    """The `send` of a handler run on a cached route: adds `X-Framework-Cache`, and keeps a copy of the
    response when it is storable (`stored`).

    `http.response.start` is held back until the first body message tells whether the response comes in
    one piece, so `Cache-Control` is only added to responses that are kept. (A streamed response's
    headers therefore leave with its first chunk.) Without `control` nothing is kept or held back.
    """

    __slots__ = ("control", "label", "send", "start", "stored")

    def __init__(self, send: Send, label: bytes, control: bytes | None) -> None:
        self.send, self.label, self.control = send, label, control
        self.start: Message | None = None
        self.stored: Stored | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.control is not None:
                self.start = message
                return
            message = self._labelled(message, message.get("headers", ()))
        elif self.start is not None:
            await self._release(message)
        await self.send(message)

    async def _release(self, first: Message) -> None:
        start, self.start = self.start, None
        assert start is not None and self.control is not None
        headers = list(start.get("headers", ()))
        one_piece = first["type"] == "http.response.body" and not first.get("more_body", False)
        if one_piece and storable(start["status"], headers):
            if not any(key.lower() == b"cache-control" for key, _ in headers):
                headers.append((b"cache-control", self.control))
            self.stored = Stored(tuple(headers), bytes(first.get("body", b"")), time.monotonic())
        await self.send(self._labelled(start, headers))

    async def flush(self) -> None:
        """After the handler: a start it sent without any body still goes out."""
        if self.start is not None:
            start, self.start = self.start, None
            await self.send(self._labelled(start, start.get("headers", ())))

    def _labelled(self, start: Message, headers: Iterable[tuple[bytes, bytes]]) -> Message:
        return {**start, "headers": [*headers, (HEADER, self.label)]}


async def _drop(message: Message) -> None:
    """The `send` of a background run: nobody is waiting for its response."""


class CachedApp:
    """A route's GET app behind the response cache (see the module's table). Built at load time only for
    routes with `revalidate` or `force-static`, outside `framework dev`."""

    __slots__ = ("app", "cache", "control", "file", "private", "seconds")

    def __init__(self, app: ASGIApp, seconds: float, private: bool, file: str) -> None:
        self.app, self.seconds, self.private, self.file = app, seconds, private, file
        self.control = cache_control(seconds)
        self.cache = ResponseCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.private and has_credentials(scope["headers"]):
            await self.app(scope, receive, Capture(send, BYPASS, None))
            return
        key = cache_key(scope)
        stored = self.cache.get(key)
        if stored is None:
            # A HEAD is answered but never kept: a FileResponse sends it without its body.
            capture = Capture(send, MISS, self.control if scope["method"] == "GET" else None)
            await self.app(scope, receive, capture)
            await capture.flush()
            if capture.stored is not None:
                self.cache.put(key, capture.stored)
            return
        age = time.monotonic() - stored.at
        label = HIT
        if age >= self.seconds:
            label = STALE
            if key not in self.cache.refreshing:
                self._refresh(key, scope)
        headers = [*stored.headers, (HEADER, label), (b"age", b"%d" % age)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": stored.body})

    def _refresh(self, key: bytes, scope: Scope) -> None:
        """Start the one background run for this URL (a GET, also when a HEAD found the entry stale)."""
        fresh = {k: v for k, v in scope.items() if k != STATE_KEY}
        fresh["method"] = "GET"
        task = asyncio.get_running_loop().create_task(self._run(key, fresh))
        self.cache.refreshing[key] = task
        task.add_done_callback(lambda _: self.cache.refreshing.pop(key, None))

    async def _run(self, key: bytes, scope: Scope) -> None:
        """Run the handler for `scope` with an empty body; keep what it gives if storable, else log why not."""
        capture = Capture(_drop, MISS, self.control)
        messages = iter(({"type": "http.request", "body": b"", "more_body": False},))

        async def receive() -> Message:
            return next(messages, {"type": "http.disconnect"})

        what = f"{scope['method']} {cache_key(scope).decode('latin-1').removesuffix('?')}"
        try:
            await self.app(scope, receive, capture)
            await capture.flush()
        except Exception:
            log.exception(
                "background refresh of %s (%s) failed; the stale response stays until one succeeds", what, self.file
            )
            return
        finally:
            state = scope.get(STATE_KEY)
            if state is not None and state.after:  # after() called by the handler
                await run_after(state.after, self.file)
        if capture.stored is None:
            log.warning(
                "background refresh of %s (%s) gave a response that is not kept (not a 200 in one piece, or "
                "private); the stale response stays until one is",
                what,
                self.file,
            )
            return
        self.cache.put(key, capture.stored)
