"""Import each `route.py` by file path and read its method exports once, at load time.

Folder names like `refresh-token` or `[id]` are not Python identifiers, so route modules are
imported from their file, under a stable unique module name: their path relative to the root
without `.py` (`app/api/users/[id]/route`). Stdlib only.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import inspect
import math
import os
import re
import sys
import textwrap
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from .errors import Problem, location
from .manifest import Route

# QUERY: the safe method with a body (draft-ietf-httpbis-safe-method-w-body), as recent Next.js accepts it.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")
# Not an HTTP method: the handler of WebSocket connections to the route's URL (never listed in `Allow`).
WEBSOCKET = "WEBSOCKET"
EXPORTS = (*METHODS, WEBSOCKET)  # every name a route module exports a handler under


@dataclass(frozen=True, slots=True)
class Handler:
    """One exported method. `takes_context` is read from the signature once: `GET(request, context)`."""

    method: str
    func: Callable[..., Any]
    takes_context: bool


Dynamic = Literal["auto", "force-dynamic", "force-static"]
FOREVER = math.inf  # `RouteConfig.cache_seconds` of `dynamic = "force-static"`: kept for the life of the process


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """Module-level settings of one route (Next.js's route segment config), read once at load time.

    | name                        | values                     | effect                                         |
    |-----------------------------|----------------------------|------------------------------------------------|
    | `revalidate = 60`           | int >= 0 (0: not cached)   | GET/HEAD responses cached per URL, stale-while-revalidate |
    | `dynamic = "force-static"`  | "auto", "force-dynamic", "force-static" | "force-static": GET computed once per URL |
    | `cache_private = True`      | bool                       | cache also requests with cookies or `Authorization` |
    | `max_duration = 30`         | seconds > 0, or None       | a longer request is cancelled: 504             |
    | `max_body_size = 1_000_000` | int >= 1, or None (no cap) | this route's request-body cap instead of the server's |
    | `allow_cross_origin = True` | bool                       | skip the cross-origin check (webhooks, public APIs) |
    """

    max_body_size: int | None = None
    own_body_cap: bool = False  # False: `max_body_size` was not set, the server's cap applies
    allow_cross_origin: bool = False
    revalidate: int = 0
    dynamic: Dynamic = "auto"
    cache_private: bool = False
    max_duration: float | None = None

    @property
    def cache_seconds(self) -> float | None:
        """How long a cached GET response stays fresh: None when the route is not cached, `FOREVER` for
        `dynamic = "force-static"` alone (with a `revalidate` too, it is refreshed every `revalidate` s).

        >>> RouteConfig().cache_seconds, RouteConfig(revalidate=5).cache_seconds, RouteConfig(dynamic="force-static").cache_seconds
        (None, 5, inf)
        """
        if self.revalidate > 0:
            return self.revalidate
        return FOREVER if self.dynamic == "force-static" else None


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@dataclass(frozen=True, slots=True)
class ConfigName:
    """One module-level name a route may set: what it accepts, and what to say when it is something else."""

    name: str
    accepts: Callable[[object], bool]
    wrong: str  # follows "`name = value` "
    fix: str


DYNAMIC_VALUES: tuple[Dynamic, ...] = ("auto", "force-dynamic", "force-static")
CONFIG = (
    ConfigName(
        "revalidate",
        lambda v: _whole(v, 0),
        "is not a whole number of seconds (0 or more)",
        "Write e.g. `revalidate = 60`: GET responses are cached for 60 s, then refreshed in the background; "
        '0 (the default) never caches. To keep a response for the life of the process, write `dynamic = "force-static"`.',
    ),
    ConfigName(
        "dynamic",
        lambda v: v in DYNAMIC_VALUES,
        "is not one of the allowed values",
        'Write `dynamic = "auto"` (the default: not cached), "force-dynamic" (the same, said explicitly) or '
        '"force-static" (the GET response of each URL computed once and kept).',
    ),
    ConfigName(
        "cache_private",
        lambda v: isinstance(v, bool),
        "is not True or False",
        "Write `cache_private = True` to cache (and share) GET responses also for requests that carry cookies or "
        "an Authorization header; only for responses that are the same for everyone.",
    ),
    ConfigName(
        "max_duration",
        lambda v: v is None or _seconds(v),
        "is not a number of seconds above 0",
        "Write e.g. `max_duration = 30` or `max_duration = 2.5`: a request running longer is answered 504; "
        "None (the default) sets no limit.",
    ),
    ConfigName(
        "max_body_size",
        lambda v: v is None or _whole(v, 1),
        "is not a size in bytes",
        "Write a whole number of bytes, e.g. `max_body_size = 50 * 1024 * 1024`, or None for no cap.",
    ),
    ConfigName(
        "allow_cross_origin",
        lambda v: isinstance(v, bool),
        "is not True or False",
        "Write `allow_cross_origin = True` to accept cross-origin unsafe requests on this route.",
    ),
)
CONFIG_NAMES = tuple(c.name for c in CONFIG)


@dataclass(frozen=True, slots=True)
class LoadedRoute:
    route: Route
    handlers: Mapping[str, Handler]
    warnings: tuple[str, ...] = ()
    config: RouteConfig = RouteConfig()


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
    """Import `root/file` afresh under `module_name(file)`; exceptions propagate unchanged."""
    name = module_name(file)
    spec = importlib.util.spec_from_file_location(name, root / file)
    assert spec is not None and spec.loader is not None  # a .py path always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_route(root: Path, route: Route) -> LoadedRoute | Failure:
    """Import one route module and collect its handlers, or the failure that stops it loading.

    Anything user code raises at import time is a failure naming the file and line, `SystemExit`
    included (a `sys.exit()` in a route must not end `framework check` silently); Ctrl+C is not.
    """
    try:
        module = import_file(root, route.file)
    except (Exception, SystemExit) as exc:
        return Failure(route.file, import_problem(root, route.file, exc), exc)
    loaded = read_handlers(route, module)
    return Failure(route.file, loaded) if isinstance(loaded, Problem) else loaded


def read_handlers(route: Route, module: ModuleType) -> LoadedRoute | Problem:
    handlers: dict[str, Handler] = {}
    warnings: list[str] = []
    for name, value in vars(module).items():
        if name in EXPORTS:
            if not callable(value):
                return not_callable_problem(route.file, name, type(value).__name__, _line_of(module, name))
            if name == WEBSOCKET and not is_async(value):
                return sync_websocket_problem(route.file, _line_of(module, name))
            handlers[name] = Handler(name, value, _takes_context(value))
        elif suggestion := misspelled_method(name, value, module.__name__):
            warnings.append(f"{location(route.file, _line_of(module, name))}: {misspelled_text(name, suggestion)}")
    if not handlers:
        warnings.append(f"{route.file}: {NO_HANDLER_TEXT}")
    config = read_config(route.file, module)
    if isinstance(config, Problem):
        return config
    return LoadedRoute(route, handlers, (*warnings, *config_warnings(route.file, module, config, handlers)), config)


def read_config(file: str, module: ModuleType) -> RouteConfig | Problem:
    """The route's `RouteConfig`, or the problem with a value it cannot take (file, line, allowed values)."""
    values: dict[str, Any] = {}
    for spec in CONFIG:
        if hasattr(module, spec.name):
            value = getattr(module, spec.name)
            if not spec.accepts(value):
                return _config_problem(
                    file, module, spec.name, f"`{spec.name} = {_shown(value)}` {spec.wrong}.", spec.fix
                )
            values[spec.name] = value
    dynamic, revalidate = values.get("dynamic"), values.get("revalidate")
    if dynamic == "force-dynamic" and revalidate:
        return _config_problem(
            file,
            module,
            "dynamic",
            f'`dynamic = "force-dynamic"` contradicts `revalidate = {revalidate}`.',
            "Remove one: force-dynamic never caches, revalidate caches GET responses.",
        )
    if dynamic == "force-static" and revalidate == 0:
        return _config_problem(
            file,
            module,
            "dynamic",
            '`dynamic = "force-static"` contradicts `revalidate = 0`.',
            "Remove `revalidate = 0` to keep responses for the life of the process, or set it above 0 to refresh them.",
        )
    return RouteConfig(own_body_cap="max_body_size" in values, **values)


def _config_problem(file: str, module: ModuleType, name: str, message: str, fix: str) -> Problem:
    return Problem("bad-route-config", message, fix, (file,), _line_of(module, name))


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def config_suggestion(name: str) -> str | None:
    """The route config name a module-level name was meant to be, by name alone.

    >>> config_suggestion("revalidte"), config_suggestion("maxDuration"), config_suggestion("users")
    ('revalidate', 'max_duration', None)
    """
    if name.startswith("_") or name in CONFIG_NAMES:
        return None
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    if snake in CONFIG_NAMES:
        return snake
    close = difflib.get_close_matches(snake, CONFIG_NAMES, n=1, cutoff=0.8)
    return close[0] if close else None


def config_warnings(file: str, module: ModuleType, config: RouteConfig, methods: Collection[str]) -> list[str]:
    """Config that changes nothing: a misspelled name (`revalidte = 10`, `maxDuration = 5`), caching on a
    route without GET, `cache_private` on a route that is not cached. Functions, classes and modules are
    never taken for misspelled config."""
    found: list[str] = []
    for name, value in vars(module).items():
        if callable(value) or inspect.ismodule(value):
            continue
        if suggestion := config_suggestion(name):
            where = location(file, _line_of(module, name))
            found.append(f"{where}: `{name}` is not route config, so it changes nothing. Did you mean `{suggestion}`?")
    if config.cache_seconds is not None and "GET" not in methods:
        name = "revalidate" if config.revalidate else "dynamic"
        found.append(
            f"{location(file, _line_of(module, name))}: `{name}` changes nothing here: only GET (and HEAD) "
            "responses are cached, and this route exports no GET."
        )
    if config.cache_private and config.cache_seconds is None:
        found.append(
            f"{location(file, _line_of(module, 'cache_private'))}: `cache_private = True` changes nothing without "
            '`revalidate = N` or `dynamic = "force-static"`.'
        )
    return found


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


def _takes_context(func: Callable[..., object]) -> bool:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _line_of(module: ModuleType, name: str) -> int | None:
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


def import_problem(root: Path, file: str, exc: BaseException) -> Problem:
    """Name the file and line where the import failed: the route itself, or the project module it imports."""
    found, line = project_location(root, exc)
    where = found or file
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    files = (where,) if where == file else (where, file)
    via = "" if where == file else f" (imported by {file})"
    fix = "Fix the error in that file; the route is served again once it imports."
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    if missing and not (root / missing.split(".")[0]).exists() and not (root / f"{missing.split('.')[0]}.py").exists():
        fix = (
            f"`{missing.split('.')[0]}` is not installed in the Python running this command ({sys.executable}): "
            f"install it there (`{sys.executable} -m pip install ...`), or fix the import if the name is wrong."
        )
    return Problem("import-error", f"cannot import the route{via}: {detail}.", fix, files, line)


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
