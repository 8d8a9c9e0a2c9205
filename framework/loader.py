"""Import each `route.py` by file path and read its method exports once, at load time.

Folder names like `refresh-token` or `[id]` are not Python identifiers, so route modules are
imported from their file, under a stable unique module name: their path relative to the root
without `.py` (`app/api/users/[id]/route`). Stdlib only.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import marshal
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from .errors import Problem, location
from .locations import line_of, project_location
from .manifest import Route
from .route_config import RouteConfig, config_warnings, read_config
from .signatures import Signature, read_signature

# QUERY: the safe method with a body (draft-ietf-httpbis-safe-method-w-body), as recent Next.js accepts it.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")
# Not an HTTP method: the handler of WebSocket connections to the route's URL (never listed in `Allow`).
WEBSOCKET = "WEBSOCKET"
EXPORTS = (*METHODS, WEBSOCKET)  # every name a route module exports a handler under


@dataclass(frozen=True, slots=True)
class Handler:
    """One exported method. `takes_context` is read from the signature once: `GET(request, context)`;
    `signature` is set when the handler asks for typed inputs or a result type (`framework.signatures`)."""

    method: str
    func: Callable[..., Any]
    takes_context: bool
    signature: Signature | None = None


@dataclass(frozen=True, slots=True)
class LoadedRoute:
    route: Route
    handlers: Mapping[str, Handler]
    warnings: tuple[str, ...] = ()
    config: RouteConfig = field(default_factory=RouteConfig)


@dataclass(frozen=True, slots=True)
class Failure:
    """A file that cannot be served (a route, or the proxy): the problem, and the exception behind it
    (for the dev page's traceback) when there was one."""

    file: str
    problem: Problem
    error: BaseException | None = field(default=None, compare=False)


def is_async(func: object) -> bool:
    """An `async def` function, or an object whose `__call__` is one."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))  # noqa: B004


def module_name(file: str) -> str:
    """`app/api/users/[id]/route.py` -> `app/api/users/[id]/route`: unique per file, stable across runs."""
    return file.removesuffix(".py")


def import_file(root: Path, file: str) -> ModuleType:
    """Import `root/file` afresh under `module_name(file)`; exceptions propagate unchanged.

    With a valid `__pycache__` bytecode file the module is built straight from it (`cached_code`):
    importlib's path handling cost 20 us a route, a fifth of `framework start` at 10,000 routes. The
    module gets what importlib would give it but the spec and loader (`__spec__` and `__loader__` are
    None, as for `__main__`), which no route uses and which cost 300 bytes a route. Without one,
    importlib compiles the source and writes the bytecode, so the next start takes the quick way.
    """
    name = module_name(file)
    path = os.path.join(root, file) if os.sep == "/" else str(root / file)
    found = cached_code(path)
    code: CodeType | None = None
    if found is None:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None  # a .py path always has a source loader
        module, loader = importlib.util.module_from_spec(spec), spec.loader
    else:
        code, cached = found
        module = ModuleType(name)
        # the code's own file name string, not an equal copy: 100 bytes a route
        vars(module).update(__file__=code.co_filename, __cached__=cached, __package__="")
    sys.modules[name] = module
    try:
        if code is None:
            loader.exec_module(module)
        else:
            exec(code, vars(module))
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


_TAG = sys.implementation.cache_tag
_MAGIC = importlib.util.MAGIC_NUMBER


def cached_code(path: str) -> tuple[CodeType, str] | None:
    """The code of the source file at `path` and its bytecode file's path, when Python would load it
    from `__pycache__`: a timestamp .pyc with this interpreter's magic number, the source's whole-second
    mtime and its size, compiled for this very path. None otherwise (no .pyc, a stale or hash-based
    one, a moved tree, `-O`, `PYTHONPYCACHEPREFIX`, Windows paths): importlib does it the long way.

    Read with `os.read`: `io.open_code` builds two file objects per call, 10 us a route.
    """
    if _TAG is None or os.sep != "/" or sys.flags.optimize or sys.pycache_prefix is not None:
        return None
    head, _, tail = path.rpartition("/")
    cached = f"{head}/__pycache__/{tail.removesuffix('.py')}.{_TAG}.pyc"
    try:
        source = os.stat(path)
        fd = os.open(cached, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
    except OSError:
        return None
    data = b"".join(chunks)
    if (
        len(data) < 16
        or data[:4] != _MAGIC
        or data[4:8] != b"\0\0\0\0"  # flags: 0 is a timestamp .pyc (PEP 552)
        or int.from_bytes(data[8:12], "little") != int(source.st_mtime) & 0xFFFFFFFF
        or int.from_bytes(data[12:16], "little") != source.st_size & 0xFFFFFFFF
    ):
        return None
    try:
        code = marshal.loads(memoryview(data)[16:])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(code, CodeType) or code.co_filename != path:
        return None  # importlib rewrites co_filename for a tree that moved; leave that to it
    return code, cached


def import_or_failure(root: Path, file: str) -> ModuleType | Failure:
    """`import_file`, or the failure naming the file and line: anything user code raises at import time,
    `SystemExit` included (a `sys.exit()` in a route must not end `framework check` silently); Ctrl+C is not."""
    try:
        return import_file(root, file)
    except (Exception, SystemExit) as exc:
        return Failure(file, import_problem(root, file, exc), exc)


def load_route(root: Path, route: Route) -> LoadedRoute | Failure:
    """Import one route module and collect its handlers, or the failure that stops it loading."""
    module = import_or_failure(root, route.file)
    if isinstance(module, Failure):
        return module
    loaded = read_handlers(route, module)
    return Failure(route.file, loaded) if isinstance(loaded, Problem) else loaded


def read_handlers(route: Route, module: ModuleType) -> LoadedRoute | Problem:
    handlers: dict[str, Handler] = {}
    warnings: list[str] = []
    for name, value in vars(module).items():
        if name[:1] == "_":  # dunders and private names: neither handlers nor misspelled ones
            continue
        if name in EXPORTS:
            if not callable(value):
                return not_callable_problem(route.file, name, type(value).__name__, line_of(module, name))
            if name == WEBSOCKET and not is_async(value):
                return sync_websocket_problem(route.file, line_of(module, name))
            signature: Signature | None = None
            if name != WEBSOCKET:
                params = [s.name for s in route.segments if s.is_param]
                typed = read_signature(value, name, route.file, line_of(module, name), params)
                if isinstance(typed, Problem):
                    return typed
                signature = typed
            context = signature.leading >= 2 if signature is not None else takes_context(value)
            handlers[name] = Handler(name, value, context, signature)
        elif suggestion := misspelled_method(name, value, module.__name__):
            warnings.append(f"{location(route.file, line_of(module, name))}: {misspelled_text(name, suggestion)}")
    if not handlers:
        warnings.append(f"{route.file}: {NO_HANDLER_TEXT}")
    config = read_config(route.file, module)
    if isinstance(config, Problem):
        return config
    return LoadedRoute(route, handlers, (*warnings, *config_warnings(route.file, module, config, handlers)), config)


def misspelled_method(name: str, value: object, module: str) -> str | None:
    """`get`, `Post`, `DELTE` -> the method it was meant to be, for a function defined in the route module,
    or one imported under that name whose own name is a method (`from lib.handlers import GET as get`).

    A function imported under its own lowercase name (`from httpx import get`) is not a handler mix-up.
    """
    if not callable(value):
        return None
    if getattr(value, "__module__", None) != module and getattr(value, "__name__", None) not in EXPORTS:
        return None
    return method_suggestion(name)


def method_suggestion(name: str) -> str | None:
    """The export a non-handler name was meant to be, by name alone: `get` -> `GET`, `DELTE` -> `DELETE`,
    `websocket` -> `WEBSOCKET`.

    Shared by the loader (a runtime warning) and `framework check` (read from the source with `ast`).
    """
    if name.startswith("_") or name in EXPORTS:
        return None
    if name.upper() in EXPORTS:
        return name.upper()
    close = difflib.get_close_matches(name.upper(), EXPORTS, n=1, cutoff=0.8)
    return close[0] if close else None


NO_HANDLER_TEXT = f"exports no handler, so every method answers 405. Define one of {', '.join(EXPORTS)}, e.g. `def GET(request): ...`."


def misspelled_text(name: str, suggestion: str) -> str:
    return f"`{name}` is not a handler: only uppercase method names count. Did you mean `{suggestion}`?"


def not_callable_problem(file: str, name: str, type_name: str, line: int | None) -> Problem:
    """`GET = "ok"`: reported the same way by the loader (at import) and by `framework check` (from the source)."""
    what, define = (
        ("WebSocket connections", "async def WEBSOCKET(websocket)")
        if name == WEBSOCKET
        else (f"{name} requests", f"def {name}(request)")
    )
    return Problem(
        "handler-not-callable",
        f"`{name}` is a {type_name}, not a function, so it cannot handle {what}.",
        f"Define `{define}: ...` or rename the variable.",
        (file,),
        line,
    )


def sync_websocket_problem(file: str, line: int | None) -> Problem:
    """`def WEBSOCKET`: a plain function could not await `websocket.accept()` or `receive_text()`, and one
    running in the thread pool would hold a thread for the whole connection. Loader and check alike."""
    return Problem(
        "websocket-not-async",
        "`WEBSOCKET` is a plain `def`: a WebSocket handler awaits the socket for the whole connection.",
        "Make it `async def WEBSOCKET(websocket): ...` and await the socket's methods, "
        "e.g. `await websocket.accept()`.",
        (file,),
        line,
    )


def takes_context(func: Callable[..., object]) -> bool:
    """Two or more positional parameters (or `*args`): the handler takes `context`. Read from a plain
    function's code object; anything else through `inspect.signature`."""
    code = getattr(func, "__code__", None)
    if code is not None and not inspect.ismethod(func):
        return bool(code.co_argcount >= 2 or code.co_flags & inspect.CO_VARARGS)
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def one_per_cause(problems: list[Problem]) -> list[Problem]:
    """Import problems with one cause (a broken `lib/db.py` every route imports) as one problem naming the
    module, its line and every route it stops, instead of one paragraph per route.

    >>> p = Problem("import-error", "cannot import the route (imported by app/a/route.py): NameError: x.", "Fix.",
    ...             ("lib/db.py", "app/a/route.py"), 3)
    >>> q = Problem("import-error", "cannot import the route (imported by app/b/route.py): NameError: x.", "Fix.",
    ...             ("lib/db.py", "app/b/route.py"), 3)
    >>> [str(m) for m in one_per_cause([p, q])]
    ['lib/db.py:3: 2 routes cannot be imported (app/a/route.py and app/b/route.py import this module): NameError: x. Fix.']
    """
    groups: dict[tuple[str, int | None, str], list[Problem]] = {}
    out: list[Problem | tuple[str, int | None, str]] = []
    for problem in problems:
        if problem.code != "import-error" or len(problem.files) != 2:
            out.append(problem)
            continue
        key = (problem.files[0], problem.line, problem.message.split(": ", 1)[-1])
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(problem)
    merged: list[Problem] = []
    for item in out:
        if isinstance(item, Problem):
            merged.append(item)
            continue
        group = groups[item]
        if len(group) == 1:
            merged.append(group[0])
            continue
        routes = [p.files[1] for p in group]
        names = ", ".join(routes[:-1]) + " and " + routes[-1]
        message = f"{len(routes)} routes cannot be imported ({names} import this module): {item[2]}"
        merged.append(Problem("import-error", message, group[0].fix, (item[0], *routes), item[1]))
    return merged


# The modules a project imports helpers from (our `next/navigation`, `next/headers`, `next/server`, ...).
HELPER_MODULES = ("navigation", "headers", "server", "urls", "controllers", "signatures")


def helper_home(exc: BaseException) -> tuple[str, str] | None:
    """`from framework import not_found` (a Next.js user's first guess): the name and the module of ours
    that defines it (`framework.navigation`), or None for any other import error."""
    if type(exc) is not ImportError or exc.name != "framework":
        return None
    found = re.match(r"cannot import name '(\w+)' from 'framework'", str(exc))
    if found is None:
        return None
    name = found.group(1)
    for short in HELPER_MODULES:
        module = importlib.import_module(f"framework.{short}")
        value = getattr(module, name, None)
        if value is not None and getattr(value, "__module__", None) == module.__name__:
            return name, module.__name__
    return None


def import_problem(root: Path, file: str, exc: BaseException) -> Problem:
    """Name the file and line where the import failed: the route itself, or the project module it imports."""
    found, line = project_location(root, exc)
    where = found or file
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    files = (where,) if where == file else (where, file)
    via = "" if where == file else f" (imported by {file})"
    fix = "Fix the error in that file; the route is served again once it imports."
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    top = missing.split(".")[0] if missing else ""
    if (home := helper_home(exc)) is not None:
        name, module = home
        fix = f"`{name}` is in `{module}`: write `from {module} import {name}`."
    elif top and not (root / top).exists() and not (root / f"{top}.py").exists():
        fix = (
            f"`{top}` is not installed in the Python running this command ({sys.executable}): "
            f"install it there (`{sys.executable} -m pip install ...`), or fix the import if the name is wrong."
        )
    return Problem("import-error", f"cannot import the route{via}: {detail}.", fix, files, line)
