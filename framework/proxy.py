"""The proxy (Next.js 16's `proxy.ts`, formerly `middleware.ts`): code that runs before routing.

An optional `proxy.py` beside `app/` exports `proxy(request)` (sync or async) and, optionally,
`config = {"matcher": [...]}`. It runs on the requests its matcher selects (every request without
one), before the route is looked up, so it also sees requests that end in 404. It returns:

| return value                                   | effect                                                   |
|------------------------------------------------|----------------------------------------------------------|
| `None`                                         | go on to the route                                       |
| a Starlette `Response` (e.g. `RedirectResponse`) | answer with it; the route is not called                |
| `framework.server.next(request_headers=..., headers=...)` | go on, with request headers replaced/added and headers added to the response |

A root `middleware.py` exporting `middleware` is the older name: accepted with a deprecation warning.
Both files at once is an error. The proxy is loaded with the route table, so a rebuilt table (the dev
server's hot reload) has the new proxy too.

Matcher paths use Next.js (path-to-regexp) notation (`framework.patterns`: `/dashboard/:path*`, `/api/:slug+`,
`/user/:id(\\d+)`), compiled once to one regex.

A matcher runs on the request path exactly as the router dispatches it: `root_path` stripped, split on
the raw `/`, each segment decoded once, dot segments resolved (`/x/../admin` is `/admin`). In that text a
`/` only ever separates segments: one that was `%2F` inside a segment is written `%2F`, and a `%` is
`%25`, so `/:tenant/settings` sees `/acme%2Fx/settings` as tenant `acme/x` and no param or group
spans a segment boundary the router does not see. Matching is case-sensitive, anchored at both ends,
and `.` in a regex group matches every character (a `%0A` in the path cannot end a match early).
WebSocket handshakes go through the proxy too (as a GET request); a Response it returns refuses the
upgrade with that status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import Problem, RouteTreeError
from .loader import Failure, import_or_failure, is_async
from .navigation import Redirect
from .patterns import MatcherError, combine
from .server import Next

log = logging.getLogger("framework")

ASGINext = Callable[[Scope, Receive, Send], Awaitable[None]]

PROXY_FILE = "proxy.py"
MIDDLEWARE_FILE = "middleware.py"


def compile_matchers(config: object) -> re.Pattern[str] | None:
    """`config["matcher"]` (a string or a list of strings) -> one combined regex, or None for "every path"."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise MatcherError(
            f"`config` must be a dict like {{'matcher': ['/dashboard/:path*']}}, got {type(config).__name__}"
        )
    matcher = config.get("matcher")
    if matcher is None:
        return None
    sources: Sequence[object] = [matcher] if isinstance(matcher, str) else matcher
    if not isinstance(sources, (list, tuple)) or not sources:
        raise MatcherError("`config['matcher']` must be a path string or a non-empty list of path strings")
    for source in sources:
        if not isinstance(source, str):
            raise MatcherError(
                f"matcher {source!r}: only path strings are supported (not objects with `has`/`missing`); "
                "test those conditions inside proxy()"
            )
    return combine(str(s) for s in sources)  # each checked above


@dataclass(frozen=True, slots=True)
class Proxy:
    """The loaded proxy: its function, whether it is async, and its compiled matcher (None: every path).

    The router decides whether it runs (`matcher` against the normalised path) and calls it with the
    normalised scope; a WebSocket handshake reaches it as the GET request it is.
    """

    file: str
    func: Callable[[Request], Any]
    is_async: bool
    matcher: re.Pattern[str] | None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, route: ASGINext) -> None:
        request = Request(scope if scope["type"] == "http" else {**scope, "type": "http", "method": "GET"}, receive)
        try:
            result = await self.func(request) if self.is_async else await run_in_threadpool(self.func, request)
        except Redirect as exc:  # redirect() from the proxy; not_found() and the others answer as HTTPExceptions
            result = RedirectResponse(exc.location, exc.status_code)
        except Exception as exc:
            exc.add_note(f"raised by {getattr(self.func, '__name__', 'proxy')}() in {self.file}")
            raise
        if result is None:
            await route(scope, receive, send)
        elif isinstance(result, Response):
            await answer(result, scope, receive, send)
        elif isinstance(result, Next):
            new_scope, new_send = _continue_with(result, scope, send)
            try:
                await route(new_scope, receive, new_send)
            except HTTPException as exc:  # Starlette's 404/405, answered outside the router: keep the headers
                if not result.headers:
                    raise
                raise HTTPException(exc.status_code, exc.detail, {**(exc.headers or {}), **result.headers}) from exc
        else:
            raise TypeError(
                f"{self.file}: proxy() returned {type(result).__name__}; return None (go on), a Response "
                "(answer now) or framework.server.next(...) (go on with extra headers)"
            )


async def answer(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response`; for a WebSocket handshake, refuse the upgrade with it.

    The response goes out as is where the server supports the ASGI denial-response extension
    (uvicorn does); elsewhere the handshake is closed, which servers answer with 403.
    """
    if scope["type"] != "websocket" or "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": ""})


def _continue_with(step: Next, scope: Scope, send: Send) -> tuple[Scope, Send]:
    """The scope with `step.request_headers` replacing same-named headers, and a `send` adding `step.headers`."""
    if step.request_headers:
        replaced = {k.lower().encode("latin-1") for k in step.request_headers}
        new_headers = [(k, v) for k, v in scope["headers"] if k.lower() not in replaced]
        new_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in step.request_headers.items()]
        scope = {**scope, "headers": new_headers}
    if not step.headers:
        return scope, send
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in step.headers.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return scope, send_with_headers


def find_proxy(root: Path) -> tuple[str | None, list[Problem], list[str]]:
    """Which file holds the proxy: (file or None, problems, warnings)."""
    has_proxy, has_middleware = (root / PROXY_FILE).is_file(), (root / MIDDLEWARE_FILE).is_file()
    if has_proxy and has_middleware:
        return (
            None,
            [
                Problem(
                    "proxy-and-middleware",
                    "both proxy.py and middleware.py are present; only one proxy can run before routing.",
                    "Keep proxy.py (the current name, Next.js 16) and move anything from middleware.py into it, then delete middleware.py.",
                    (PROXY_FILE, MIDDLEWARE_FILE),
                )
            ],
            [],
        )
    if has_middleware:
        return (
            MIDDLEWARE_FILE,
            [],
            [
                f"{MIDDLEWARE_FILE}: the `middleware` file is deprecated (Next.js 16 calls it proxy); "
                "rename it to proxy.py and its function to `proxy`."
            ],
        )
    return (PROXY_FILE if has_proxy else None), [], []


@dataclass(frozen=True, slots=True)
class BrokenProxy:
    """The dev server's stand-in for a proxy that failed to load: `app` (the error page) answers every
    request, so nothing the proxy may guard is served meanwhile."""

    app: ASGIApp
    matcher: None = None
    file: str = PROXY_FILE

    async def __call__(self, scope: Scope, receive: Receive, send: Send, route: ASGINext) -> None:
        await self.app(scope, receive, send)


# What runs before routing: the loaded `Proxy`, or the dev server's stand-in for one that failed to load.
ProxyApp = Proxy | BrokenProxy
ProxyLoad = tuple[Proxy | Failure | None, tuple[str, ...]]


def load_proxy(root: Path) -> ProxyLoad:
    """Import the root proxy file, if any: (the Proxy, or the Failure stopping it, or None; warnings).

    A problem with the file comes back as a `Failure`; `proxy.py` beside `middleware.py` is a tree
    that cannot be served at all and raises `RouteTreeError`, in dev as in start mode.
    """
    file, problems, warnings = find_proxy(root)
    if problems:
        raise RouteTreeError(problems)
    if file is None:
        return None, ()
    name = "proxy" if file == PROXY_FILE else "middleware"
    module = import_or_failure(root, file)  # user code at import time: reported with file and line
    if isinstance(module, Failure):
        return module, tuple(warnings)
    func = getattr(module, name, None)
    if func is None and name == "middleware":
        func = getattr(module, "proxy", None)
    if not callable(func):
        what = "is missing" if func is None else f"is a {type(func).__name__}, not a function"
        return Failure(
            file,
            Problem(
                "proxy-no-function",
                f"`{name}` {what}; the proxy file must export the function that runs before routing.",
                f"Define `def {name}(request): ...` returning None (go on) or a Response.",
                (file,),
            ),
        ), tuple(warnings)
    try:
        matcher = compile_matchers(getattr(module, "config", None))
    except MatcherError as exc:
        return Failure(
            file,
            Problem(
                "proxy-bad-matcher",
                f"{exc}.",
                "Write matcher paths like '/dashboard/:path*' or '/api/:slug+'.",
                (file,),
                _config_line(root / file),
            ),
        ), tuple(warnings)
    return Proxy(file, func, is_async(func), matcher), tuple(warnings)


def _config_line(path: Path) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("config"):
                return number
    except OSError:
        pass
    return None
