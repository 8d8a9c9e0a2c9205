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

import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from watchfiles import Change, DefaultFilter
from watchfiles._rust_notify import RustNotify  # watchfiles' documented Rust backend
from watchfiles.main import (  # awatch's own reading of the WATCHFILES_* variables
    _default_debug,
    _default_force_polling,
    _default_ignore_permission_denied,
    _default_poll_delay_ms,
)

# What to do when the watches cannot be installed (inotify's per-user limit is the usual cause on Linux).
WATCH_HINT = (
    "saved files are not reloaded until you restart. On Linux raise the limit "
    "(sudo sysctl fs.inotify.max_user_watches=524288) or set WATCHFILES_FORCE_POLLING=1"
)

# Tuned for a dev server (watchfiles' defaults are debounce 1600 ms, step 50 ms): the watch thread
# wakes every STEP_MS and yields once a step passes with no new event, so a save is seen within
# 1-2 steps; DEBOUNCE_MS caps how long a burst of writes (a git checkout) is collected.
STEP_MS = 10
DEBOUNCE_MS = 300

# A file's mtime is stamped from the kernel's coarse clock, up to a tick (1-10 ms) behind time.time(): a file
# saved just after a time.time() reading may carry an earlier mtime. Comparisons against a reading allow this.
CLOCK_LAG_S = 0.05

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
        self.ignored_dirs = frozenset((*DefaultFilter.ignore_dirs, *EXTRA_IGNORED_DIRS, *venvs(root)))
        super().__init__(ignore_dirs=tuple(self.ignored_dirs))

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


def watcher(paths: list[str]) -> RustNotify:
    """watchfiles' recursive watcher over `paths`, set up as `awatch` would (WATCHFILES_FORCE_POLLING, polling
    on a WSL mount, WATCHFILES_DEBUG...), but built by us so that it can be built in a thread: `awatch` builds
    it on the event loop, which would keep the port from answering meanwhile."""
    polling, delay_ms = _default_force_polling(None), _default_poll_delay_ms(300)  # 300: awatch's default
    return RustNotify(paths, _default_debug(None), polling, delay_ms, True, _default_ignore_permission_denied(None))


def saved_since(moment: float, keep: DevFilter) -> dict[str, int]:
    """The paths `keep` watches whose mtime is after `moment` (wall clock), each with that mtime in
    nanoseconds: what changed before the watches were in place. `framework dev` opens its port first and
    installs its watches after (30,000 folders take 0.3-0.4 s), then hands these paths to the same reload a
    watch event gets, and keeps the mtimes for `changed_since`. A folder's mtime moves when an entry in it is
    added, removed or renamed, so a deleted route shows up as its changed folder."""
    found: dict[str, int] = {}
    folders = keep.paths()
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if is_dir and entry.name in keep.ignored_dirs:
                        continue
                    if is_dir:
                        folders.append(entry.path)
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.st_mtime > moment and keep(Change.modified, entry.path):
                        found[entry.path] = stat.st_mtime_ns
        except OSError:
            continue
    return found


def mtimes(paths: Iterable[str]) -> dict[str, int]:
    """Each path's mtime in nanoseconds; a path that is gone is left out."""
    found: dict[str, int] = {}
    for path in paths:
        with contextlib.suppress(OSError):
            found[path] = os.stat(path, follow_symlinks=False).st_mtime_ns
    return found


def changed_since(paths: set[str], applied: Mapping[str, int]) -> set[str]:
    """The paths whose mtime is not the one in `applied` (`saved_since`'s, read before the reload): events for
    what the catch-up reload already applied are dropped, anything saved after it is kept (a later save
    moves the mtime; a deleted path has none)."""
    now = mtimes(p for p in paths if p in applied)
    return {p for p in paths if p not in applied or now.get(p) != applied[p]}
