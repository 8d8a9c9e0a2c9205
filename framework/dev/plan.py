"""Changed paths -> what the dev server redoes. Pure: paths in, a `Plan` out.

| changed path (relative to the root)       | plan                                              |
|-------------------------------------------|---------------------------------------------------|
| `pyproject.toml`                          | restart the process (dependencies may have moved) |
| a file of the framework itself            | restart the process (cannot reload itself)        |
| anything under `app/` (a folder included) | rescan the tree and diff it with the manifest (`rescan`; `folders` when not a .py file) |
| `app/**/*.py`, `lib/**/*.py`, `x.py`       | re-import that file and whatever imports it       |
| `proxy.py`, `middleware.py`, `instrumentation.py` at the root | also rebuild the table          |
| anything under `public/`                  | check the static routes against public/ again (`public`); never a module |
| `README.md`, `data/x.json`                | nothing                                           |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TABLE_FILES = frozenset({"proxy.py", "middleware.py", "instrumentation.py"})
PUBLIC = "public"
RESTART_FILES = frozenset({"pyproject.toml"})


@dataclass(frozen=True, slots=True)
class Plan:
    restart: str | None = None  # the file that needs a restart, when one does
    rescan: bool = False
    python: frozenset[str] = frozenset()  # changed .py files, relative to the root, `/`-separated
    rebuild: bool = False  # a root proxy.py / middleware.py / instrumentation.py changed: build the table again
    folders: bool = False  # something under app/ that is not a .py file: a folder made, renamed, deleted
    tree: frozenset[str] = frozenset()  # every changed path under app/, for the partial re-walk
    public: bool = False  # a file under public/ added, removed or changed: it may collide with a route

    @property
    def empty(self) -> bool:
        return not (self.restart or self.rescan or self.python or self.rebuild or self.public)


def relative(path: str | Path, base: Path) -> str | None:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return None


def plan(paths: Iterable[str | Path], root: Path, framework_dir: Path | None = None) -> Plan:
    """What to redo for these changed paths (absolute), the project at `root`, the framework at `framework_dir`."""
    rescan = rebuild = folders = public = False
    python: set[str] = set()
    tree: set[str] = set()
    for path in sorted(map(str, paths)):
        if framework_dir is not None and relative(path, framework_dir) is not None:
            return Plan(restart=relative(path, framework_dir.parent) or path)
        rel = relative(path, root)
        if rel is None:
            continue
        if rel in RESTART_FILES:
            return Plan(restart=rel)
        if rel == PUBLIC or rel.startswith(PUBLIC + "/"):
            public = True
            continue
        if rel == "app" or rel.startswith("app/"):
            rescan = True
            folders = folders or not rel.endswith(".py")
            tree.add(rel)
        if rel.endswith(".py"):
            python.add(rel)
            rebuild = rebuild or rel in TABLE_FILES
    return Plan(None, rescan, frozenset(python), rebuild, folders, frozenset(tree), public)
