"""`cookies()` and `headers()` (our `next/headers`): the current request's, from anywhere it runs.

A route handler, and any controller it calls (also a sync one in the thread pool), can write

    from framework.headers import cookies, headers

    token = cookies().get("refresh_token")         # str | None
    cookies().set("access_token", value, max_age=300, httponly=True, samesite="lax")
    cookies().delete("refresh_token")
    agent = headers().get("user-agent")
    secure = scheme() == "https"                   # the connection's scheme, never the Host header

What is set or deleted is queued and applied to whatever `Response` the handler returns
(redirects, files, streams included); a later `get()` in the same request sees the new value.
The request is held in a `ContextVar` set by the router around each handler call; anyio copies the
context into the thread pool, so the same state is visible there. Outside a handler, `RequestContextError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Literal, TypedDict, Unpack

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import Scope

SameSite = Literal["lax", "strict", "none"]


class CookieOptions(TypedDict, total=False):
    """The attributes `cookies().set()` and `.delete()` take besides the value and its lifetime."""

    path: str
    domain: str | None
    secure: bool
    httponly: bool
    samesite: SameSite | None


class RequestContextError(RuntimeError):
    """`cookies()` or `headers()` called where no request is being handled."""


@dataclass(frozen=True, slots=True)
class _CookieChange:
    """One queued `Set-Cookie`: the arguments of Starlette's `Response.set_cookie`."""

    key: str
    value: str
    options: tuple[tuple[str, Any], ...]


class RequestState:
    """Per request: the scope, read lazily, and the cookie changes to apply to the response."""

    __slots__ = ("_cookies", "_headers", "after", "changes", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._headers: Headers | None = None
        self._cookies: dict[str, str] | None = None
        self.changes: list[_CookieChange] | None = None
        self.after: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []  # `framework.server.after()`

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(scope=self.scope)
        return self._headers

    @property
    def cookie_values(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = cookie_parser(self.headers.get("cookie", ""))
        return self._cookies

    def queue(self, change: _CookieChange) -> None:
        if self.changes is None:
            self.changes = []
        self.changes.append(change)


_STATE_KEY = "framework.request_state"
# The scope of the request being handled; its RequestState is made on first use, so a request
# that never calls cookies() or headers() costs one ContextVar set and reset, nothing more.
_current: ContextVar[Scope | None] = ContextVar("framework_request", default=None)


def current_state(what: str) -> RequestState:
    scope = _current.get()
    if scope is None:
        raise RequestContextError(
            f"{what}() was called outside a request. It works in a route handler and in the code it calls "
            "(controllers too, sync or async). In proxy.py, read `request.cookies` / `request.headers` and set "
            "cookies on the Response you return; in tests, call it through a request."
        )
    state = scope.get(_STATE_KEY)
    if state is None:
        state = scope[_STATE_KEY] = RequestState(scope)
    return state


class RequestCookies:
    """The request's cookies, plus the changes this request makes to them."""

    __slots__ = ("_state",)

    def __init__(self, state: RequestState) -> None:
        self._state = state

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._state.cookie_values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self._state.cookie_values

    def all(self) -> dict[str, str]:
        return dict(self._state.cookie_values)

    def __contains__(self, name: object) -> bool:
        return name in self._state.cookie_values

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._state.cookie_values))

    def set(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        expires: Any = None,
        **options: Unpack[CookieOptions],
    ) -> None:
        """Queue a `Set-Cookie` for the response: the arguments of Starlette's `Response.set_cookie`, with
        `path="/"` and `samesite="lax"` unless given."""
        _check_name(name)
        settings = {"path": "/", "samesite": "lax", **options, "max_age": max_age, "expires": expires}
        self._state.queue(_CookieChange(name, value, tuple(settings.items())))
        self._state.cookie_values[name] = value

    def delete(self, name: str, **options: Unpack[CookieOptions]) -> None:
        """Queue an expired `Set-Cookie` for `name` (path and domain must match the ones it was set with)."""
        self.set(name, "", max_age=0, expires=0, **options)
        self._state.cookie_values.pop(name, None)


def _check_name(name: str) -> None:
    probe: SimpleCookie = SimpleCookie()
    try:
        probe[name] = ""
    except Exception:
        raise ValueError(f"{name!r} is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)") from None


def cookies() -> RequestCookies:
    """The current request's cookies; `.set()` / `.delete()` apply to the response the handler returns."""
    return RequestCookies(current_state("cookies"))


def headers() -> Headers:
    """The current request's headers (read-only, case-insensitive)."""
    return current_state("headers").headers


def scheme() -> str:
    """The current request's scheme, `http` or `https`, as the server saw the connection.

    Under `framework start --proxy-headers`, uvicorn has already replaced it with a trusted proxy's
    `X-Forwarded-Proto`. Use it (not the `Host` header, which the client chooses) to decide `Secure`.
    """
    return str(current_state("scheme").scope.get("scheme") or "http")


enter = _current.set  # make `scope` the current request; returns the token `leave()` needs
leave = _current.reset
STATE_KEY = _STATE_KEY


def apply(scope: Scope, response: Response) -> None:
    """Write the cookie changes queued during the request onto `response`, in the order they were made."""
    state = scope.get(_STATE_KEY)
    if state is not None and state.changes:
        for change in state.changes:
            response.set_cookie(change.key, change.value, **dict(change.options))
