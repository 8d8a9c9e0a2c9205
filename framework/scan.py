"""Walk `app/` into the list of route files. Pure: reads directory listings, never imports user code.

Private folders (`_lib`) and hidden ones (`.cache`, `__pycache__`) are skipped with everything
below them; every listing is sorted so the result does not depend on the filesystem's order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .segments import is_private

ROUTE_FILE = "route.py"
PAGE_FILE = "page.py"


@dataclass(frozen=True, slots=True)
class RouteFile:
    """A `route.py` (or a future `page.py`) found under `app/`.

    `file` is relative to the project root, `/`-separated (`app/api/users/[id]/route.py`);
    `folders` are the folder names between `app/` and the file, as written on disk.
    """

    file: str
    folders: tuple[str, ...]
    kind: str = "route"


def _skipped(name: str) -> bool:
    return name.startswith(".") or is_private(name)


def scan(root: str | os.PathLike[str], app_dir: str = "app") -> tuple[RouteFile, ...]:
    """Every `route.py` and `page.py` under `root/app_dir`, in sorted path order.

    A missing `app/` gives an empty tuple: a project with no routes yet is still a project.
    """
    base = Path(root, app_dir)
    found: list[RouteFile] = []
    seen: set[tuple[int, int]] = set()

    def walk(directory: Path, folders: tuple[str, ...]) -> None:
        try:
            info = directory.stat()
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        if (info.st_dev, info.st_ino) in seen:  # a symlink loop
            return
        seen.add((info.st_dev, info.st_ino))
        for entry in entries:
            if entry.is_dir(follow_symlinks=True):
                if not _skipped(entry.name):
                    walk(Path(entry.path), (*folders, entry.name))
            elif entry.name in (ROUTE_FILE, PAGE_FILE):
                rel = "/".join((app_dir, *folders, entry.name))
                found.append(RouteFile(rel, folders, "route" if entry.name == ROUTE_FILE else "page"))

    walk(base, ())
    return tuple(found)
