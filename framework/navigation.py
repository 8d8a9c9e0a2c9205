"""Our `next/navigation`: end the request from anywhere it runs, a handler, a controller it calls, or `proxy()`.

| call                             | answer                                                          |
|----------------------------------|-----------------------------------------------------------------|
| `not_found()`                    | 404, as for an unmatched URL                                    |
| `forbidden()`                    | 403                                                             |
| `unauthorized()`                 | 401                                                             |
| `redirect("/login?next=%2Fx")`   | 307 `Location: /login?next=%2Fx` (cookies set so far are kept)  |
| `permanent_redirect("/new")`     | 308                                                             |

Each raises, so nothing after it runs. `redirect` takes a local path (`/...`, the rules of
`safe_redirect`); an absolute URL needs `allow_external=True`, so a target read from the request
cannot turn it into an open redirect: use `safe_redirect(request, target, fallback=...)` for those.
They are exceptions (Starlette `HTTPException`s), so a broad `except Exception:` around the call
catches them too: let `Navigation` through with `except Navigation: raise` first.
"""

from __future__ import annotations

from typing import NoReturn

from starlette.exceptions import HTTPException

from .server import path_is_local


class Navigation(HTTPException):
    """Raised by the helpers below; the router turns it into its answer."""


class Redirect(Navigation):
    """`redirect()` / `permanent_redirect()`: answered with `location` and the status, cookies kept."""

    def __init__(self, location: str, status_code: int) -> None:
        super().__init__(status_code, headers={"location": location})
        self.location = location


def not_found() -> NoReturn:
    """Answer 404, as for a URL no route matches (Next.js `notFound()`)."""
    raise Navigation(404)


def forbidden() -> NoReturn:
    """Answer 403: signed in, but not allowed (Next.js `forbidden()`)."""
    raise Navigation(403)


def unauthorized() -> NoReturn:
    """Answer 401: not signed in (Next.js `unauthorized()`)."""
    raise Navigation(401)


def redirect(url: str, status: int = 307, *, allow_external: bool = False) -> NoReturn:
    """Answer with a redirect to `url` (307 by default, as Next.js; 303 after a form POST).

    `url` must be a local path unless `allow_external=True`; otherwise ValueError, which names the fix.
    """
    if status not in (301, 302, 303, 307, 308):
        raise ValueError(f"redirect({url!r}, {status}): a redirect status is 301, 302, 303, 307 or 308")
    if not allow_external and not path_is_local(url):
        raise ValueError(
            f"redirect({url!r}): not a local path (one starting with a single `/`). For a URL you chose, pass "
            "allow_external=True; for one the client sent, use safe_redirect(request, target, fallback='/')."
        )
    raise Redirect(url, status)


def permanent_redirect(url: str, *, allow_external: bool = False) -> NoReturn:
    """`redirect(url, 308)`: the resource moved for good (Next.js `permanentRedirect()`)."""
    redirect(url, 308, allow_external=allow_external)
