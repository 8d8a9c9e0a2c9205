"""The team's conventions for `app/` and `lib/`, as data and pure functions over `ast`.

`framework check`, the pytest plugin and `framework new` all read this module. Each rule is a
generator over one parsed project; configuration is applied afterwards, in one place.

| rule id                     | severity | reports                                                            |
|-----------------------------|----------|--------------------------------------------------------------------|
| `router-error`              | error    | what the router refuses (same `Problem` text), import failures     |
| `syntax-error`              | error    | a `.py` file under `app/` or `lib/` that does not parse            |
| `route-exports`             | error    | no handler, `def get`/`DELTE` (did you mean `GET`?), `GET = "x"`   |
| `forbidden-import`          | error    | `import sqlite3` / `httpx` / ... under `app/`                      |
| `url-builder-missing`       | error    | a route no `route_url("...")` call in `lib/urls/` builds           |
| `url-builder-mismatch`      | error    | `route_url` naming no route, a non-literal pattern, wrong params   |
| `hard-coded-url`            | error    | `"/api/refresh-token"` written out in `app/` or `lib/`             |
| `api-returns-json`          | warning  | a handler under `/api/` returning `JSONResponse(...)` or a dict    |
| `controller-framework-free` | error    | `lib/controllers/` importing Starlette responses                   |

User modules are read with `ast`, never imported, except by the `router-error` rule, which asks
the router's own loader whether each `route.py` imports (that is what the server will do).
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypeGuard

from .check.naming import builder_hint
from .errors import Problem, RouteTreeError, location
from .loader import METHODS, NO_HANDLER_TEXT, Failure, load_route, method_suggestion, misspelled_text, not_callable_problem
from .manifest import Route, Shape, build_manifest, pattern_of, shape
from .matcher import Matcher
from .paths import BadPath, split_path
from .scan import RouteFile, scan
from .segments import Kind, PatternError, parse_pattern

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

CONVENTION_QUOTE = (
    "Please do not use API Routes for fetching routes that usually returns JSON data. "
    "For those cases, call controllers directly from the frontend."
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One convention: its id (used in config and `# framework: ignore[...]`), default severity, and why."""

    id: str
    severity: str
    checks: str
    why: str


RULES: tuple[Rule, ...] = (
    Rule("router-error", ERROR,
         "everything the router refuses: bad folder names, conflicting routes, a route.py beside a page.py, "
         "a route.py that fails to import",
         "the server would refuse to start (or answer 500) with exactly this message"),
    Rule("syntax-error", ERROR,
         "a .py file under app/ or lib/ that Python cannot parse",
         "the other rules cannot read it, and it fails as soon as it is imported"),
    Rule("route-exports", ERROR,
         "a route.py exports at least one method handler; `get`, `Post`, `DELTE` get \"did you mean `GET`?\"; "
         "a method name bound to something that is not callable",
         "only uppercase method names are handlers: anything else answers 405 without a word"),
    Rule("forbidden-import", ERROR,
         "code under app/ importing an HTTP client or a database driver (a list you can extend)",
         "route handlers call controllers in lib/controllers/; the backend work lives there, testable without HTTP"),
    Rule("url-builder-missing", ERROR,
         "every route pattern is built by at least one `route_url(\"...\")` call in lib/urls/",
         "a builder per route makes every use of a URL findable and checked when routes move"),
    Rule("url-builder-mismatch", ERROR,
         "each `route_url` call in lib/urls/ has a literal pattern naming a route that exists, with that route's params",
         "a builder for a route that moved, or with the wrong params, builds URLs that answer 404"),
    Rule("hard-coded-url", ERROR,
         "a string in app/ or lib/ that is a route's URL (`\"/api/refresh-token?returnTo=\"`) instead of a builder call",
         "hard-coded URLs break silently when a route moves; builder calls are found and checked"),
    Rule("api-returns-json", WARNING,
         "a handler under /api/ that returns a JSONResponse (or a dict)",
         f"API routes are for actions (a redirect, a file). The convention: \"{CONVENTION_QUOTE}\""),
    Rule("controller-framework-free", ERROR,
         "modules under lib/controllers/ do not import or build Starlette (or FastAPI) responses",
         "controllers return Result(data, error) so they can be called from anywhere; the route.py builds the response"),
)
RULE_IDS: Mapping[str, Rule] = {r.id: r for r in RULES}

HTTP_CLIENT = "an HTTP client"
DATABASE = "a database driver"
FORBIDDEN_IMPORTS: Mapping[str, str] = {
    "aiohttp": HTTP_CLIENT, "http.client": HTTP_CLIENT, "httpx": HTTP_CLIENT, "pycurl": HTTP_CLIENT,
    "requests": HTTP_CLIENT, "urllib.request": HTTP_CLIENT, "urllib3": HTTP_CLIENT,
    "aiosqlite": DATABASE, "asyncpg": DATABASE, "motor": DATABASE, "mysql.connector": DATABASE,
    "MySQLdb": DATABASE, "psycopg": DATABASE, "psycopg2": DATABASE, "pymongo": DATABASE,
    "pymysql": DATABASE, "redis": DATABASE, "sqlalchemy": DATABASE, "sqlite3": DATABASE,
}
CONFIGURED = "an import forbidden in [tool.framework.check]"
RESPONSE_MODULES = ("starlette.responses", "fastapi.responses", "fastapi")

_IGNORE = re.compile(r"#\s*framework:\s*ignore\[([^\]]*)\]")
_URL_TEXT = re.compile(r"/[^\s\"'<>`\\]*")
_PLACEHOLDER = "{\u2026}"


# --- findings and configuration ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One convention broken: where (`file` relative to the root, `/`-separated; `line` when known), what, the fix."""

    rule: str
    severity: str
    file: str
    line: int | None
    message: str
    fix: str

    @property
    def location(self) -> str:
        return location(self.file, self.line)

    @property
    def headline(self) -> str:
        return f"{self.location}: {self.severity}[{self.rule}] {self.message}"

    def __str__(self) -> str:
        """The paragraph `framework check` prints: the headline, then `  fix: ...` on its own line."""
        return f"{self.headline}\n  fix: {self.fix}"

    def one_line(self) -> str:
        """For pytest's warnings summary, which shows one line per warning."""
        return f"{self.headline} Fix: {self.fix}"

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.rule, self.message)


@dataclass(frozen=True, slots=True)
class Exemption:
    """`[[tool.framework.check.exempt]]`: a route (pattern or file) the listed rules (all if empty) skip."""

    route: str
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, str] = field(default_factory=dict)
    forbidden_imports: Mapping[str, str] = field(default_factory=lambda: dict(FORBIDDEN_IMPORTS))
    exempt: tuple[Exemption, ...] = ()
    strict: bool = False


class ConfigError(ValueError):
    """`[tool.framework.check]` cannot be used: the message names the file, the key and the fix."""


_CONFIG_KEYS = ("disable", "severity", "forbidden-imports", "exempt", "strict")


def load_config(root: Path) -> Config:
    """`[tool.framework.check]` from `root/pyproject.toml`; the defaults when there is none."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml: not valid TOML ({exc}); fix the file.") from None
    table = data.get("tool", {}).get("framework", {}).get("check", {})
    return parse_config(table)


def _rule_id(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in RULE_IDS:
        close = difflib.get_close_matches(str(value), RULE_IDS, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known rules: {', '.join(RULE_IDS)}."
        raise ConfigError(f"pyproject.toml [tool.framework.check] {where}: unknown rule {value!r}; {hint}")
    return value


def parse_config(table: Mapping[str, object]) -> Config:
    """Validate the `[tool.framework.check]` table. Example:

        disable = ["api-returns-json"]
        severity = { hard-coded-url = "warning" }
        forbidden-imports = ["boto3", "stripe"]
        strict = true
        [[tool.framework.check.exempt]]
        route = "/api/export"
        rules = ["api-returns-json"]
        reason = "a partner's system reads this JSON"
    """
    where = "pyproject.toml [tool.framework.check]"
    unknown = sorted(set(table) - set(_CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(_CONFIG_KEYS)}.")
    disable = table.get("disable", [])
    if not isinstance(disable, list):
        raise ConfigError(f"{where} disable: expected a list of rule ids, like disable = [\"api-returns-json\"].")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{where} severity: expected a table, like severity = {{ hard-coded-url = \"warning\" }}.")
    for rule, level in severity.items():
        _rule_id(rule, "severity")
        if level not in SEVERITIES:
            raise ConfigError(f"{where} severity.{rule}: {level!r} is not a severity; use \"error\" or \"warning\".")
    extra = table.get("forbidden-imports", [])
    if not isinstance(extra, list) or not all(isinstance(m, str) and m for m in extra):
        raise ConfigError(f"{where} forbidden-imports: expected a list of module names, like [\"boto3\"].")
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{where} strict: expected true or false.")
    exempt = table.get("exempt", [])
    if not isinstance(exempt, list):
        raise ConfigError(f"{where} exempt: expected [[tool.framework.check.exempt]] entries.")
    exemptions = []
    for i, entry in enumerate(exempt):
        at = f"{where} exempt[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("route"), str):
            raise ConfigError(f"{at}: give the route, like route = \"/api/export\" (a URL pattern or a route.py path).")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{at} ({entry['route']}): an exemption needs a reason = \"...\" saying why.")
        rules = entry.get("rules", [])
        if not isinstance(rules, list):
            raise ConfigError(f"{at}: rules is a list of rule ids; leave it out to exempt the route from every rule.")
        bad = sorted(set(entry) - {"route", "reason", "rules"})
        if bad:
            raise ConfigError(f"{at}: unknown key {bad[0]!r}; an exemption has route, rules and reason.")
        exemptions.append(Exemption(entry["route"], reason, tuple(_rule_id(r, f"exempt[{i}].rules") for r in rules)))
    return Config(
        disabled=frozenset(_rule_id(r, "disable") for r in disable),
        severity=dict(severity),
        forbidden_imports={**FORBIDDEN_IMPORTS, **{m: CONFIGURED for m in extra}},
        exempt=tuple(exemptions),
        strict=strict,
    )


# --- the project, read once -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One `.py` file under `app/` or `lib/`: its text, and its tree (None when it does not parse)."""

    file: str
    text: str
    tree: ast.Module | None
    error: SyntaxError | None = None
    nodes: tuple[ast.AST, ...] = ()  # every node of `tree`, walked once and shared by the rules


@dataclass(frozen=True, slots=True)
class Project:
    """Everything the rules read. `routes` are parsed file by file, so one conflict hides no other rule."""

    root: Path
    sources: Mapping[str, Source]
    files: tuple[RouteFile, ...]
    routes: tuple[Route, ...]
    config: Config


def read_sources(root: Path, folders: Iterable[str] = ("app", "lib")) -> dict[str, Source]:
    """Every `.py` file below `root/<folder>`, hidden folders and `__pycache__` skipped, in sorted order."""
    sources: dict[str, Source] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = Path(dirpath, name)
                    rel = path.relative_to(root).as_posix()
                    sources[rel] = parse_source(rel, path.read_text(encoding="utf-8", errors="replace"))
    return sources


def parse_source(file: str, text: str) -> Source:
    try:
        tree = ast.parse(text, filename=file)
        return Source(file, text, tree, None, tuple(ast.walk(tree)))
    except SyntaxError as exc:
        return Source(file, text, None, exc)


def routes_of(files: Iterable[RouteFile]) -> tuple[Route, ...]:
    """Each `route.py`'s route on its own: a conflict between two files does not hide either one."""
    routes: list[Route] = []
    for rf in files:
        if rf.kind != "route":
            continue
        try:
            routes.extend(build_manifest([rf]).routes)
        except RouteTreeError:
            pass
    return tuple(routes)


def load_project(root: Path, config: Config | None = None) -> Project:
    files = scan(root)
    return Project(root, read_sources(root), files, routes_of(files), config or load_config(root))


# --- helpers over ast -------------------------------------------------------------------------


def _module_bindings(tree: ast.Module) -> Iterator[tuple[str, ast.AST, int]]:
    """Names bound at module level (also inside `if`/`try`/`with`): (name, binding node, line)."""

    def visit(body: list[ast.stmt]) -> Iterator[tuple[str, ast.AST, int]]:
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
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
                for part in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, part, [])
                    for item in inner:
                        if isinstance(item, ast.ExceptHandler):
                            yield from visit(item.body)
                    yield from visit([s for s in inner if isinstance(s, ast.stmt)])

    yield from visit(tree.body)


_LITERAL_TYPES: Mapping[type[ast.AST], str] = {
    ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set", ast.JoinedStr: "str",
    ast.ListComp: "list", ast.DictComp: "dict", ast.SetComp: "set",
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


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _function_returns(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.Return]:
    """The function's own `return` statements, not those of functions nested in it."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _finding(rule: str, file: str, line: int | None, message: str, fix: str) -> Finding:
    return Finding(rule, RULE_IDS[rule].severity, file, line, message, fix)


def _from_problem(rule: str, problem: Problem) -> Finding:
    return _finding(rule, problem.files[0], problem.line, problem.message, problem.fix)


# --- the rules --------------------------------------------------------------------------------


def _under(module: object, root: Path) -> bool:
    places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    for place in filter(None, places):
        try:
            Path(place).resolve().relative_to(root)
            return True
        except (ValueError, OSError):
            continue
    return False


@contextmanager
def isolated_imports(root: Path) -> Iterator[None]:
    """Import user modules with `root` first on `sys.path`; afterwards drop what they added.

    Modules named like something in `root` (`lib`, `app/api/x/route`) but loaded from another
    project are set aside meanwhile and put back after, so one project's `lib` never answers for
    another's. Third-party modules imported on the way stay imported, as any import leaves them.
    """
    local = {p.name.removesuffix(".py") for p in root.iterdir() if p.is_dir() or p.suffix == ".py"}

    def is_local(name: str) -> bool:
        return re.split(r"[./]", name, maxsplit=1)[0] in local

    saved = {name: module for name, module in sys.modules.items() if is_local(name)}
    for name, module in saved.items():
        if not _under(module, root):
            del sys.modules[name]
    saved_path = list(sys.path)

    def shadows(entry: str) -> bool:
        """Another folder on sys.path holding its own `lib` (a regular package beats our namespace one)."""
        base = Path(entry or ".").resolve()
        if base == root or any(base.is_relative_to(Path(pre).resolve()) for pre in {sys.prefix, sys.base_prefix}):
            return False  # installed packages and the standard library stay importable
        return any((base / n).is_dir() or (base / f"{n}.py").is_file() for n in local)

    sys.path[:] = [str(root), *(p for p in saved_path if not shadows(p))]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if is_local(n) and n not in saved]:
            del sys.modules[name]
        sys.modules.update(saved)


def check_router(project: Project, *, imports: bool = True) -> Iterator[Finding]:
    """The router's own verdict: manifest problems, then each route's import, exactly as the server does it."""
    try:
        build_manifest(project.files)
    except RouteTreeError as exc:
        for problem in exc.problems:
            yield _from_problem("router-error", problem)
    if not imports or not project.routes:
        return
    # A route printing at import time must not end up inside `--format json` output.
    with isolated_imports(project.root), redirect_stdout(sys.stderr):
        loaded = [load_route(project.root, route) for route in project.routes]
    for result in loaded:
        if isinstance(result, Failure):
            # `handler-not-callable` is the exports rule's finding (also found from the source).
            problem = result.problem
            yield _from_problem("route-exports" if problem.code == "handler-not-callable" else "router-error", problem)


def check_syntax(project: Project) -> Iterator[Finding]:
    for src in project.sources.values():
        if src.error is not None:
            yield _finding("syntax-error", src.file, src.error.lineno,
                           f"cannot parse: {src.error.msg}.", "Fix the syntax error at that line.")


def check_exports(project: Project) -> Iterator[Finding]:
    """From the source: at least one handler, no misspelled method names, no handler bound to a literal."""
    for rf in project.files:
        src = project.sources.get(rf.file)
        if rf.kind != "route" or src is None or src.tree is None:
            continue
        handlers = 0
        for name, node, line in _module_bindings(src.tree):
            if name in METHODS:
                handlers += 1
                value = getattr(node, "value", None)
                type_name = literal_type(value) if isinstance(node, (ast.Assign, ast.AnnAssign)) and value else None
                if type_name is not None:
                    yield _from_problem("route-exports", not_callable_problem(rf.file, name, type_name, line))
                continue
            defined_here = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
                isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda))
            suggestion = method_suggestion(name) if defined_here else None
            if suggestion:
                yield _finding("route-exports", rf.file, line, misspelled_text(name, suggestion),
                               f"Rename `{name}` to `{suggestion}`.")
        if not handlers:
            text, _, fix = NO_HANDLER_TEXT.partition(". ")
            yield _finding("route-exports", rf.file, None, text + ".", fix)


def check_forbidden_imports(project: Project) -> Iterator[Finding]:
    forbidden = project.config.forbidden_imports
    for src in project.sources.values():
        if not src.file.startswith("app/") or src.tree is None:
            continue
        seen: set[tuple[str, int]] = set()
        for module, line in imported_modules(src.nodes):
            for package, kind in forbidden.items():
                if _within(module, package) and (package, line) not in seen:
                    seen.add((package, line))
                    yield _finding(
                        "forbidden-import", src.file, line,
                        f"imports `{package}`, {kind}: route handlers call a controller in lib/controllers/, "
                        "which does that work.",
                        f"Move the code that uses `{package}` into a function in lib/controllers/ that returns "
                        "`Result`, and call that function from the handler.",
                    )


def check_controllers(project: Project) -> Iterator[Finding]:
    for src in project.sources.values():
        if not src.file.startswith("lib/controllers/") or src.tree is None:
            continue
        fix = ("Return `Result(data=...)` or `Result(error=ControllerError(status, text))` "
               "(from framework.controllers) and build the response in the route.py that calls it.")
        lines: set[int] = set()
        for module, line in imported_modules(src.nodes):
            hit = next((m for m in RESPONSE_MODULES if _within(module, m)), None)
            if hit and line not in lines:
                lines.add(line)
                yield _finding("controller-framework-free", src.file, line,
                               f"a controller imports `{module}`: controllers return `Result`, not HTTP responses.", fix)
        for node in src.nodes:
            name = dotted(node) if isinstance(node, ast.Attribute) else None
            if name and any(name.startswith(m + ".") for m in RESPONSE_MODULES[:2]) and node.lineno not in lines:
                lines.add(node.lineno)
                yield _finding("controller-framework-free", src.file, node.lineno,
                               f"a controller uses `{name}`: controllers return `Result`, not HTTP responses.", fix)


@dataclass(frozen=True, slots=True)
class RouteUrlCall:
    """One `route_url(...)` call in `lib/urls/`. `params` is None when the names cannot be read statically."""

    file: str
    line: int
    pattern: str | None
    params: frozenset[str] | None
    function: str | None


def _params_of(node: ast.AST | None) -> frozenset[str] | None:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return frozenset()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
        return frozenset(k.value for k in node.keys)  # type: ignore[union-attr]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(k.arg for k in node.keywords)):
        return frozenset(k.arg for k in node.keywords if k.arg)
    return None


def _is_route_url(node: ast.AST) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "route_url")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "route_url"))


def _argument(call: ast.Call, index: int, name: str) -> ast.AST | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def is_urls_module(file: str) -> bool:
    """Builders live in the `lib.urls` package (`lib/urls/**.py`) or module (`lib/urls.py`)."""
    return file == "lib/urls.py" or file.startswith("lib/urls/")


def _call_owners(tree: ast.Module) -> dict[int, str]:
    """`id(route_url call)` -> the name of the innermost function it is in."""
    owners: dict[int, str] = {}

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_route_url(child) and owner:
                owners[id(child)] = owner
            visit(child, child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else owner)

    visit(tree, None)
    return owners


def route_url_calls(project: Project) -> list[RouteUrlCall]:
    calls = []
    for src in project.sources.values():
        if not is_urls_module(src.file) or src.tree is None:
            continue
        owners = _call_owners(src.tree)
        for node in src.nodes:
            if not _is_route_url(node):
                continue
            first = _argument(node, 0, "pattern")
            pattern = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            calls.append(RouteUrlCall(src.file, node.lineno, pattern, _params_of(_argument(node, 1, "params")),
                                      owners.get(id(node))))
    return calls


def _module_of(file: str) -> str:
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def builders_by_pattern(calls: Iterable[RouteUrlCall]) -> dict[str, list[str]]:
    """Normalised pattern -> builder functions that call `route_url` with it (`lib.urls.get_health_url`)."""
    found: dict[str, list[str]] = {}
    for call in calls:
        if call.pattern is None:
            continue
        try:
            key = pattern_of(parse_pattern(call.pattern))
        except PatternError:
            continue
        name = f"{_module_of(call.file)}.{call.function}" if call.function else f"route_url({call.pattern!r})"
        found.setdefault(key, [])
        if name not in found[key]:
            found[key].append(name)
    return found


def _first_handler_line(project: Project, file: str) -> int | None:
    src = project.sources.get(file)
    if src is None or src.tree is None:
        return None
    return next((line for name, _, line in _module_bindings(src.tree) if name in METHODS), None)


def check_url_builders(project: Project) -> Iterator[Finding]:
    calls = route_url_calls(project)
    by_pattern = {r.pattern: r for r in project.routes}
    by_shape = {shape(r.segments): r for r in project.routes}
    built = builders_by_pattern(calls)
    for route in project.routes:
        if route.pattern not in built:
            yield _finding(
                "url-builder-missing", route.file, _first_handler_line(project, route.file),
                f"the route `{route.pattern}` has no URL builder in lib/urls/, so its uses cannot be tracked.",
                f"Add `{builder_hint(route.segments)}` to a module in lib/urls/ "
                "(with `from framework.urls import route_url`), and build its URLs with it.",
            )
    for call in calls:
        yield from _check_call(call, by_pattern, by_shape)


def _check_call(call: RouteUrlCall, by_pattern: Mapping[str, Route],
                by_shape: Mapping[Shape, Route]) -> Iterator[Finding]:
    rule = "url-builder-mismatch"
    if call.pattern is None:
        yield _finding(rule, call.file, call.line,
                       "`route_url` is called without a literal pattern, so nothing can tell which route it builds.",
                       "Pass the pattern as a string literal, like route_url(\"/api/users/[id]\", {\"id\": user_id}).")
        return
    shown = f"route_url({call.pattern!r})"
    try:
        segments = parse_pattern(call.pattern)
    except PatternError as exc:
        yield _finding(rule, call.file, call.line, f"`{shown}`: {exc}.",
                       "Write the URL pattern in Next.js notation, like '/api/users/[id]'.")
        return
    pattern = pattern_of(segments)
    route = by_pattern.get(pattern)
    if route is None:
        same = by_shape.get(shape(segments))
        if same is not None:
            yield _finding(rule, call.file, call.line,
                           f"`{shown}` names its params differently from the route `{same.pattern}` ({same.file}).",
                           f"Write route_url(\"{same.pattern}\", ...), with the route's param names.")
        else:
            close = difflib.get_close_matches(pattern, list(by_pattern), n=1, cutoff=0.7)
            hint = (f"Did you mean `{close[0]}`? Otherwise create app{pattern}/route.py "
                    f"(`framework new route {pattern.lstrip('/')}`) or delete the builder." if close else
                    f"Create app{pattern}/route.py (`framework new route {pattern.lstrip('/')}`), "
                    "or delete the builder if the route is gone.")
            yield _finding(rule, call.file, call.line,
                           f"`{shown}` names no route: no app/**/route.py answers `{pattern}`.", hint)
        return
    if call.params is None:
        return
    names = [s.name for s in route.segments if s.is_param]
    required = {s.name for s in route.segments if s.kind in (Kind.DYNAMIC, Kind.CATCH_ALL)}
    missing = [n for n in names if n in required and n not in call.params]
    extra = sorted(call.params - set(names))
    example = "{" + ", ".join(f'"{n}": ...' for n in names) + "}"
    if missing:
        yield _finding(rule, call.file, call.line,
                       f"`{shown}` does not pass the param{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(f'`{n}`' for n in missing)} of the route ({route.file}).",
                       f"Pass every param of the route: route_url(\"{route.pattern}\", {example}).")
    if extra:
        yield _finding(rule, call.file, call.line,
                       f"`{shown}` passes {', '.join(f'`{n}`' for n in extra)}, which the route `{route.pattern}` "
                       f"({route.file}) does not have.",
                       (f"Remove it: the route takes {example}." if names else "Remove it: the route takes no params."))


def _string_nodes(nodes: tuple[ast.AST, ...]) -> Iterator[tuple[str, int]]:
    """String literals and f-strings (their `{...}` parts as a placeholder), minus docstrings and route_url patterns."""
    skip: set[int] = set()
    for node in nodes:
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        elif _is_route_url(node):
            arg = _argument(node, 0, "pattern")
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
            text = "".join(v.value if isinstance(v, ast.Constant) else _PLACEHOLDER for v in node.values)
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


def check_hard_coded_urls(project: Project) -> Iterator[Finding]:
    if not project.routes:
        return
    matcher = Matcher((r, r) for r in project.routes)
    built = builders_by_pattern(route_url_calls(project))
    for src in project.sources.values():
        if src.tree is None:
            continue
        for text, line in _string_nodes(src.nodes):
            route = url_route(text, matcher)
            if route is None:
                continue
            names = built.get(route.pattern)
            fix = (f"Call {' or '.join(f'`{n}()`' for n in names)} instead." if names else
                   f"Add a builder for `{route.pattern}` in lib/urls/ (it calls route_url(\"{route.pattern}\", ...)) "
                   "and call it instead.")
            yield _finding("hard-coded-url", src.file, line,
                           f"hard-coded URL {text!r} of the route `{route.pattern}` ({route.file}): "
                           "it breaks silently when the route moves.", fix)


_JSON_FIX = ("Call the controller directly from the page instead and remove this handler; if the JSON is "
             "for another system, exempt the route in [tool.framework.check] with a reason.")


def check_api_json(project: Project) -> Iterator[Finding]:
    for route in project.routes:
        if not (route.pattern == "/api" or route.pattern.startswith("/api/")):
            continue
        src = project.sources.get(route.file)
        if src is None or src.tree is None:
            continue
        for name, node, _ in _module_bindings(src.tree):
            if name not in METHODS or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for ret in _function_returns(node):
                what = _json_return(ret.value)
                if what:
                    yield _finding("api-returns-json", route.file, ret.lineno,
                                   f"`{name}` returns {what}: API routes are for actions (a redirect, a file). "
                                   f"The convention: \"{CONVENTION_QUOTE}\"", _JSON_FIX)


def _json_return(value: ast.AST | None) -> str | None:
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


CHECKS = (check_syntax, check_exports, check_forbidden_imports, check_url_builders, check_hard_coded_urls,
          check_api_json, check_controllers)


# --- configuration applied, the report ----------------------------------------------------------


def ignored_on_line(text: str, line: int | None, rule: str) -> bool:
    """`x = "/api/x"  # framework: ignore[hard-coded-url, forbidden-import]` silences those rules on that line."""
    if not line:
        return False
    lines = text.splitlines()
    if line > len(lines):
        return False
    match = _IGNORE.search(lines[line - 1])
    return bool(match) and rule in {r.strip() for r in match.group(1).split(",")}


def exemption_for(finding: Finding, exempt: Iterable[Exemption], routes: Iterable[Route]) -> Exemption | None:
    files = {r.file: r.pattern for r in routes}
    if finding.file not in files:
        return None
    for ex in exempt:
        if ex.route in (finding.file, files[finding.file]) and (not ex.rules or finding.rule in ex.rules):
            return ex
    return None


def apply_config(findings: Iterable[Finding], project: Project) -> list[Finding]:
    """Drop disabled rules, inline ignores and exemptions; set configured severities; sort and de-duplicate."""
    config = project.config
    kept: dict[tuple[str, str, int | None, str], Finding] = {}
    for f in findings:
        if f.rule in config.disabled:
            continue
        src = project.sources.get(f.file)
        if src is not None and ignored_on_line(src.text, f.line, f.rule):
            continue
        if exemption_for(f, config.exempt, project.routes):
            continue
        kept.setdefault((f.rule, f.file, f.line, f.message), replace(f, severity=config.severity.get(f.rule, f.severity)))
    result = sorted(kept.values(), key=lambda f: f.sort_key)
    # A file that does not parse is reported once: the router's import error already names it.
    routed = {(f.file, f.line) for f in result if f.rule == "router-error"}
    return [f for f in result if not (f.rule == "syntax-error" and (f.file, f.line) in routed)]


def check_exemptions(project: Project) -> None:
    known = {r.file for r in project.routes} | {r.pattern for r in project.routes}
    for i, ex in enumerate(project.config.exempt):
        if ex.route not in known:
            close = difflib.get_close_matches(ex.route, sorted(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"pyproject.toml [tool.framework.check] exempt[{i}]: no route {ex.route!r} "
                              f"(give a URL pattern like \"/api/export\" or a file like \"app/api/export/route.py\").{hint}")


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]
    files: int
    routes: int
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def failed(self) -> bool:
        """Errors fail; warnings fail too under `strict`."""
        return self.errors > 0 or (self.strict and self.warnings > 0)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def check_project(root: Path, config: Config | None = None, *, imports: bool = True,
                  strict: bool = False) -> Report:
    """Every enabled rule over the project at `root`. Raises `ConfigError` for unusable configuration."""
    project = load_project(Path(root).resolve(), config)
    check_exemptions(project)
    found: list[Finding] = []
    if "router-error" not in project.config.disabled or "route-exports" not in project.config.disabled:
        found.extend(check_router(project, imports=imports and "router-error" not in project.config.disabled))
    for check in CHECKS:
        found.extend(check(project))
    findings = apply_config(found, project)
    return Report(tuple(findings), len(project.sources), len(project.routes), strict or project.config.strict)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def format_text(report: Report) -> str:
    """One paragraph per finding (`file:line: severity[rule] message` + `fix:`), then a summary line."""
    scope = f"{_count(report.files, 'file')} ({_count(report.routes, 'route')})"
    if not report.findings:
        return f"no problems in {scope}."
    verdict = "failed" if report.failed else "passed (warnings do not fail without --strict)"
    summary = f"{_count(report.errors, 'error')}, {_count(report.warnings, 'warning')} in {scope}: {verdict}."
    return "\n\n".join([*(str(f) for f in report.findings), summary])


JSON_VERSION = 1


def format_json(report: Report) -> str:
    """Stable JSON: `{"version": 1, "findings": [...], "errors", "warnings", "files", "routes", "failed"}`.

    Each finding has exactly `rule, severity, file, line (int or null), message, fix`, sorted by file and line.
    """
    return json.dumps({
        "version": JSON_VERSION,
        "findings": [asdict(f) for f in report.findings],
        "errors": report.errors,
        "warnings": report.warnings,
        "files": report.files,
        "routes": report.routes,
        "failed": report.failed,
    }, indent=2, ensure_ascii=False)


def format_rules() -> str:
    width = max(len(r.id) for r in RULES)
    return "\n".join(f"{r.id:<{width}}  {r.severity:<7}  {r.checks}" for r in RULES)
