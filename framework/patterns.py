"""Next.js (path-to-regexp) path patterns: the proxy's matcher, `[tool.framework]` headers and redirects.

| pattern               | matches                                  | does not match         |
|-----------------------|------------------------------------------|------------------------|
| `/dashboard/:path*`   | `/dashboard`, `/dashboard/a/b`           | `/dashboards`          |
| `/api/files/:name`    | `/api/files/a.txt`                       | `/api/files`, `/api/files/a/b` |
| `/shop/:slug+`        | `/shop/a`, `/shop/a/b`                   | `/shop`                |
| `/docs/:page?`        | `/docs`, `/docs/intro`                   | `/docs/a/b`            |
| `/user/:id(\\d+)`     | `/user/42`                               | `/user/ada`            |
| `/((?!api|static).*)` | `/`, `/dashboard`                        | `/api/x`, `/static/y`  |

A pattern is compiled once to a regex for `fullmatch` on `paths.matcher_text`: the request path as the
router dispatches it, where `/` only separates segments (`%2F` and `%` inside a segment are written
`%2F` and `%25`). Compiled with DOTALL, so `.` also matches a decoded newline. With `named=True` each
`:param` is a named group, and `substitute` fills a destination like `/new/:path*` from a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DESTINATION_PARAM = re.compile(rf"(/?):({_NAME})[*+]?")  # `?` after a param starts the query
_LOCATION_SAFE = "/%!$&'()*+,;=:@-._~"


class MatcherError(ValueError):
    """A pattern that cannot be compiled; the message says which part and why."""


def _group_end(source: str, start: int) -> int:
    """Index just past the `)` closing the `(` at `start` (escapes and nesting respected)."""
    depth, i = 0, start
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise MatcherError(f"matcher {source!r}: unbalanced `(` at position {start + 1}")


def _param(prefix: str, inner: str, modifier: str, name: str | None) -> str:
    """One `:name` / `(regex)` part with its modifier; the named group holds the value without the `/`."""
    if name is None:
        if modifier == "?":
            return f"(?:{prefix}{inner})?"
        return f"(?:{prefix}{inner}){modifier}" if modifier else prefix + inner
    if modifier in ("*", "+"):
        value = f"(?P<{name}>{inner}(?:/{inner})*)" if prefix else f"(?P<{name}>(?:{inner})+)"
        return f"(?:{prefix}{value})?" if modifier == "*" else prefix + value
    value = f"{prefix}(?P<{name}>{inner})"
    return f"(?:{value})?" if modifier == "?" else value


def compile_matcher(source: str, *, named: bool = False) -> re.Pattern[str]:
    """One pattern -> a regex for `fullmatch` (see the module table); `named` makes each `:param` a group.

    >>> compile_matcher("/docs/:slug+", named=True).fullmatch("/docs/a/b").group("slug")
    'a/b'
    """
    if not isinstance(source, str) or not source.startswith("/"):
        raise MatcherError(f"matcher {source!r}: a matcher path starts with `/`, like '/dashboard/:path*'")
    out: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch in ":(":
            name = None
            if ch == ":":
                found = re.match(_NAME, source[i + 1 :])
                if found is None:
                    raise MatcherError(f"matcher {source!r}: `:` at position {i + 1} must be followed by a param name")
                name = found.group()
                i += 1 + len(name)
                inner = "[^/]+"
                if i < len(source) and source[i] == "(":
                    end = _group_end(source, i)
                    inner, i = f"(?:{source[i + 1 : end - 1]})", end
            else:
                end = _group_end(source, i)
                inner, i = f"(?:{source[i + 1 : end - 1]})", end
            modifier = source[i] if i < len(source) and source[i] in "*+?" else ""
            i += len(modifier)
            prefix = "/" if out and out[-1] == "/" else ""
            if prefix:
                out.pop()
            out.append(_param(prefix, inner, modifier, name if named else None))
        else:
            out.append("%25" if ch == "%" else re.escape(ch))  # a literal `%` is `%25` in the matched text
            i += 1
    body = "".join(out)
    if body.endswith("/") and len(body) > 1:
        body = body[:-1]
    try:
        return re.compile(f"{body}/?" if body != "/" else "/", re.DOTALL)
    except re.error as exc:
        raise MatcherError(f"matcher {source!r}: invalid regular expression ({exc})") from None


def combine(sources: Iterable[str]) -> re.Pattern[str]:
    """Several patterns as one regex that matches what any of them matches."""
    return re.compile("|".join(f"(?:{compile_matcher(s).pattern})" for s in sources), re.DOTALL)


def substitute(destination: str, match: re.Match[str]) -> str:
    """`destination` with each `:param` replaced by what the source pattern's named group matched; an
    optional param that matched nothing takes its `/` with it.

    >>> substitute("/new/:path*", compile_matcher("/old/:path*", named=True).fullmatch("/old/a/b%2Fc"))
    '/new/a/b%2Fc'
    >>> substitute("/new/:path*", compile_matcher("/old/:path*", named=True).fullmatch("/old"))
    '/new'
    """
    values = match.groupdict()

    def fill(found: re.Match[str]) -> str:
        slash, name = found.group(1), found.group(2)
        if name not in values:
            return found.group(0)  # a literal `:` (a port in an absolute URL, say)
        value = values[name]
        return "" if value is None else slash + quote(value, safe=_LOCATION_SAFE)

    return _DESTINATION_PARAM.sub(fill, destination) or "/"
