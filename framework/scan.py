"""Walk `app/` into the list of route files. Pure: reads directory listings, never imports user code.

Private folders (`_lib`) and hidden ones (`.cache`, `__pycache__`) are skipped with everything
below them; every listing is sorted so the result does not depend on the filesystem's order.
`public/` is never walked: `public_lookup` answers "is there a file at this URL?" for the routes that
could collide with one.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from dataclasses import dataclass

from .segments import is_private

ROUTE_FILE = "route.py"
PAGE_FILE = "page.py"
PUBLIC_DIR = "public"
PublicLookup = Callable[[tuple[str, ...]], str | None]
"""URL segments -> the public file at that URL (`("robots.txt",)` -> `"public/robots.txt"`), or None."""


@dataclass(frozen=True, slots=True)
class RouteFile:
    """A `route.py` (or a future `page.py`) found under `app/`.

    `file` is relative to the project root, `/`-separated (`app/api/users/[id]/route.py`);
    `folders` are the folder names between `app/` and the file, as written on disk.
    """

    file: str
    folders: tuple[str, ...]
    kind: str = "route"


def is_skipped(name: str) -> bool:
    """Hidden (`.git`, `.venv`) and private (`_lib`, `__pycache__`) folders are not walked."""
    return name.startswith(".") or is_private(name)


_name = operator.attrgetter("name")


def walked_entries(directory: str) -> list[os.DirEntry[str]]:
    """What the walk takes from one folder, by name: the subfolders it enters (symlinks followed, hidden and
    private ones left out) and its `route.py` / `page.py`. Raises `OSError` as `os.scandir` does."""
    taken = [
        e
        for e in os.scandir(directory)  # read to the end, which closes it
        if (not is_skipped(e.name) if e.is_dir(follow_symlinks=True) else e.name in (ROUTE_FILE, PAGE_FILE))
    ]
    taken.sort(key=_name)
    return taken


def scan(
    root: str | os.PathLike[str], app_dir: str = "app", *, visited: list[tuple[str, int]] | None = None
) -> tuple[RouteFile, ...]:
    """Every `route.py` and `page.py` under `root/app_dir`, in sorted path order.

    A missing `app/` gives an empty tuple: a project with no routes yet is still a project. `visited`, when
    given, receives each folder walked (relative to `root`) with its mtime, read before its listing, so a
    change during the walk is seen next time (`treecache`).
    """
    base = os.path.join(root, app_dir)
    found: list[RouteFile] = []
    try:
        info = os.stat(base)
    except (FileNotFoundError, NotADirectoryError):
        return ()
    # Folders visited, as (device, inode): a symlink back to one of them is a loop. Plain folders
    # take the inode scandir already read (no system call); only symlinks cost a stat.
    seen = {(info.st_dev, info.st_ino)}

    def walk(directory: str, folders: tuple[str, ...], device: int) -> None:
        try:
            if visited is not None:
                visited.append(("/".join((app_dir, *folders)), os.stat(directory).st_mtime_ns))
            entries = walked_entries(directory)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=True):
                if entry.is_symlink():
                    target = entry.stat(follow_symlinks=True)
                    key = (target.st_dev, target.st_ino)
                else:
                    key = (device, entry.inode())
                if key not in seen:
                    seen.add(key)
                    walk(entry.path, (*folders, name), key[0])
            else:
                rel = "/".join((app_dir, *folders, name))
                found.append(RouteFile(rel, folders, "route" if name == ROUTE_FILE else "page"))

    walk(base, (), info.st_dev)
    return tuple(found)


def public_file(root: str | os.PathLike[str], names: tuple[str, ...]) -> str | None:
    """`public/<names...>` when it is a file (the one a static route at the same URL collides with), else None.

    Called once per static route, never for the files of `public/` themselves: a big public folder
    costs nothing to check, and a project without `public/` pays one `stat`.
    """
    if not names:
        return None
    path = os.path.join(root, PUBLIC_DIR, *names)
    return "/".join((PUBLIC_DIR, *names)) if os.path.isfile(path) else None


def public_lookup(root: str | os.PathLike[str]) -> PublicLookup | None:
    """`public_file` for this root, or None when the root has no `public/` folder."""
    if not os.path.isdir(os.path.join(root, PUBLIC_DIR)):
        return None
    return lambda names: public_file(root, names)
