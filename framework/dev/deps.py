"""Which project files a file imports, read from its source (no import runs), to know what a change reaches.

| source in a route                     | module names it may load                         |
|---------------------------------------|--------------------------------------------------|
| `import lib.db`                       | `lib`, `lib.db`                                  |
| `from lib.controllers import Result`  | `lib`, `lib.controllers`, `lib.controllers.Result` |
| `from lib import urls`                | `lib`, `lib.urls`                                |
| `from .helpers import x` (in `lib.a`) | `lib`, `lib.helpers`, `lib.helpers.x`            |

A name counts when it resolves to a file under the root (`lib/db.py` or `lib/db/__init__.py`);
the rest (the stdlib, installed packages, attributes) are simply not found. Imports inside
functions count too, so a lazy import still ties a route to the module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

from ..locations import dotted_name


def imported_names(source: str, package: str | None = None) -> frozenset[str]:
    """Every module name `source` could import (see the table above); `package` resolves relative imports."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.update(_with_parents(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if base is None:
                continue
            if base:
                names.update(_with_parents(base))
            names.update(f"{base}.{a.name}" if base else a.name for a in node.names if a.name != "*")
    return frozenset(names)


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _absolute(module: str | None, level: int, package: str | None) -> str | None:
    if level == 0:
        return module or None
    if not package:
        return None
    parts = package.split(".")
    if level - 1 > len(parts) - 1:
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def package_of(file: str) -> str | None:
    """The package relative imports in `file` resolve against: `lib/db.py` -> `lib`, `lib/__init__.py` -> `lib`."""
    name = dotted_name(file)
    return name if file.endswith("__init__.py") else name.rpartition(".")[0] or None


def _closure(starts: Iterable[str], step: Callable[[str], Iterable[str]]) -> set[str]:
    """Every file reachable from `starts` by following `step` (each file visited once)."""
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        file = todo.pop()
        if file not in seen:
            seen.add(file)
            todo.extend(step(file))
    return seen


class DepGraph:
    """Project files and what they import, parsed once per file and forgotten when the file changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._names: dict[str, frozenset[str]] = {}

    def forget(self, files: Iterable[str]) -> None:
        for file in files:
            self._names.pop(file, None)

    def _imports(self, file: str) -> frozenset[str]:
        names = self._names.get(file)
        if names is None:
            try:
                source = (self.root / file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                source = ""
            names = imported_names(source, package_of(file))
            self._names[file] = names
        return names

    def reaching(self, starts: Iterable[str], targets: set[str]) -> set[str]:
        """The files among `starts` that are in `targets` or import one (directly or through project files).

        One walk forward from `starts` (each file parsed once), then one walk back from `targets`.
        """
        starts = list(starts)
        resolved: dict[str, str | None] = {}
        importers: dict[str, set[str]] = {}

        def imports(file: str) -> list[str]:
            found = []
            for name in self._imports(file):
                if name not in resolved:
                    resolved[name] = self._resolve(name, targets)
                dep = resolved[name]
                if dep is not None:
                    importers.setdefault(dep, set()).add(file)
                    found.append(dep)
            return found

        _closure(starts, imports)  # fills `importers`
        hit = _closure(targets, lambda file: importers.get(file, ()))
        return {f for f in starts if f in hit}

    def _resolve(self, name: str, targets: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
        """`lib.db` -> `lib/db.py` or `lib/db/__init__.py` when that file exists under the root,
        or is among the changed files (a deleted module still ties its importers to the change)."""
        rel = "/".join(name.split("."))
        if not rel or rel.startswith("/"):
            return None
        for candidate in (f"{rel}.py", f"{rel}/__init__.py"):
            if candidate in targets:
                return candidate
        if (self.root / f"{rel}.py").is_file():
            return f"{rel}.py"
        if (self.root / rel / "__init__.py").is_file():
            return f"{rel}/__init__.py"
        return None
