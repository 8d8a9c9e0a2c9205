"""Cross-origin protection for unsafe requests, the rules of Go 1.25's `http.CrossOriginProtection`.

Browsers say where a request comes from (`Sec-Fetch-Site`, or at least `Origin`); a cross-site form
POST carrying the victim's cookies (CSRF, login CSRF) is refused before the proxy and the route run.

| request                                                         | result  |
|-----------------------------------------------------------------|---------|
| GET, HEAD, OPTIONS (and QUERY)                                  | allowed |
| `Sec-Fetch-Site: same-origin` or `none` (typed URL, bookmark)   | allowed |
| `Sec-Fetch-Site: cross-site` or `same-site`                     | 403, unless `Origin` is trusted |
| no `Sec-Fetch-Site`, `Origin` whose host:port is the `Host`     | allowed |
| no `Sec-Fetch-Site`, another `Origin` (or `null`)               | 403, unless `Origin` is trusted |
| neither header (curl, API clients, server-to-server)            | allowed |

A WebSocket handshake is a GET, but it opens a channel that carries the victim's cookies, so it is
checked as an unsafe request (cross-site WebSocket hijacking). A route opts out with
`allow_cross_origin = True`; an origin is trusted with `trusted_origins` / `--trusted-origin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "QUERY"})


def refusal(headers: Iterable[tuple[bytes, bytes]], trusted: frozenset[str]) -> str | None:
    """Why this unsafe request is refused as cross-origin, or None to let it through (the module's table).

    >>> refusal([(b"host", b"shop.example"), (b"origin", b"https://evil.example")], frozenset())
    'Origin: https://evil.example'
    >>> refusal([(b"sec-fetch-site", b"same-origin")], frozenset()) is None
    True
    """
    site = origin = host = None
    for key, value in headers:
        if key == b"sec-fetch-site":
            site = value.decode("latin-1").strip().lower()
        elif key == b"origin" and origin is None:
            origin = value.decode("latin-1").strip()
        elif key == b"host" and host is None:
            host = value.decode("latin-1").strip().lower()
    if site:
        if site in ("same-origin", "none"):
            return None
        if origin is not None and origin.lower().rstrip("/") in trusted:
            return None
        return f"Sec-Fetch-Site: {site}"
    if origin is None:
        return None
    try:
        origin_host = urlsplit(origin).netloc.lower()
    except ValueError:
        origin_host = ""
    if origin_host and origin_host == host:
        return None
    if origin.lower().rstrip("/") in trusted:
        return None
    return f"Origin: {origin}"
