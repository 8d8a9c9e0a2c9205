"""The scan of `app/` after some paths changed, re-walking only those paths (the rest is unchanged).

Same result as `scan(root)`, same order, for a fraction of the work on a big tree:

| changed path (relative to the root) | exists as   | work                                                       |
|-------------------------------------|-------------|------------------------------------------------------------|
| `app/api/new` (folder made, renamed to) | folder  | drop what was under it, walk it whole (files whose own event was lost included) |
| `app/api/old` (folder deleted, renamed from) | nothing | drop what was under it                             |
| `app/api/x/route.py`                | file        | drop it, add it back                                       |
| `app/api/x/route.py`                | nothing     | drop it                                                    |
| `app/_lib/new`, `app/.cache/x`       | anything    | nothing: private and hidden folders hold no routes         |
| `app`                               | anything    | the whole walk                                             |
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..scan import PAGE_FILE, ROUTE_FILE, RouteFile, is_skipped, scan

APP = "app"


def _order(rf: RouteFile) -> tuple[str, ...]:
    """`scan()`'s order: depth first, each listing sorted by name, which is the order of the path's parts."""
    return tuple(rf.file.split("/"))


def rescan(root: Path, previous: Iterable[RouteFile], changed: Iterable[str]) -> tuple[RouteFile, ...]:
    """`previous` (a scan of `root`) brought up to date for the `changed` paths (relative, `/`-separated)."""
    dirty = sorted({c for c in changed if c == APP or c.startswith(APP + "/")})
    if APP in dirty:
        return scan(root)
    found = {rf.file: rf for rf in previous if not any(rf.file == d or rf.file.startswith(d + "/") for d in dirty)}
    for d in dirty:
        parts = d.split("/")[1:]
        path = root / d
        if path.is_dir():
            if any(is_skipped(p) for p in parts):
                continue
            for rf in scan(root, d):
                found[rf.file] = RouteFile(rf.file, (*parts, *rf.folders), rf.kind)
        elif path.is_file() and parts[-1] in (ROUTE_FILE, PAGE_FILE) and not any(is_skipped(p) for p in parts[:-1]):
            found[d] = RouteFile(d, tuple(parts[:-1]), "route" if parts[-1] == ROUTE_FILE else "page")
    return tuple(sorted(found.values(), key=_order))
