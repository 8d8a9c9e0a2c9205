"""`route_url()`: build a route's URL from its pattern, so every use of a route can be found and checked.

Each `lib/urls` builder calls it with a literal pattern in Next.js notation; `framework check`
reads those calls to verify that the pattern is a real route with the right params.

| call                                                        | URL                                  |
|-------------------------------------------------------------|--------------------------------------|
| `route_url("/api/users/[id]", {"id": "a/b"})`               | `/api/users/a%2Fb`                   |
| `route_url("/api/files/[...path]", {"path": ["a", "b c"]})` | `/api/files/a/b%20c`                 |
| `route_url("/api/docs/[[...slug]]")`                        | `/api/docs`                          |
| `route_url("/api/refresh-token", query={"returnTo": "/x?y=1"})` | `/api/refresh-token?returnTo=%2Fx%3Fy%3D1` |

Segments and query are encoded as JavaScript's `encodeURIComponent` does (the reference page's
`getRefreshTokenUrl`): everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded as UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from .segments import Kind, PatternError, parse_pattern

# Set by `framework.config` from `[tool.framework]` (read here, so this module needs nothing but the stdlib).
ENV_BASE_PATH = "FRAMEWORK_BASE_PATH"
ENV_TRAILING_SLASH = "FRAMEWORK_TRAILING_SLASH"
_COMPONENT_SAFE = "-_.!~*'()"

ParamValue = str | int | Iterable[str | int]
QueryValue = str | int | Iterable[str | int] | None


class RouteUrlError(ValueError):
    """A `route_url` call that cannot build a URL: the message names the pattern and the param."""


def encode_component(value: str) -> str:
    """JavaScript's `encodeURIComponent`: `encode_component("a b/✓") == "a%20b%2F%E2%9C%93"`."""
    return quote(value, safe=_COMPONENT_SAFE)


def route_url(
    pattern: str, params: Mapping[str, ParamValue] | None = None, query: Mapping[str, QueryValue] | None = None
) -> str:
    """The URL for `pattern` with `params` filled in and `query` appended.

    Raises `RouteUrlError` for a malformed pattern, a missing or extra param, or a catch-all
    given a string instead of a list. Query values that are None are left out; lists repeat the key.

    >>> route_url("/api/users/[id]", {"id": "a/b"}, {"tab": ["x", "y z"]})
    '/api/users/a%2Fb?tab=x&tab=y%20z'
    >>> route_url("/api/docs/[[...slug]]")
    '/api/docs'
    """
    params = dict(params or {})
    try:
        segments = parse_pattern(pattern)
    except PatternError as exc:
        raise RouteUrlError(f"route_url({pattern!r}): {exc}") from None
    parts: list[str] = []
    used: set[str] = set()
    for seg in segments:
        if seg.kind is Kind.STATIC:
            parts.append(encode_component(seg.name))
            continue
        used.add(seg.name)
        if seg.name not in params:
            if seg.kind is Kind.OPTIONAL_CATCH_ALL:
                continue
            raise RouteUrlError(f"route_url({pattern!r}): missing param {seg.name!r}")
        value = params[seg.name]
        if seg.kind is Kind.DYNAMIC:
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise RouteUrlError(
                    f"route_url({pattern!r}): param {seg.name!r} must be a string, got {type(value).__name__}"
                )
            text = str(value)
            if text in ("", ".", ".."):
                raise RouteUrlError(f"route_url({pattern!r}): param {seg.name!r} cannot be {text!r}")
            parts.append(encode_component(text))
        else:
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise RouteUrlError(
                    f"route_url({pattern!r}): catch-all param {seg.name!r} takes a list of segments, got {type(value).__name__}"
                )
            items = [str(v) for v in value]
            if not items and seg.kind is Kind.CATCH_ALL:
                raise RouteUrlError(f"route_url({pattern!r}): catch-all param {seg.name!r} needs at least one segment")
            if any(v in ("", ".", "..") for v in items):
                raise RouteUrlError(
                    f"route_url({pattern!r}): catch-all param {seg.name!r} has an empty, '.' or '..' segment"
                )
            parts.extend(encode_component(v) for v in items)
    extra = sorted(set(params) - used)
    if extra:
        raise RouteUrlError(
            f"route_url({pattern!r}): unknown param{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
        )
    url = os.environ.get(ENV_BASE_PATH, "") + "/" + "/".join(parts)
    if os.environ.get(ENV_TRAILING_SLASH) and parts and "." not in parts[-1]:
        url += "/"  # `trailing_slash = true`: the canonical URL, not the one answered with a 308
    if query:
        pairs: list[str] = []
        for key, val in query.items():
            if val is None:
                continue
            values = [val] if isinstance(val, (str, int)) else list(val)
            pairs.extend(f"{encode_component(key)}={encode_component(str(v))}" for v in values)
        if pairs:
            url += "?" + "&".join(pairs)
    return url
