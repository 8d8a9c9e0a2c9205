"""Folder names to route segments, the way the Next.js App Router reads them.

| folder name   | kind                | URL part     | rank |
|---------------|---------------------|--------------|------|
| `users`       | STATIC              | `users`      | 0    |
| `%5Fliteral`  | STATIC              | `_literal`   | 0    |
| `[id]`        | DYNAMIC             | one segment  | 1    |
| `[...path]`   | CATCH_ALL           | one or more  | 2    |
| `[[...slug]]` | OPTIONAL_CATCH_ALL  | zero or more | 3    |
| `(admin)`     | GROUP               | nothing      | -    |
| `_lib`        | PRIVATE             | not routed   | -    |

The rank is the match priority at one position: lower wins. `parse_pattern` reads a whole URL
pattern (`/api/users/[id]`), as `route_url`, `framework check` and `framework new` take it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum


class Kind(IntEnum):
    STATIC = 0
    DYNAMIC = 1
    CATCH_ALL = 2
    OPTIONAL_CATCH_ALL = 3
    GROUP = 4
    PRIVATE = 5


@dataclass(frozen=True, slots=True)
class Segment:
    """A parsed folder name. `name` is the literal text for STATIC, the param name for params."""

    kind: Kind
    name: str

    @property
    def is_param(self) -> bool:
        return self.kind in (Kind.DYNAMIC, Kind.CATCH_ALL, Kind.OPTIONAL_CATCH_ALL)

    @property
    def is_catch_all(self) -> bool:
        return self.kind in (Kind.CATCH_ALL, Kind.OPTIONAL_CATCH_ALL)

    def notation(self) -> str:
        """The segment as written in a URL pattern: `users`, `[id]`, `[...path]`, `[[...slug]]`."""
        return {
            Kind.STATIC: self.name,
            Kind.DYNAMIC: f"[{self.name}]",
            Kind.CATCH_ALL: f"[...{self.name}]",
            Kind.OPTIONAL_CATCH_ALL: f"[[...{self.name}]]",
            Kind.GROUP: f"({self.name})",
            Kind.PRIVATE: self.name,
        }[self.kind]


class SegmentError(ValueError):
    """A folder name the router refuses: `what` is wrong with it, `fix` says what to write instead."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what}; {fix}")
        self.what = what
        self.fix = fix


_PARAM_NAME = re.compile(r"[^\[\]().\s/][^\[\]()/\s]*")
_ESCAPED_UNDERSCORE = ("%5F", "%5f")


def is_private(name: str) -> bool:
    """`_lib` is private (not routed, nor anything below it); `%5Flib` is the escape for a literal `_lib`."""
    return name.startswith("_")


def parse_segment(name: str) -> Segment:
    """Parse one folder name.

    >>> parse_segment("[id]")
    Segment(kind=<Kind.DYNAMIC: 1>, name='id')
    >>> parse_segment("%5Fliteral")
    Segment(kind=<Kind.STATIC: 0>, name='_literal')
    """
    if not name.strip():
        raise SegmentError("an empty or whitespace-only folder name cannot be a URL segment", "rename the folder")
    if name != name.strip():
        raise SegmentError(
            f"folder name {name!r} starts or ends with whitespace", "remove the whitespace from the folder name"
        )
    if is_private(name):
        return Segment(Kind.PRIVATE, name)
    if name.startswith(_ESCAPED_UNDERSCORE):
        return Segment(Kind.STATIC, "_" + name[3:])
    if name.startswith("(") and name.endswith(")"):
        inner = name[1:-1]
        if not inner.strip() or any(c in inner for c in "()[]"):
            raise SegmentError(
                f"route group {name!r} has no plain name inside the parentheses", "name it like `(admin)`"
            )
        return Segment(Kind.GROUP, inner)
    if "[" not in name and "]" not in name:
        return Segment(Kind.STATIC, name)
    return _parse_param(name)


def _parse_param(name: str) -> Segment:
    if name.startswith("[[") and name.endswith("]]"):
        inner = name[2:-2]
        if not inner.startswith("..."):
            raise SegmentError(
                f"optional parameters like {name!r} are not supported (Next.js refuses them too)",
                f"use `[{inner}]` beside a `route.py` in the parent folder, or an optional catch-all `[[...{inner}]]`",
            )
        return Segment(Kind.OPTIONAL_CATCH_ALL, _param_name(name, inner[3:]))
    if name.startswith("[") and name.endswith("]") and not name.startswith("[["):
        inner = name[1:-1]
        if inner.startswith("..."):
            return Segment(Kind.CATCH_ALL, _param_name(name, inner[3:]))
        return Segment(Kind.DYNAMIC, _param_name(name, inner))
    raise SegmentError(
        f"folder name {name!r} has brackets that do not span the whole name",
        "write `[id]`, `[...path]` or `[[...slug]]`, or remove the brackets for a literal segment",
    )


def _param_name(folder: str, param: str) -> str:
    if not _PARAM_NAME.fullmatch(param):
        raise SegmentError(
            f"folder name {folder!r} has no valid parameter name inside the brackets",
            "write a name like `[id]` or `[...path]` (no brackets, parentheses, slashes, spaces or leading dots in the name)",
        )
    return param


class PatternError(ValueError):
    """A URL pattern no route can have (`api/x`, `/api/[id`, `/(shop)/x`); the message says what to write.

    `folder` is the segment at fault when it is a folder that is never part of a URL (`(group)`, `_private`),
    so a caller taking folder paths can word that case its own way.
    """

    def __init__(self, message: str, folder: Segment | None = None) -> None:
        super().__init__(message)
        self.folder = folder


def parse_pattern(pattern: str, *, groups: bool = False) -> tuple[Segment, ...]:
    """A URL pattern to its segments, as the router reads folder names.

    >>> parse_pattern("/api/[id]")
    (Segment(kind=<Kind.STATIC: 0>, name='api'), Segment(kind=<Kind.DYNAMIC: 1>, name='id'))

    With `groups=True` route groups may appear and are left out: `/(shop)/cart` is `/cart`.
    """
    if not pattern.startswith("/"):
        raise PatternError("a route pattern starts with `/`, like '/api/users/[id]'")
    segments: list[Segment] = []
    for part in filter(None, pattern.split("/")):
        try:
            seg = parse_segment(part)
        except SegmentError as exc:
            raise PatternError(str(exc)) from None
        if seg.kind is Kind.GROUP and groups:
            continue
        if seg.kind in (Kind.GROUP, Kind.PRIVATE):
            raise PatternError(f"`{part}` is a folder, not a URL segment; write the URL pattern without it", seg)
        segments.append(seg)
    return tuple(segments)
