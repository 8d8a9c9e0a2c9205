"""Where in the project's own files: a module's binding of a name, the `return` behind a bad result, the
innermost project frame of an exception. Read from the source only to report something, never per request.

| question                                  | answer                                   |
|-------------------------------------------|------------------------------------------|
| `project_relative(root, "/srv/p/lib/db.py")` | `"lib/db.py"` (None for a library)    |
| `line_of(module, "GET")`                  | the line of its `def`, assignment or import |
| `return_line(GET, ("hi", 201))`           | the line of `return "hi", 201`           |
| `project_location(root, exc)`             | (file, line) of the innermost project frame |
"""

from __future__ import annotations

import ast
import inspect
import os
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def line_of(module: ModuleType, name: str) -> int | None:
    """Where the module binds `name`: its `def`, an assignment, or the import that brings it in.

    Only called to report something (a warning, a problem), so reading the source here is fine.
    """
    value = getattr(module, name, None)
    code = getattr(value, "__code__", None)
    if code is not None and code.co_filename == module.__file__:
        return int(code.co_firstlineno)
    try:
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [node.name]
        else:
            continue
        if name in bound:
            return node.lineno
    return None


class HandlerResultError(TypeError):
    """A handler gave back something the framework cannot answer with. Raised by the framework, so the
    traceback has no frame in user code: `file` and `line` say where to look (the `return`)."""

    def __init__(self, message: str, file: str, line: int | None) -> None:
        super().__init__(message)
        self.file, self.line = file, line


def return_line(func: Callable[..., Any], value: object) -> int | None:
    """The line of the `return` in `func` that most likely gave back `value`, or None when it cannot tell.

    Read from the source at the time of the error (never on the request path): the only `return`, or
    the only one whose expression could produce a value of that type (a str literal for a str, a call
    of `.json()` / `.body()` / `.form()` for a coroutine).
    """
    try:
        lines, start = inspect.getsourcelines(inspect.unwrap(func))
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    returns = [(start + node.lineno - 1, node.value) for node in _returns(tree.body[0])]
    if len(returns) == 1:
        return returns[0][0]
    candidates = [line for line, expr in returns if _could_give(expr, value)]
    return candidates[0] if len(candidates) == 1 else None


def _returns(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The function's own `return` statements (not those of functions nested in it)."""
    found: list[ast.Return] = []
    todo: list[ast.AST] = list(func.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda n: n.lineno)


_LITERALS: dict[type, type[ast.AST] | tuple[type[ast.AST], ...]] = {
    str: (ast.Constant, ast.JoinedStr),
    bytes: ast.Constant,
    tuple: ast.Tuple,
    set: ast.Set,
    int: ast.Constant,
    float: ast.Constant,
    bool: ast.Constant,
}


def _could_give(expr: ast.expr | None, value: object) -> bool:
    if expr is None:
        return value is None
    if inspect.isawaitable(value):
        return (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in ("json", "body", "form", "stream")
        )
    literal = _LITERALS.get(type(value))
    if literal is None or not isinstance(expr, literal):
        return False
    return not isinstance(expr, ast.Constant) or type(expr.value) is type(value)


def project_location(root: Path, exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost place in the project's own files where `exc` happened (a SyntaxError's own
    position first, or the place a `HandlerResultError` names)."""
    if isinstance(exc, HandlerResultError):
        return exc.file, exc.line
    if isinstance(exc, SyntaxError) and exc.filename:
        rel = project_relative(root, exc.filename)
        if rel is not None:
            return rel, exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        rel = project_relative(root, frame.filename)
        if rel is not None:
            return rel, frame.lineno
    return None, None


def project_relative(root: Path, filename: object) -> str | None:
    """`/srv/proj/lib/db.py` -> `lib/db.py` when it is the project's own code under the (resolved) root, not
    a virtual environment or hidden folder inside it; None for the standard library and installed packages.

    String work only: the dev server runs it over every module in sys.modules on each reload. Modules
    and tracebacks carry the absolute path they were imported by, which starts with the resolved root.

    >>> project_relative(Path("/srv/proj"), "/srv/proj/lib/db.py"), project_relative(Path("/srv/proj"), "/srv/proj/.venv/x.py")
    ('lib/db.py', None)
    """
    prefix = str(root) + os.sep
    if not isinstance(filename, str) or not filename.startswith(prefix):
        return None
    rel = filename[len(prefix) :].replace(os.sep, "/")
    if any(p.startswith(".") or p in ("site-packages", "dist-packages") for p in rel.split("/")[:-1]):
        return None
    return rel


def dotted_name(file: str) -> str:
    """A project file's importable module name: `lib/db.py` -> `lib.db`, `lib/__init__.py` -> `lib`.

    (Route modules are imported by path under `module_name(file)`, since their folders are not identifiers.)
    """
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
