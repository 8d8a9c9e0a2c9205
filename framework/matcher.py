"""URL segments to a route and its params, at a cost that grows with path depth, not route count.

Fully static routes are one dict lookup. So are routes whose only param is the last segment
(`api/users/[id]`, the most common dynamic shape), by their static prefix, unless that prefix has a
static child named like the last segment (a deeper `[[...x]]` may then come first). The rest walk a
tree of segments, trying at each position: the static child, then `[x]`, then `[...x]`, then
`[[...x]]`, and backing out when a more specific branch does not match deeper down (so `shop/[c]` and
`shop/[c]/[...rest]` both work). Every route a path matches is tried in the manifest's order, most
specific first: the walk answers with the first (tests/test_matching.py holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from .manifest import Route
from .segments import Kind

T = TypeVar("T")
Params = dict[str, "str | list[str]"]


_LEAF: dict[str, Any] = {}  # the children of every node without static children; never written to


class _Node(Generic[T]):
    __slots__ = ("catch_all", "dynamic", "dynamic_name", "optional", "static", "value")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = _LEAF  # a dict of its own once it has a child: 64 bytes a leaf
        self.dynamic: _Node[T] | None = None
        self.dynamic_name = ""
        self.catch_all: tuple[str, T] | None = None
        self.optional: tuple[str, T] | None = None
        self.value: T | None = None


class Matcher(Generic[T]):
    """Built once from `(route, value)` pairs; `match` returns `(value, params)` or None."""

    def __init__(self, entries: Iterable[tuple[Route, T]]) -> None:
        self.static: dict[tuple[str, ...], T] = {}
        self.root: _Node[T] = _Node()
        # static prefix -> (the node under it, the name of its `[x]`, the value of the route that `[x]` ends)
        self.last_param: dict[tuple[str, ...], tuple[_Node[T], str, T]] = {}
        for route, value in entries:
            if route.is_static:
                self.static[tuple(s.name for s in route.segments)] = value
                continue
            node = parent = self.root
            for seg in route.segments:
                parent = node
                if seg.kind is Kind.STATIC:
                    if node.static is _LEAF:
                        node.static = {}
                    node = node.static.setdefault(seg.name, _Node())
                elif seg.kind is Kind.DYNAMIC:
                    if node.dynamic is None:
                        node.dynamic = _Node()
                        node.dynamic_name = seg.name
                    node = node.dynamic
                elif seg.kind is Kind.CATCH_ALL:
                    node.catch_all = (seg.name, value)
                else:
                    node.optional = (seg.name, value)
            if not route.segments[-1].is_catch_all:
                node.value = value
            *prefix, last = route.segments
            if last.kind is Kind.DYNAMIC and all(seg.kind is Kind.STATIC for seg in prefix):
                self.last_param[tuple(seg.name for seg in prefix)] = (parent, last.name, value)

    def match(self, segments: tuple[str, ...]) -> tuple[T, Params] | None:
        value = self.static.get(segments)
        if value is not None:
            return value, {}
        if segments:
            hit = self.last_param.get(segments[:-1])
            if hit is not None and segments[-1] not in hit[0].static:
                return hit[2], {hit[1]: segments[-1]}
        params: Params = {}
        found = self._walk(self.root, segments, 0, params)
        if found is None:
            return None
        # Params are recorded on the way back out, deepest first; give them in path order.
        return found, (dict(reversed(params.items())) if len(params) > 1 else params)

    def _walk(self, node: _Node[T], segments: tuple[str, ...], i: int, params: Params) -> T | None:
        end = len(segments)
        # A node whose only way on is its static child leaves nothing to back out to: step down in this call.
        while i < end and node.dynamic is None and node.catch_all is None and node.optional is None:
            child = node.static.get(segments[i])
            if child is None:
                return None
            node, i = child, i + 1
        if i == end:
            if node.value is not None:
                return node.value
            if node.optional is not None:
                return node.optional[1]
            return None
        child = node.static.get(segments[i])
        if child is not None:
            found = self._walk(child, segments, i + 1, params)
            if found is not None:
                return found
        if node.dynamic is not None:
            found = self._walk(node.dynamic, segments, i + 1, params)
            if found is not None:
                params[node.dynamic_name] = segments[i]
                return found
        if node.catch_all is not None:
            params[node.catch_all[0]] = list(segments[i:])
            return node.catch_all[1]
        if node.optional is not None:
            params[node.optional[0]] = list(segments[i:])
            return node.optional[1]
        return None

    def format_tree(self) -> str:
        """The tree as indented text, for tests and debugging: failures read as diffs."""
        lines = [f"static {'/' + '/'.join(k)}" for k in sorted(self.static)]

        def visit(node: _Node[T], depth: int) -> None:
            pad = "  " * depth
            for name in sorted(node.static):
                lines.append(f"{pad}{name}{' *' if node.static[name].value is not None else ''}")
                visit(node.static[name], depth + 1)
            if node.dynamic is not None:
                lines.append(f"{pad}[{node.dynamic_name}]{' *' if node.dynamic.value is not None else ''}")
                visit(node.dynamic, depth + 1)
            if node.catch_all is not None:
                lines.append(f"{pad}[...{node.catch_all[0]}] *")
            if node.optional is not None:
                lines.append(f"{pad}[[...{node.optional[0]}]] *")

        visit(self.root, 0)
        return "\n".join(lines)
