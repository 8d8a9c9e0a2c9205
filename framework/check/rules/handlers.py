"""`sync-body-read`: a sync handler does not call the request's async methods."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...loader import METHODS
from ..ast_helpers import module_bindings
from ..project import Project
from ..registry import ERROR, Hit, rule

ASYNC_REQUEST_METHODS = ("json", "body", "form", "stream")


@rule(
    "sync-body-read",
    ERROR,
    "a sync (`def`) handler calling `request.json()`, `.body()`, `.form()` or `.stream()`, which are async",
)
def sync_body_read(project: Project) -> Iterator[Hit]:
    """In a `def` handler these calls return a coroutine, not the body: the handler fails at run time
    ("Object of type coroutine is not JSON serializable", or a 500 that says to make it async)."""
    for rf in project.files:
        src = project.sources.get(rf.file)
        if rf.kind != "route" or src is None or src.tree is None:
            continue
        for name, node, _ in module_bindings(src.tree):
            if name in METHODS and isinstance(node, ast.FunctionDef) and node.args.args:
                yield from _body_reads(rf.file, node)


def _body_reads(file: str, func: ast.FunctionDef) -> Iterator[Hit]:
    request = func.args.args[0].arg
    for call in ast.walk(func):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in ASYNC_REQUEST_METHODS
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == request
        ):
            method = call.func.attr
            yield Hit(
                file,
                call.lineno,
                f"`{func.name}` is a sync handler, so `{request}.{method}()` gives a coroutine, not the body.",
                f"Make it `async def {func.name}(...)` and write `await {request}.{method}()`.",
            )
