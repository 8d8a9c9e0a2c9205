"""What `framework dev` watches and which changes it keeps: watchfiles' `DefaultFilter`, narrowed.

| path (relative to the root)            | kept? | why                                        |
|----------------------------------------|-------|--------------------------------------------|
| `app/api/new` (a folder), `app/x.py`   | yes   | anything under app/ can change the tree    |
| `lib/db.py`, `settings.py`             | yes   | project modules a route may import         |
| `public/robots.txt`, `public/img` (a folder) | yes | a public file may collide with a route (served from disk either way) |
| `pyproject.toml`                       | yes   | restart                                    |
| `lib/notes.md`, `data/x.json`          | no    | not Python                                 |
| `app/x/__pycache__/route.cpython-311.pyc`, `app/.route.py.swp`, `app/x/route.py~` | no | DefaultFilter |
| `.venv/...`, `venv/...`, `.git/...`, `node_modules/...`, a top-level folder holding `pyvenv.cfg` | no | not the project's code |
"""

from __future__ import annotations

import os
from pathlib import Path

from watchfiles import Change, DefaultFilter

# Tuned for a dev server (watchfiles' defaults are debounce 1600 ms, step 50 ms): the watch thread
# wakes every STEP_MS and yields once a step passes with no new event, so a save is seen within
# 1-2 steps; DEBOUNCE_MS caps how long a burst of writes (a git checkout) is collected.
STEP_MS = 10
DEBOUNCE_MS = 300

# DefaultFilter already ignores .git, .venv, __pycache__, node_modules, .tox, .mypy_cache, .pytest_cache;
# a virtual environment under any other name is found by its pyvenv.cfg (see `venvs`).
EXTRA_IGNORED_DIRS = ("venv", "site-packages", "dist-packages", ".nox", ".ruff_cache")


def framework_source() -> Path | None:
    """The framework's own folder when it is a source checkout (editable install, PYTHONPATH), else None."""
    here = Path(__file__).resolve().parent.parent
    if any(part in ("site-packages", "dist-packages") for part in here.parts):
        return None
    return here


def venvs(root: Path) -> tuple[str, ...]:
    """Top-level folders of the root that are virtual environments, whatever their name."""
    try:
        return tuple(sorted(e.name for e in os.scandir(root) if e.is_dir() and (Path(e.path) / "pyvenv.cfg").exists()))
    except OSError:
        return ()


class DevFilter(DefaultFilter):
    """DefaultFilter's rules (caches, swap files, .git, .venv) applied to paths relative to the root."""

    def __init__(self, root: Path, framework_dir: Path | None = None) -> None:
        self.root = root
        self.framework_dir = framework_dir
        super().__init__(ignore_dirs=(*DefaultFilter.ignore_dirs, *EXTRA_IGNORED_DIRS, *venvs(root)))

    def __call__(self, change: Change, path: str) -> bool:
        for base in (self.root, self.framework_dir):
            if base is None:
                continue
            try:
                rel = Path(path).relative_to(base)
            except ValueError:
                continue
            if not super().__call__(change, str(rel)):
                return False
            if base is self.framework_dir and base is not self.root:
                return path.endswith(".py")
            text = rel.as_posix()
            return (
                text.startswith(("app/", "public/"))
                or text in ("app", "public", "pyproject.toml")
                or text.endswith(".py")
            )
        return False

    def paths(self) -> list[str]:
        """What to hand to `awatch`: the root, plus the framework's source when it lives elsewhere."""
        paths = [str(self.root)]
        if self.framework_dir is not None and not self.framework_dir.is_relative_to(self.root):
            paths.append(str(self.framework_dir))
        return paths
