"""The checked route tree kept between runs, keyed by the modification times of the folders it was read from.

Walking `app/` and checking the tree costs about 0.6 s at 10,000 routes; a folder's mtime changes when
an entry is added, removed or renamed in it, which is everything the tree depends on (a `route.py`'s
content does not change its URL). So when every folder the last walk visited still has its mtime, the
last manifest is the manifest, and checking that takes one `stat` per folder. A folder whose mtime moved
is listed again: most such moves add an entry the walk skips (`__pycache__` on a route's first import,
an editor's swap file), which leaves the tree as it was.

| the cache file (`.framework/routes.json`)              | outcome                                    |
|--------------------------------------------------------|--------------------------------------------|
| missing, unreadable, another version                   | walk and check; write it                   |
| a folder gone                                          | walk and check; write it                   |
| a folder's mtime moved, its subfolders or route files differ | walk and check; write it             |
| a folder's mtime moved, only skipped entries differ    | its files and manifest; write the new mtimes |
| every folder as recorded                               | its files and manifest, no walk, no check  |

Public files are not in the key: the collision check with `public/` (one `stat` per static route) runs
either way. A tree with problems is never cached. Writing is best effort (a read-only checkout just
walks every time). Stdlib only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import RouteTreeError
from .manifest import Manifest, Route, build_manifest, public_problems
from .scan import PublicLookup, RouteFile, scan, walked_entries
from .segments import Kind, Segment
from .version import __version__

CACHE_DIR = ".framework"
CACHE_FILE = "routes.json"
FORMAT = 1


def _listing(directory: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The names of the subfolders and of the route files `scan` takes from one folder."""
    try:
        entries = walked_entries(directory)
    except OSError:
        return None
    folders = frozenset(e.name for e in entries if e.is_dir(follow_symlinks=True))
    return folders, frozenset(e.name for e in entries) - folders


def _fresh(root: Path, dirs: list[list[object]], files: list[list[object]]) -> int | None:
    """How many folders' mtimes moved (`dirs` is updated to today's, in place) when the tree is still the
    cached one, else None.

    A folder whose mtime moved is listed again: a new `__pycache__` (the first import of its route), an
    editor's swap file or any other entry `scan` skips leaves the tree as it was, and the cache stands."""
    base = str(root)
    moved: dict[int, int] = {}  # index in `dirs` -> the mtime it has now
    for i, (rel, mtime) in enumerate(dirs):
        try:
            seen = os.stat(f"{base}/{rel}" if rel else base).st_mtime_ns
        except OSError:
            return None
        if seen != mtime:
            moved[i] = seen
    if not moved:
        return 0
    children: dict[str, set[str]] = {}
    for rel, _ in dirs:
        parent, _, name = str(rel).rpartition("/")
        children.setdefault(parent, set()).add(name)
    found: dict[str, set[str]] = {}
    for file, _, _ in files:
        folder, _, name = str(file).rpartition("/")
        found.setdefault(folder, set()).add(name)
    for i in moved:
        rel = str(dirs[i][0])
        if _listing(f"{base}/{rel}") != (frozenset(children.get(rel, ())), frozenset(found.get(rel, ()))):
            return None
    for i, seen in moved.items():
        dirs[i][1] = seen
    return len(moved)


def _read(root: Path) -> tuple[tuple[RouteFile, ...], Manifest] | None:
    try:
        data = json.loads((root / CACHE_DIR / CACHE_FILE).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("framework") != __version__:
            return None
        moved = _fresh(root, data["dirs"], data["files"])
        if moved is None:
            return None
        files = tuple(RouteFile(f, tuple(folders), kind) for f, folders, kind in data["files"])
        kinds = tuple(Kind)
        made: dict[tuple[int, str], Segment] = {}  # one `Segment("items")` for every route that has it
        routes = tuple(
            Route(
                pattern,
                file,
                tuple(made.get((k, n)) or made.setdefault((k, n), Segment(kinds[k], n)) for k, n in segments),
            )
            for pattern, file, segments in data["routes"]
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    if moved:  # only entries the walk skips changed: keep the cache, with today's mtimes
        _save(root, data)
    return files, Manifest(routes)


def _write(root: Path, dirs: Sequence[Sequence[object]], files: tuple[RouteFile, ...], manifest: Manifest) -> None:
    data = {
        "format": FORMAT,
        "framework": __version__,
        "dirs": dirs,
        "files": [[f.file, list(f.folders), f.kind] for f in files],
        "routes": [[r.pattern, r.file, [[int(s.kind), s.name] for s in r.segments]] for r in manifest.routes],
    }
    _save(root, data)


def _save(root: Path, data: dict[str, object]) -> None:
    folder = root / CACHE_DIR
    try:
        folder.mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")  # never committed by accident
        temporary = folder / f"{CACHE_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, folder / CACHE_FILE)  # atomic: a reader sees the old file or the new one
    except OSError:
        pass


def scan_and_check(root: Path, public: PublicLookup | None) -> tuple[tuple[RouteFile, ...], Manifest]:
    """The route files under `root/app` and their manifest: from the cache when no folder changed,
    else walked and checked (and cached). Raises `RouteTreeError` for a tree that cannot be served."""
    cached = _read(root)
    if cached is not None:
        files, manifest = cached
        if public is not None:
            problems = public_problems(manifest.routes, public)
            if problems:
                raise RouteTreeError(problems)
        return cached
    dirs: list[tuple[str, int]] = []
    files = scan(root, visited=dirs)
    manifest = build_manifest(files, public)
    _write(root, dirs, files, manifest)
    return files, manifest
