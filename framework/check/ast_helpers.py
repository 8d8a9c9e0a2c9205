"""Small readings of a parsed module that several rules share; pure functions over `ast`.

>>> [n for n, _, _ in module_bindings(ast.parse("import a.b\\nif x:\\n    def GET(r): ...\\n"))]
['a', 'GET']
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeGuard

Binding = tuple[str, ast.stmt, int]  # (name, the statement binding it, its line)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def module_bindings(tree: ast.Module) -> Iterator[Binding]:
    """Names bound at module level, also inside `if`/`try`/`with`, where a route may define its handlers."""
    yield from _bindings(tree.body)


def _bindings(body: Iterable[ast.stmt]) -> Iterator[Binding]:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node, node.lineno
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node, node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            yield node.target.id, node, node.lineno
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield (alias.asname or alias.name).split(".")[0], node, node.lineno
        elif isinstance(node, (ast.If, ast.With, ast.AsyncWith)):
            yield from _bindings(node.body)
            yield from _bindings(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _bindings(block)


_LITERAL_TYPES: Mapping[type[ast.AST], str] = {
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.JoinedStr: "str",
    ast.ListComp: "list",
    ast.DictComp: "dict",
    ast.SetComp: "set",
}


def literal_type(node: ast.AST) -> str | None:
    """The type name of a value that is certainly not callable (`"ok"` -> `str`), else None."""
    if isinstance(node, ast.Constant):
        return type(node.value).__name__
    return _LITERAL_TYPES.get(type(node))


def dotted(node: ast.AST) -> str | None:
    """`starlette.responses.JSONResponse` as written, for a chain of names; else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def imported_modules(nodes: Iterable[ast.AST]) -> Iterator[tuple[str, int]]:
    """Every module an import statement names: `from urllib import request` gives `urllib` and `urllib.request`."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def within(module: str, package: str) -> bool:
    """`psycopg.rows` is within `psycopg`; `psycopg2` is not."""
    return module == package or module.startswith(package + ".")


def function_returns(func: FunctionNode) -> Iterator[ast.Return]:
    """The function's own `return` statements, not those of functions nested in it."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def is_route_url(node: ast.AST) -> TypeGuard[ast.Call]:
    """`route_url(...)` or `<module>.route_url(...)`; another alias is not recognised."""
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "route_url")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "route_url")
    )


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """The argument at `index`, or passed as `name=`: `route_url("/x")` and `route_url(pattern="/x")` alike."""
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)
