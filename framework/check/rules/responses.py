"""What handlers and controllers return: `api-returns-json` and `controller-framework-free`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...loader import METHODS
from ..ast_helpers import dotted, function_returns, imported_modules, module_bindings, within
from ..project import Project
from ..registry import ERROR, WARNING, Hit, rule

CONVENTION_QUOTE = (
    "Please do not use API Routes for fetching routes that usually returns JSON data. "
    "For those cases, call controllers directly from the frontend."
)
RESPONSE_MODULES = ("starlette.responses", "fastapi.responses", "fastapi")
_JSON_FIX = (
    "Call the controller directly from the page instead and remove this handler; if the JSON is "
    "for another system, exempt the route in [tool.framework.check] with a reason."
)
_RESULT_FIX = (
    "Return `Result(data=...)` or `Result(error=ControllerError(status, text))` "
    "(from framework.controllers) and build the response in the route.py that calls it."
)


@rule("api-returns-json", WARNING, "a handler under /api/ that returns a JSONResponse (or a dict)")
def api_returns_json(project: Project) -> Iterator[Hit]:
    """API routes are for actions (a redirect, a file); pages call controllers for their data.

    Only the handler's own `return` statements count, not those of functions nested in it.
    """
    for route in project.routes:
        if not (route.pattern == "/api" or route.pattern.startswith("/api/")):
            continue
        src = project.sources.get(route.file)
        if src is None or src.tree is None:
            continue
        for name, node, _ in module_bindings(src.tree):
            if name not in METHODS or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for ret in function_returns(node):
                what = _json_return(ret.value)
                if what:
                    yield Hit(
                        route.file,
                        ret.lineno,
                        f"`{name}` returns {what}: API routes are for actions (a redirect, a file). "
                        f'The convention: "{CONVENTION_QUOTE}"',
                        _JSON_FIX,
                    )


def _json_return(value: ast.expr | None) -> str | None:
    """`a JSONResponse` (any `*JSONResponse`) or `a dict`, for a return value that is one; else None."""
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return "a dict"
    if isinstance(value, ast.Call):
        name = dotted(value.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last.endswith("JSONResponse"):
            return f"a {last}"
        if name == "dict":
            return "a dict"
    return None


@rule(
    "controller-framework-free",
    ERROR,
    "modules under lib/controllers/ do not import or build Starlette (or FastAPI) responses",
)
def controller_framework_free(project: Project) -> Iterator[Hit]:
    """Controllers return Result(data, error) so pages, routes, jobs and tests can all call them."""
    for src in project.sources.values():
        if not src.file.startswith("lib/controllers/") or src.tree is None:
            continue
        lines: set[int] = set()
        for module, line in imported_modules(src.nodes):
            if any(within(module, m) for m in RESPONSE_MODULES) and line not in lines:
                lines.add(line)
                yield Hit(
                    src.file,
                    line,
                    f"a controller imports `{module}`: controllers return `Result`, not HTTP responses.",
                    _RESULT_FIX,
                )
        for node in src.nodes:
            if not isinstance(node, ast.Attribute) or node.lineno in lines:
                continue
            name = dotted(node)
            if name and any(name.startswith(m + ".") for m in RESPONSE_MODULES[:2]):
                lines.add(node.lineno)
                yield Hit(
                    src.file,
                    node.lineno,
                    f"a controller uses `{name}`: controllers return `Result`, not HTTP responses.",
                    _RESULT_FIX,
                )
