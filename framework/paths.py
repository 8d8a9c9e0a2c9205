"""Request paths to decoded segments: split on the raw `/` first, then percent-decode each piece once.

| raw path                   | result                                   |
|----------------------------|------------------------------------------|
| `/api/users/a%2Fb`         | `("api", "users", "a/b")`                |
| `/api/users/a%252Fb`       | `("api", "users", "a%2Fb")`              |
| `/api/users/a+b`           | `("api", "users", "a+b")`                |
| `/api/x/../hello`, `/api/%2e/hello` | `("api", "hello")`              |
| `/api/hello/`, `/api//hello` | `Redirect("/api/hello")`               |
| `/api/%ZZ`, `/api/%E2%9C`  | `BadPath` (answered 400)                 |

Every stage after this one (the proxy, its matcher, the router, the handler) sees the same segments:
`request_path_text` is the decoded path a handler reads in `request.url.path`, and `matcher_text` the
unambiguous form the proxy's matcher runs on, where `/` only ever separates segments:

| segments              | `request_path_text` | `matcher_text`     |
|-----------------------|---------------------|--------------------|
| `("admin",)`          | `/admin`            | `/admin`           |
| `("acme/x", "settings")` | `/acme/x/settings` | `/acme%2Fx/settings` |
| `("100%",)`           | `/100%`             | `/100%25`          |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# Anything that needs the slow path: an escape, a dot segment, an empty segment. On the request path the
# same four tests run on the decoded text (str `in` is about 4x cheaper than this search on bytes); this
# regex only tells which error a path that is not UTF-8 gets.
_NEEDS_WORK = re.compile(rb"%|/\.|//|/$")
# Characters kept as they are in a redirect's Location: RFC 3986 pchar plus `%` (already escaped input).
_LOCATION_SAFE = "!$&'()*+,;=:@-._~%"


class BadPath(ValueError):
    """The path cannot be decoded: a malformed `%` escape or bytes that are not UTF-8."""


@dataclass(frozen=True, slots=True)
class Redirect:
    """The path has empty segments (a trailing slash, `//`): send the client to `location` (relative)."""

    location: str


def strip_root(raw: bytes, root_path: str) -> tuple[bytes, bytes]:
    """Split the prefix the app is served under (`root_path`: `uvicorn --root-path`, a Starlette mount)
    off the raw path: `(b"/pfx", b"/admin")`. A path not under the prefix is taken whole, as servers
    that leave `root_path` out of `raw_path` send it.

    >>> strip_root(b"/pfx/admin", "/pfx"), strip_root(b"/pfxadmin", "/pfx"), strip_root(b"/pfx", "/pfx")
    ((b'/pfx', b'/admin'), (b'', b'/pfxadmin'), (b'/pfx', b'/'))
    """
    prefix = root_path.rstrip("/").encode("utf-8")
    if prefix and raw.startswith(prefix) and raw[len(prefix) : len(prefix) + 1] in (b"", b"/"):
        return prefix, raw[len(prefix) :] or b"/"
    return b"", raw


def request_path_text(segments: tuple[str, ...]) -> str:
    """The decoded path (`scope["path"]` without the prefix): what `request.url.path` shows."""
    return "/" + "/".join(segments)


def matcher_text(segments: tuple[str, ...]) -> str:
    """The path the proxy's matcher runs on: `%` and a `/` inside one segment written `%25` and `%2F`."""
    return "/" + "/".join(s.replace("%", "%25").replace("/", "%2F") for s in segments)


def raw_path_bytes(segments: tuple[str, ...]) -> bytes:
    """The canonical raw path for decoded segments: each one percent-encoded where it must be."""
    return ("/" + "/".join(quote(s, safe=_LOCATION_SAFE.replace("%", "")) for s in segments)).encode("ascii")


def split_path(raw: bytes) -> tuple[str, ...] | Redirect:
    """Decode a raw request path (`scope["raw_path"]`, no query) into URL segments.

    Dot segments are resolved and never climb above `/`; empty segments give a `Redirect`
    to the same path without them. Raises `BadPath` for input that cannot be decoded.
    """
    if raw[:1] != b"/":
        raise BadPath("the request path does not start with `/`")
    if raw == b"/":
        return ()
    try:
        text = raw.decode()  # UTF-8
    except UnicodeDecodeError:
        if _NEEDS_WORK.search(raw) is None:
            raise BadPath("the request path is not valid UTF-8") from None
    else:  # the common case, nothing to decode, resolve or redirect, told by four tests on the text
        if "%" not in text and "/." not in text and "//" not in text and text[-1] != "/":
            return tuple(text[1:].split("/"))
    parts = raw[1:].split(b"/")
    if b"" in parts:
        return Redirect("/" + "/".join(quote(p, safe=_LOCATION_SAFE) for p in parts if p))
    segments: list[str] = []
    for part in parts:
        if b"%" in part:
            if _BAD_ESCAPE.search(part):
                raise BadPath("the request path has a malformed percent-escape")
            part = unquote_to_bytes(part)
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError:
            raise BadPath("the request path is not valid UTF-8 once percent-decoded") from None
        if text == "..":
            if segments:
                segments.pop()
        elif text != ".":
            segments.append(text)
    return tuple(segments)
