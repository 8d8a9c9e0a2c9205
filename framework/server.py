"""Our `next/server`: `safe_redirect()` for user-supplied targets and `next()` for the proxy.

`safe_redirect(request, target, fallback="/dashboard")` follows `target` only when it stays on
this site; everything else goes to `fallback`. The rules (`safe_target`), in order:

| rule                                                                    | refused examples                       |
|-------------------------------------------------------------------------|----------------------------------------|
| a `str` of at most 2048 characters                                      | `None`, `b"/x"`, a 3 kB string          |
| no control character (C0, DEL, C1), format character (U+200B...), whitespace (any Unicode space) or `\\` | `"/\\tevil"`, `"/ /evil"`, `"/\\\\evil"` |
| either a path: starts with exactly one `/`                              | `"//evil.com"`, `"evil.com"`, `"./x"`  |
| or an absolute `http`/`https` URL whose scheme, host and port equal the request's own, without userinfo | `"https://evil.com"`, `"https://self@evil.com"`, `"http://self:81/"`, `"javascript:alert(1)"`, `"https:evil.com"` |
| the path (before `?`/`#`), percent-decoded repeatedly (at most 4 times), still has no control or format character or `\\` and does not start with `//` (an encoded space is fine) | `"/%2F/evil.com"`, `"/%09/evil"`, `"/%5Cevil"`, `"/%252F%252Fevil"` |

Accepted targets keep their query and fragment. The `Location` header is always relative (a path,
RFC 9110 allows it): `/dashboard?tab=1` stays `/dashboard?tab=1`, and a same-origin absolute URL
becomes its path, query and fragment (`http://127.0.0.1:3000/x?y=1` -> `/x?y=1`). The browser
resolves it against the URL it actually requested, so a forged `Host` header (which makes
`request.url` name the attacker's host, and their absolute URLs look same-origin) cannot steer the
redirect off the site. Next.js builds an absolute URL instead. The status defaults to 307,
Next.js's default for `NextResponse.redirect`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from .headers import current_state
from .loader import is_async

log = logging.getLogger("framework")
MAX_TARGET_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DECODE_ROUNDS = 4


def _has_forbidden_char(text: str, *, spaces: bool = True) -> bool:
    """Control characters (C0, DEL, C1), format characters (U+200B...), line/paragraph separators,
    backslashes and, when `spaces`, any whitespace."""
    for ch in text:
        if ch == "\\" or (spaces and ch.isspace()) or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return True
    return False


def _path_is_safe(path: str) -> bool:
    """The path part of a target: once and repeatedly percent-decoded, it stays a plain local path.

    Decoded, an encoded space (`/my%20file`) is fine; an encoded tab, NUL, backslash or `//` is not.
    """
    if not path.startswith("/") or path.startswith("//"):
        return False
    current = path
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(current, errors="strict") if "%" in current else current
        if decoded.startswith("//") or _has_forbidden_char(decoded, spaces=False):
            return False
        if decoded == current:
            return True
        current = decoded
    return False  # still changing after several rounds: nobody encodes a real path that deeply


def path_is_local(target: object) -> bool:
    """A target that is a path on this site by the rules of the module's table (`/x?y#z`, not `//x`).

    >>> path_is_local("/dashboard?tab=1"), path_is_local("//evil.com"), path_is_local("/%2F/evil.com")
    (True, False, False)
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_TARGET_LENGTH:
        return False
    if _has_forbidden_char(target):
        return False
    try:
        return _path_is_safe(target.split("?", 1)[0].split("#", 1)[0])
    except UnicodeDecodeError:  # an escape that is not UTF-8
        return False


def _origin(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int | None]:
    scheme = scheme.lower()
    return scheme, (host or "").lower().rstrip("."), port if port is not None else _DEFAULT_PORTS.get(scheme)


def safe_target(target: object, request_url: str) -> str | None:
    """The relative location (path, query, fragment) `target` leads to when it stays on `request_url`'s
    site, else None. Relative, so the redirect never depends on the request's (forgeable) host.

    >>> safe_target("/dashboard?x=1", "http://127.0.0.1:3000/login")
    '/dashboard?x=1'
    >>> safe_target("http://127.0.0.1:3000?x=1", "http://127.0.0.1:3000/login")
    '/?x=1'
    >>> safe_target("//evil.com", "http://127.0.0.1:3000/login") is None
    True
    """
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET_LENGTH:
        return None
    if target.startswith("/"):
        return target if path_is_local(target) else None
    if _has_forbidden_char(target):
        return None
    try:
        base = urlsplit(request_url)
        parts = urlsplit(target)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc or "@" in parts.netloc:
            return None
        if _origin(parts.scheme, parts.hostname, parts.port) != _origin(base.scheme, base.hostname, base.port):
            return None
        if parts.path and not _path_is_safe(parts.path):
            return None
    except (ValueError, UnicodeDecodeError):  # bad port, bad IPv6 literal, undecodable escape
        return None
    rest = target[len(parts.scheme) + 3 + len(parts.netloc) :]  # after "scheme://netloc"
    return rest if rest.startswith("/") else "/" + rest  # "" -> "/", "?x=1" -> "/?x=1", "#top" -> "/#top"


def safe_redirect(request: Request, target: object, *, fallback: str, status: int = 307) -> RedirectResponse:
    """Redirect to `target` when it stays on this site (see the module's table), else to `fallback`.

    The `Location` is relative. `fallback` is the developer's own path and must itself pass the rules
    (ValueError otherwise).
    """
    url = str(request.url)
    location = safe_target(target, url)
    if location is None:
        location = safe_target(fallback, url)
        if location is None:
            raise ValueError(f"safe_redirect: fallback {fallback!r} is not a local path; use one like '/dashboard'")
    return RedirectResponse(location, status_code=status)


def after(fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` once the response has been sent (Next.js `after()`): logging, analytics, cache warming.

    From a handler or anything it calls. `fn` may be sync (run in the thread pool) or async; callbacks
    run in the order they were added, also when the handler failed; an exception in one is logged
    with the route file and never reaches the client. The response is gone by then: `cookies().set()`
    inside `fn` has no effect.

        def POST(request):
            after(send_welcome_mail, "ada@example.com")
            return {"ok": True}
    """
    if not callable(fn):
        raise TypeError(f"after() takes a function to call later, got {type(fn).__name__}")
    current_state("after").after.append((fn, args))


async def run_after(callbacks: list[tuple[Callable[..., Any], tuple[Any, ...]]], file: str) -> None:
    """The `after()` callbacks of one request, in order; each failure is logged with the route file."""
    for fn, args in callbacks:
        try:
            if is_async(fn):
                await fn(*args)
            else:
                await run_in_threadpool(fn, *args)
        except Exception:
            log.exception(
                "after(%s) from %s raised; the response had already been sent",
                getattr(fn, "__qualname__", repr(fn)),
                file,
            )


@dataclass(frozen=True, slots=True)
class Next:
    """What `next()` returns: go on to the route, with these request and response headers added."""

    request_headers: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def next(*, request_headers: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None) -> Next:
    """From `proxy()`: continue to the route, as `NextResponse.next()` does.

    `request_headers` replace (or add) headers on the request the route sees; `headers` are added
    to the response the route sends. Returning `None` from the proxy is `next()` with neither.

        def proxy(request):
            return next(request_headers={"x-user": "ada"}, headers={"x-frame-options": "DENY"})

    A name that is not an HTTP token, or a value with CR, LF or NUL or outside Latin-1, raises ValueError
    here, naming it, rather than failing later inside the server (or splitting a header in two).
    """
    for which, given in (("request_headers", request_headers), ("headers", headers)):
        for name, value in (given or {}).items():
            _check_header(which, name, value)
    return Next(dict(request_headers or {}), dict(headers or {}))


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _check_header(which: str, name: object, value: object) -> None:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"next({which}=...): {name!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
    if not isinstance(value, str) or any(c in "\r\n\0" or ord(c) > 255 for c in value):
        raise ValueError(
            f"next({which}=...): the value of {name!r} must be a str of Latin-1 characters without "
            "CR, LF or NUL; percent-encode other text (urllib.parse.quote)"
        )
