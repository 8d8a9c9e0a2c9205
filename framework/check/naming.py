"""How a route's Python names and its URL builder are spelled, for `framework new` and `framework check`.

| route                  | stem         | builder                                                  |
|------------------------|--------------|----------------------------------------------------------|
| `/api/refresh-token`   | `refresh_token` | `get_refresh_token_url()`                             |
| `/api/users/[id]`      | `users`      | `get_users_by_id_url(id: str)`                           |
| `/api/files/[...path]` | `files`      | `get_files_by_path_url(path: list[str])`                 |
| `/`                    | `home`       | `get_home_url()`                                         |

The check suggests the builder the scaffolder would write, so both read this module and neither
depends on the other.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence

from ..manifest import pattern_of
from ..segments import Kind, Segment


def python_name(name: str) -> str:
    """A URL param or folder name as a Python identifier: `user-id` -> `user_id`, `class` -> `class_`."""
    ident = re.sub(r"\W", "_", name).lower() or "_"
    if ident[0].isdigit():
        ident = "_" + ident
    return ident + "_" if keyword.iskeyword(ident) else ident


def _word(name: str) -> str:
    """A name as part of a longer identifier: `refresh-token` -> `refresh_token`."""
    return re.sub(r"\W", "_", name).lower()


def param_segments(segments: Sequence[Segment]) -> list[Segment]:
    return [s for s in segments if s.is_param]


def stem(segments: Sequence[Segment]) -> str:
    """The name a route's functions share: its literal segments without a leading `api` (`home` for `/`)."""
    names = [s.name for s in segments if s.kind is Kind.STATIC]
    if names[:1] == ["api"] and len(names) > 1:
        names = names[1:]
    return "_".join(_word(n) for n in names) or "home"


def qualified_stem(segments: Sequence[Segment]) -> str:
    """`stem` plus the params, so `/api/users` and `/api/users/[id]` never share a name: `users_by_id`."""
    names = [_word(p.name) for p in param_segments(segments)]
    return stem(segments) + ("_by_" + "_".join(names) if names else "")


def builder_name(segments: Sequence[Segment]) -> str:
    """`/api/refresh-token` -> `get_refresh_token_url`; `/api/users/[id]` -> `get_users_by_id_url`."""
    return f"get_{qualified_stem(segments)}_url"


def signature(segments: Sequence[Segment]) -> str:
    """The params as arguments: `id: str`, `path: list[str]`, `slug: list[str] | None = None`."""
    args = []
    for p in param_segments(segments):
        if p.kind is Kind.DYNAMIC:
            args.append(f"{python_name(p.name)}: str")
        elif p.kind is Kind.CATCH_ALL:
            args.append(f"{python_name(p.name)}: list[str]")
        else:
            args.append(f"{python_name(p.name)}: list[str] | None = None")
    return ", ".join(args)


def _params_dict(segments: Sequence[Segment]) -> str:
    items = []
    for p in param_segments(segments):
        arg = python_name(p.name)
        items.append(f'"{p.name}": {arg} or []' if p.kind is Kind.OPTIONAL_CATCH_ALL else f'"{p.name}": {arg}')
    return "{" + ", ".join(items) + "}"


def _call(pattern: str, segments: Sequence[Segment]) -> str:
    if param_segments(segments):
        return f'route_url("{pattern}", {_params_dict(segments)})'
    return f'route_url("{pattern}")'


def builder_hint(segments: Sequence[Segment]) -> str:
    """The one-line builder `framework check` suggests for a route without one."""
    return f"def {builder_name(segments)}({signature(segments)}) -> str: return {_call(pattern_of(segments), segments)}"


def builder_source(name: str, segments: Sequence[Segment], file: str) -> str:
    """The builder `framework new` writes into lib/urls/, with a docstring naming the route's file."""
    pattern = pattern_of(segments)
    return (
        f"def {name}({signature(segments)}) -> str:\n"
        f'    """The URL of `{pattern}` ({file})."""\n'
        f"    return {_call(pattern, segments)}\n"
    )
