"""`syntax-error` and `route-exports`: every file parses, and every `route.py` exports handlers by their right names."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...loader import (
    EXPORTS,
    NO_HANDLER_TEXT,
    WEBSOCKET,
    method_suggestion,
    misspelled_text,
    not_callable_problem,
    sync_websocket_problem,
)
from ..ast_helpers import literal_type, module_bindings
from ..project import Project
from ..registry import ERROR, Hit, rule


@rule("syntax-error", ERROR, "a .py file under app/ or lib/ that Python cannot parse")
def syntax_error(project: Project) -> Iterator[Hit]:
    """The other rules cannot read the file, and it fails as soon as it is imported."""
    for src in project.sources.values():
        if src.error is not None:
            yield Hit(
                src.file, src.error.lineno, f"cannot parse: {src.error.msg}.", "Fix the syntax error at that line."
            )


@rule(
    "route-exports",
    ERROR,
    'a route.py exports at least one method handler or WEBSOCKET; `get`, `Post`, `DELTE` get "did you mean `GET`?"; '
    "a method name bound to something that is not callable; a WEBSOCKET that is not `async def`",
)
def route_exports(project: Project) -> Iterator[Hit]:
    """Only uppercase method names are handlers: anything else answers 405 without a word.

    Read from the source, in the loader's wording (`loader.method_suggestion`, `not_callable_problem`).
    """
    for rf in project.files:
        src = project.sources.get(rf.file)
        if rf.kind == "route" and src is not None and src.tree is not None:
            yield from _exports(rf.file, src.tree)


def _exports(file: str, tree: ast.Module) -> Iterator[Hit]:
    handlers = 0
    for name, node, line in module_bindings(tree):
        if name in EXPORTS:
            handlers += 1
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            type_name = literal_type(value) if value is not None else None
            if type_name is not None:
                yield Hit.of(not_callable_problem(file, name, type_name, line))
            elif name == WEBSOCKET and isinstance(node, ast.FunctionDef):
                yield Hit.of(sync_websocket_problem(file, line))
            continue
        defined_here = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
            isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda)
        )
        # `from lib.handlers import GET as get`: a handler imported under a name that is not one
        imported_handler = isinstance(node, ast.ImportFrom) and any(
            a.asname == name and a.name in EXPORTS for a in node.names
        )
        suggestion = method_suggestion(name) if defined_here or imported_handler else None
        if suggestion:
            yield Hit(file, line, misspelled_text(name, suggestion), f"Rename `{name}` to `{suggestion}`.")
    if not handlers:
        text, _, fix = NO_HANDLER_TEXT.partition(". ")
        yield Hit(file, None, text + ".", fix)
