"""URL builders and hard-coded URLs: `url-builder-missing`, `url-builder-mismatch`, `hard-coded-url`.

All three read `project.url_calls` and `project.builders`, computed once per run (see `builders.py`).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator, Mapping

from ...loader import EXPORTS
from ...manifest import Route, Shape, pattern_of, shape
from ...matcher import Matcher
from ...paths import BadPath, split_path
from ...segments import Kind, PatternError, parse_pattern
from ..ast_helpers import argument, is_route_url, module_bindings
from ..builders import RouteUrlCall
from ..naming import builder_hint
from ..project import Project
from ..registry import ERROR, WARNING, Hit, rule

_URL_TEXT = re.compile(r"/[^\s\"'<>`\\]*")
_PLACEHOLDER = "{\u2026}"


@rule(
    "url-builder-missing", WARNING, 'every route pattern is built by at least one `route_url("...")` call in lib/urls/'
)
def url_builder_missing(project: Project) -> Iterator[Hit]:
    """A builder per route makes every use of a URL findable, and checked when routes move."""
    for route in project.routes:
        if route.pattern not in project.builders:
            yield Hit(
                route.file,
                _first_handler_line(project, route.file),
                f"the route `{route.pattern}` has no URL builder in lib/urls/, so its uses cannot be tracked.",
                f"Add `{builder_hint(route.segments)}` to a module in lib/urls/ "
                "(with `from framework.urls import route_url`), and build its URLs with it.",
            )


def _first_handler_line(project: Project, file: str) -> int | None:
    src = project.sources.get(file)
    if src is None or src.tree is None:
        return None
    return next((line for name, _, line in module_bindings(src.tree) if name in EXPORTS), None)


@rule(
    "url-builder-mismatch",
    ERROR,
    "each `route_url` call in lib/urls/ has a literal pattern naming a route that exists, with that route's params",
)
def url_builder_mismatch(project: Project) -> Iterator[Hit]:
    """A builder for a route that moved, or with the wrong params, builds URLs that answer 404."""
    by_pattern = {r.pattern: r for r in project.routes}
    by_shape = {shape(r.segments): r for r in project.routes}
    for call in project.url_calls:
        yield from _check_call(call, by_pattern, by_shape)


def _check_call(call: RouteUrlCall, by_pattern: Mapping[str, Route], by_shape: Mapping[Shape, Route]) -> Iterator[Hit]:
    if call.pattern is None:
        yield Hit(
            call.file,
            call.line,
            "`route_url` is called without a literal pattern, so nothing can tell which route it builds.",
            'Pass the pattern as a string literal, like route_url("/api/users/[id]", {"id": user_id}).',
        )
        return
    shown = f"route_url({call.pattern!r})"
    try:
        segments = parse_pattern(call.pattern)
    except PatternError as exc:
        yield Hit(
            call.file,
            call.line,
            f"`{shown}`: {exc}.",
            "Write the URL pattern in Next.js notation, like '/api/users/[id]'.",
        )
        return
    pattern = pattern_of(segments)
    route = by_pattern.get(pattern)
    if route is not None:
        yield from _check_params(call, shown, route)
        return
    same = by_shape.get(shape(segments))
    if same is not None:
        yield Hit(
            call.file,
            call.line,
            f"`{shown}` names its params differently from the route `{same.pattern}` ({same.file}).",
            f'Write route_url("{same.pattern}", ...), with the route\'s param names.',
        )
        return
    new = f"app{pattern}/route.py (`framework new route {pattern.lstrip('/')}`)"
    close = difflib.get_close_matches(pattern, list(by_pattern), n=1, cutoff=0.7)
    hint = (
        f"Did you mean `{close[0]}`? Otherwise create {new} or delete the builder."
        if close
        else f"Create {new}, or delete the builder if the route is gone."
    )
    yield Hit(call.file, call.line, f"`{shown}` names no route: no app/**/route.py answers `{pattern}`.", hint)


def _check_params(call: RouteUrlCall, shown: str, route: Route) -> Iterator[Hit]:
    """Every `[x]` and `[...x]` passed (`[[...x]]` may be left out), nothing extra."""
    if call.params is None:
        return
    names = [s.name for s in route.segments if s.is_param]
    required = {s.name for s in route.segments if s.kind in (Kind.DYNAMIC, Kind.CATCH_ALL)}
    missing = [n for n in names if n in required and n not in call.params]
    extra = sorted(call.params - set(names))
    example = "{" + ", ".join(f'"{n}": ...' for n in names) + "}"
    if missing:
        yield Hit(
            call.file,
            call.line,
            f"`{shown}` does not pass the param{'s' if len(missing) > 1 else ''} "
            f"{', '.join(f'`{n}`' for n in missing)} of the route ({route.file}).",
            f'Pass every param of the route: route_url("{route.pattern}", {example}).',
        )
    if extra:
        yield Hit(
            call.file,
            call.line,
            f"`{shown}` passes {', '.join(f'`{n}`' for n in extra)}, which the route `{route.pattern}` "
            f"({route.file}) does not have.",
            f"Remove it: the route takes {example}." if names else "Remove it: the route takes no params.",
        )


@rule(
    "hard-coded-url",
    ERROR,
    'a string in app/ or lib/ that is a route\'s URL (`"/api/users/42"`) instead of a builder call',
)
def hard_coded_url(project: Project) -> Iterator[Hit]:
    """Hard-coded URLs break silently when a route moves; builder calls are found and checked."""
    if not project.routes:
        return
    matcher = Matcher((r, r) for r in project.routes)
    for src in project.sources.values():
        if src.tree is None:
            continue
        for text, line in _string_nodes(src.nodes):
            route = url_route(text, matcher)
            if route is None:
                continue
            names = project.builders.get(route.pattern)
            fix = (
                f"Call {' or '.join(f'`{n}()`' for n in names)} instead."
                if names
                else f'Add a builder for `{route.pattern}` in lib/urls/ (it calls route_url("{route.pattern}", ...)) '
                "and call it instead."
            )
            yield Hit(
                src.file,
                line,
                f"hard-coded URL {text!r} of the route `{route.pattern}` ({route.file}): "
                "it breaks silently when the route moves.",
                fix,
            )


def _string_nodes(nodes: tuple[ast.AST, ...]) -> Iterator[tuple[str, int]]:
    """String literals and f-strings (their `{...}` parts as a placeholder), minus docstrings and route_url patterns."""
    skip: set[int] = set()
    for node in nodes:
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        elif is_route_url(node):
            arg = argument(node, 0, "pattern")
            if arg is not None:
                skip.add(id(arg))
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node) if n is not node)
    for node in nodes:
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else _PLACEHOLDER for v in node.values)
            yield text, node.lineno


def url_route(text: str, matcher: Matcher[Route]) -> Route | None:
    """The route a string is a URL of: `"/api/files/a.pdf"` -> `/api/files/[name]`; None for anything else.

    Only whole strings that look like a path count (`"/"` alone is too common to mean the home page),
    and only routes with at least one literal segment (a root catch-all would match every path).
    """
    if not _URL_TEXT.fullmatch(text) or text.startswith("//"):
        return None
    path = re.split(r"[?#]", text, maxsplit=1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    if path in ("", "/"):
        return None
    try:
        segments = split_path(path.encode("utf-8"))
    except BadPath:
        return None
    if not isinstance(segments, tuple) or not segments:
        return None
    found = matcher.match(segments)
    if found is None or not any(s.kind is Kind.STATIC for s in found[0].segments):
        return None
    return found[0]
