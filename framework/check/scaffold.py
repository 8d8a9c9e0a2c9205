"""`framework new route <url-path>`: a route that passes every convention check, with its test.

| `framework new route api/users/[id] --methods GET,POST` writes | what                                    |
|-----------------------------------------------------------------|-----------------------------------------|
| `app/api/users/[id]/route.py`                                   | `GET`, `POST` calling the controller    |
| `lib/controllers/users_controller.py` (created or appended)     | `get_users_by_id(id)`, `post_users_by_id(id)` |
| `lib/urls/__init__.py` (created or appended)                    | `get_users_by_id_url(id)` -> `route_url(...)` |
| `tests/test_users_by_id_route.py`                               | builder, controller and handler tests   |

Nothing is overwritten: an existing route or test file, or a function name already taken, stops
the command before it writes anything. Nothing is written outside the project either: a path with
`..`, a leading `/`, a backslash, or one that resolves outside app/ through a symlink is a usage error.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import RouteTreeError
from ..escape import printable
from ..loader import METHODS
from ..manifest import build_manifest, pattern_of
from ..scan import RouteFile, scan
from ..segments import Kind, PatternError, Segment, parse_pattern
from .naming import builder_name, builder_source, python_name, qualified_stem, stem
from .templates import controller_function, route_source, test_source


class ScaffoldInputError(ValueError):
    """The URL path or the methods given cannot make a route (a usage error)."""


class ScaffoldRefused(Exception):
    """Writing the route would overwrite or clash with something that exists (the project's state)."""


PACKAGES = {
    "lib/__init__.py": "Project code outside app/: controllers (lib/controllers) and URL builders (lib/urls).",
    "lib/controllers/__init__.py": "Controllers: the work behind routes, returning `Result`, never HTTP responses.",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One file to write: `created` or `updated` (appended to), and what it adds."""

    path: str
    text: str
    action: str
    detail: str


def parse_methods(text: str) -> tuple[str, ...]:
    """`get,post` -> `("GET", "POST")`; unknown names are refused with the closest method."""
    methods: list[str] = []
    for raw in filter(None, (m.strip() for m in text.split(","))):
        method = raw.upper()
        if method not in METHODS:
            close = difflib.get_close_matches(method, METHODS, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ScaffoldInputError(f"--methods: {raw!r} is not an HTTP method; use {', '.join(METHODS)}.{hint}")
        if method not in methods:
            methods.append(method)
    if not methods:
        raise ScaffoldInputError("--methods: give at least one method, like --methods GET,POST.")
    return tuple(methods)


PATH_HINT = "write the folders under app/ separated by /, like api/users/[id]"


def checked_folders(path: str) -> tuple[str, ...]:
    """The folders of `path` under app/, refusing anything that could write elsewhere: `..` (and `.`)
    segments, an absolute path, backslashes (a separator on Windows), control characters."""
    text = path.strip()
    if "\\" in text:
        raise ScaffoldInputError(f"{path!r}: backslashes are not allowed; {PATH_HINT}.")
    if text.startswith("/"):
        raise ScaffoldInputError(f"{path!r} is an absolute path; {PATH_HINT} (no leading /).")
    if not text.isprintable():
        raise ScaffoldInputError(f"{printable(path)!r} contains control characters; {PATH_HINT}.")
    folders = tuple(filter(None, text.rstrip("/").split("/")))
    if any(folder in (".", "..") for folder in folders):
        raise ScaffoldInputError(
            f"{path!r}: `.` and `..` segments are not allowed, the route must stay inside app/; {PATH_HINT}."
        )
    return folders


def inside_app(root: Path, url_path: str, folders: Sequence[str]) -> None:
    """Refuse a route folder that resolves outside app/ (a symlinked folder on the way)."""
    app = (root / "app").resolve()
    target = app.joinpath(*folders).resolve()
    if target != app and app not in target.parents:
        raise ScaffoldInputError(
            f"{url_path!r} resolves to {target}, outside {app} (a symlink on the way); "
            f"{PATH_HINT}, through real folders."
        )


def parse_url_path(path: str) -> tuple[tuple[str, ...], tuple[Segment, ...]]:
    """`api/users/[id]` -> folders `("api", "users", "[id]")` and the URL segments (route groups dropped)."""
    folders = checked_folders(path)
    try:
        segments = parse_pattern("/" + "/".join(folders), groups=True)
    except PatternError as exc:
        if exc.folder is not None and exc.folder.kind is Kind.PRIVATE:
            folder = exc.folder.name
            raise ScaffoldInputError(
                f"{path!r}: `{folder}` is a private folder, never routed; "
                f"drop the leading underscore or write `%5F{folder[1:]}` for a literal `_`."
            ) from None
        raise ScaffoldInputError(f"{path!r}: {exc}.") from None
    try:
        build_manifest([RouteFile("/".join(("app", *folders, "route.py")), folders)])
    except RouteTreeError as exc:
        raise ScaffoldInputError(f"{path!r}: {exc.problems[0].message} {exc.problems[0].fix}") from None
    return folders, segments


def _defined_names(text: str) -> set[str]:
    tree = ast.parse(text)
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))} | {
        a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names
    }


def _append(existing: str, imports: Sequence[str], body: str) -> str:
    """Add missing `imports` after the module's last top-level import (or docstring), and `body` at the end."""
    lines = existing.splitlines()
    tree = ast.parse(existing)
    missing = [line for line in imports if line not in lines]
    if missing:
        heads = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        if heads:
            at = max(n.end_lineno or n.lineno for n in heads)
        elif tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
            at = tree.body[0].end_lineno or 1
            missing = ["", *missing]
        else:
            at = 0
        lines[at:at] = missing
    text = "\n".join(lines).rstrip("\n")
    return (text + "\n\n\n" if text else "") + body


def plan_route(root: Path, url_path: str, methods: Sequence[str]) -> list[Change]:
    """Every file `framework new route` writes, or `ScaffoldRefused` before anything is written."""
    folders, segments = parse_url_path(url_path)
    inside_app(root, url_path, folders)
    pattern = pattern_of(segments)
    route_file = "/".join(("app", *folders, "route.py"))
    _refuse_taken_route(root, route_file, folders)
    controller_module = f"lib/controllers/{python_name(stem(segments))}_controller.py"
    functions = [f"{m.lower()}_{qualified_stem(segments)}" for m in methods]
    builder = builder_name(segments)
    test_file = f"tests/test_{qualified_stem(segments)}_route.py"
    _refuse_taken_names(
        [root / controller_module], functions, controller_module, "Remove or rename it first, or pick another path."
    )
    _refuse_taken_names(
        [*sorted(root.glob("lib/urls/**/*.py")), root / "lib/urls.py"],
        [builder],
        "lib/urls/",
        "Rename it, or pick another path.",
    )
    if (root / test_file).exists():
        raise ScaffoldRefused(f"{test_file} exists already; nothing was written. Move it, or pick another path.")

    changes = [
        Change(package, f'"""{doc}"""\n', "created", "package")
        for package, doc in PACKAGES.items()
        if not (root / package).exists()
    ]
    controller_body = "\n\n".join(controller_function(f, m, segments) for f, m in zip(functions, methods, strict=True))
    changes.append(
        _module_change(
            root,
            controller_module,
            f"The work behind {pattern}: functions that return `Result`, never HTTP responses.",
            "from framework.controllers import Result",
            controller_body,
            ", ".join(functions),
        )
    )
    urls_file = "lib/urls.py" if (root / "lib/urls.py").is_file() else "lib/urls/__init__.py"
    changes.append(
        _module_change(
            root,
            urls_file,
            "URL builders: one per route, so every use of a URL can be found and checked.",
            "from framework.urls import route_url",
            builder_source(builder, segments, route_file),
            builder,
        )
    )
    changes.append(
        Change(
            route_file,
            route_source(pattern, methods, functions, segments, controller_module),
            "created",
            ", ".join(methods),
        )
    )
    changes.append(
        Change(
            test_file,
            test_source(pattern, route_file, methods, functions, segments, builder, controller_module),
            "created",
            "tests",
        )
    )
    return changes


def _refuse_taken_route(root: Path, route_file: str, folders: tuple[str, ...]) -> None:
    """The route file exists, or would conflict with the tree (the router's message)."""
    if (root / route_file).exists():
        raise ScaffoldRefused(f"{route_file} exists already; nothing was written. Edit it, or pick another path.")
    try:
        build_manifest([*scan(root), RouteFile(route_file, folders)])
    except RouteTreeError as exc:
        ours = [p for p in exc.problems if route_file in p.files]
        if ours:
            raise ScaffoldRefused(f"{route_file} would not fit the route tree: {ours[0]}") from None


def _refuse_taken_names(paths: Sequence[Path], names: Sequence[str], where: str, fix: str) -> None:
    """A function name we would add is already defined in one of the modules at `paths` (`where` to the user)."""
    defined: set[str] = set()
    for path in paths:
        if path.is_file():
            defined |= _defined_names(path.read_text(encoding="utf-8"))
    taken = sorted(set(names) & defined)
    if taken:
        raise ScaffoldRefused(f"{where} already defines {', '.join(taken)}; nothing was written. {fix}")


def _module_change(root: Path, file: str, doc: str, import_line: str, body: str, added: str) -> Change:
    """Append `body` to `file`, adding `import_line` if missing, or create it with `doc` and the import."""
    path = root / file
    if path.exists():
        text = _append(path.read_text(encoding="utf-8"), [import_line], body)
        return Change(file, text, "updated", f"added {added}")
    return Change(file, f'"""{doc}"""\n\n{import_line}\n\n\n{body}', "created", added)


def write_changes(root: Path, changes: Sequence[Change]) -> None:
    for change in changes:
        path = root / change.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(change.text, encoding="utf-8")
