"""The URL builders: every `route_url(...)` call in `lib/urls/`, read once per run and shared by three rules.

    def get_users_by_id_url(id: str) -> str:              # lib/urls/__init__.py, line 7
        return route_url("/api/users/[id]", {"id": id})

is `RouteUrlCall("lib/urls/__init__.py", 7, "/api/users/[id]", frozenset({"id"}), "get_users_by_id_url")`,
and `builders_by_pattern` maps `/api/users/[id]` to `["lib.urls.get_users_by_id_url"]`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..manifest import pattern_of
from ..segments import PatternError, parse_pattern
from .ast_helpers import argument, is_route_url
from .source import Source


@dataclass(frozen=True, slots=True)
class RouteUrlCall:
    """One `route_url(...)` call. `pattern` is None unless a literal; `params` None when not readable statically."""

    file: str
    line: int
    pattern: str | None
    params: frozenset[str] | None
    function: str | None  # the innermost function the call is in


def is_urls_module(file: str) -> bool:
    """Builders live in the `lib.urls` package (`lib/urls/**.py`) or module (`lib/urls.py`)."""
    return file == "lib/urls.py" or file.startswith("lib/urls/")


def route_url_calls(sources: Iterable[Source]) -> tuple[RouteUrlCall, ...]:
    calls: list[RouteUrlCall] = []
    for src in sources:
        if not is_urls_module(src.file) or src.tree is None:
            continue
        owners = _call_owners(src.tree)
        for node in src.nodes:
            if is_route_url(node):
                first = argument(node, 0, "pattern")
                pattern = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                params = _params_of(argument(node, 1, "params"))
                calls.append(RouteUrlCall(src.file, node.lineno, pattern, params, owners.get(id(node))))
    return tuple(calls)


def builders_by_pattern(calls: Iterable[RouteUrlCall]) -> Mapping[str, tuple[str, ...]]:
    """Normalised pattern -> the builders that call `route_url` with it (`lib.urls.get_health_url`)."""
    found: dict[str, list[str]] = {}
    for call in calls:
        if call.pattern is None:
            continue
        try:
            key = pattern_of(parse_pattern(call.pattern))
        except PatternError:
            continue
        name = f"{_module_of(call.file)}.{call.function}" if call.function else f"route_url({call.pattern!r})"
        names = found.setdefault(key, [])
        if name not in names:
            names.append(name)
    return {key: tuple(names) for key, names in found.items()}


def _params_of(node: ast.expr | None) -> frozenset[str] | None:
    """The param names of a dict literal, `dict(a=...)` or `None`; None for anything else."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return frozenset()
    if isinstance(node, ast.Dict):
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        return frozenset(keys) if len(keys) == len(node.keys) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
        and all(k.arg for k in node.keywords)
    ):
        return frozenset(k.arg for k in node.keywords if k.arg)
    return None


def _call_owners(tree: ast.Module) -> dict[int, str]:
    """`id(route_url call)` -> the name of the innermost function it is in."""
    owners: dict[int, str] = {}

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if is_route_url(child) and owner:
                owners[id(child)] = owner
            visit(child, child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else owner)

    visit(tree, None)
    return owners


def _module_of(file: str) -> str:
    """`lib/urls/__init__.py` -> `lib.urls`."""
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
