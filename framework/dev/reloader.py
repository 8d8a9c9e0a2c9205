"""Build the next route table to one side, doing only the work a change needs.

| change                                   | work                                                        |
|------------------------------------------|-------------------------------------------------------------|
| a route.py edited                        | re-import that route                                        |
| a route.py added / deleted, folder renamed | re-walk the changed folders of app/ (whole, so a file whose event was lost is found), check the tree, diff it with the manifest: import the new, drop the gone |
| lib/db.py edited                         | drop lib.db and the project modules importing it from sys.modules, re-import the routes that use it |
| root proxy.py / middleware.py / instrumentation.py, app/not_found.py, or a module one imports, edited | import that file again, build the table again |
| a file added to or removed from public/  | check the static routes against public/ again (a collision is an invalid tree) |
| the tree becomes invalid                 | keep the current table, remember the changes for later      |

The caller swaps `app.router.table = outcome.table` (one assignment); requests already running
keep the table, endpoints and modules they started with.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp

from ..endpoints import Endpoint, error_endpoint
from ..errors import RouteTreeError
from ..loader import Failure
from ..locations import project_relative
from ..manifest import Manifest, Route, build_manifest
from ..scan import PAGE_FILE, ROUTE_FILE, RouteFile, public_lookup, scan
from ..segments import Kind, Segment
from ..settings import Settings
from ..table import APP_FILES, AppFiles, RouteTable, build_table, collector_paused, load_app_files, table_from
from ..treecache import scan_and_check
from .deps import DepGraph
from .errorpage import ErrorReport, report_app, report_problem, report_tree
from .plan import Plan
from .rescan import rescan
from .watch import CLOCK_LAG_S


@dataclass(frozen=True, slots=True)
class Entry:
    """One route as currently served: its endpoint, and the report when it failed to import."""

    route: Route
    endpoint: Endpoint
    failure: ErrorReport | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reload did, for the swap and for the terminal."""

    table: RouteTable | None = None  # None: keep serving the current table
    files: tuple[str, ...] = ()  # the changed files behind this reload
    imported: tuple[str, ...] = ()  # route files imported
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failures: tuple[ErrorReport, ...] = ()  # routes failing to import anew, or again after a change to them
    warnings: tuple[str, ...] = ()
    tree_error: RouteTreeError | None = None
    ms: float = 0.0
    routes: int = 0


def _saved_since(path: Path, moment: float) -> bool:
    """Was the file written after `moment` (or is it gone)? Then a reload is on its way for it."""
    try:
        return path.stat().st_mtime > moment
    except OSError:
        return True


def drop_bytecode(root: Path, files: set[str]) -> None:
    """Remove the cached bytecode of changed files: a .pyc is checked by whole-second mtime and size,
    so an edit within the same second that keeps the size would otherwise load the old code."""
    for file in files:
        try:
            os.unlink(importlib.util.cache_from_source(str(root / file)))
        except (OSError, NotImplementedError, ValueError):
            pass


def project_modules(root: Path) -> dict[str, str]:
    """Module name -> file (relative to the root) for every loaded module that is the project's own."""
    found: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        rel = project_relative(root, getattr(module, "__file__", None))
        if rel is not None:
            found[name] = rel
    return found


def refresh_modules(names: set[str]) -> None:
    """Import these project modules afresh (lib.db after lib/db.py changed), replacing the old ones.

    All are dropped from sys.modules first, so a refreshed module imports the fresh version of
    the others. The parent package's attribute (`lib.db`) keeps pointing at the old module until
    the new one has run, so a request still running the old code never finds it missing; and
    `from lib import db` in a re-imported route gets the new one. A module that now fails to import
    is dropped from its parent too, so the routes using it fail to import and show the error."""
    old = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    for name in sorted(old, key=lambda n: n.count(".")):  # packages before their submodules
        if name in sys.modules or "/" in name:  # already pulled in by another; route modules load by file
            continue
        try:
            importlib.import_module(name)
        except (Exception, SystemExit):  # user code: the route that imports it reports the error
            sys.modules.pop(name, None)
            parent_name, _, child = name.rpartition(".")
            parent = sys.modules.get(parent_name) if parent_name else None
            if parent is not None and getattr(parent, child, None) is old[name]:
                with contextlib.suppress(AttributeError):
                    delattr(parent, child)


def tree_error_table(error: RouteTreeError, settings: Settings) -> RouteTable:
    """Before any good table exists: every URL answers 500 with the tree's problems."""
    file = error.problems[0].files[0] if error.problems and error.problems[0].files else "app"
    route = Route("/[[...path]]", file, (Segment(Kind.OPTIONAL_CATCH_ALL, "path"),))
    return table_from(Manifest((route,)), [error_endpoint(route, report_app(report_tree(error)), settings)])


@dataclass
class Reloader:
    root: Path
    settings: Settings = field(default_factory=Settings)
    manifest: Manifest | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    tree_error: RouteTreeError | None = None
    pending: set[str] = field(default_factory=set)  # changes not applied while the tree was invalid
    files: tuple[RouteFile, ...] | None = None  # the last walk of app/
    graph: DepGraph = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)
    app_files: AppFiles | None = None  # proxy.py, instrumentation.py, not_found.py as last loaded (None: not yet)
    # The first table imports each route on its first request (or in `warm`), and tells this what it gave.
    lazy_report: Callable[[Failure | Endpoint], None] | None = None
    # Wall-clock time just before the first walk, less the file system's clock lag: a file saved after it may
    # be missing from the first table, and `runner` reloads it (watch.saved_since) once its watches are in place.
    started_at: float = 0.0

    def __post_init__(self) -> None:
        self.graph = DepGraph(self.root)

    def start(self) -> Outcome:
        """The first table: the tree checked (from `treecache` when nothing moved), every route to be imported
        on its first request, or by `warm` in the background, when `lazy_report` is set; else imported now."""
        self.started_at = time.time() - CLOCK_LAG_S
        with collector_paused():  # before the port opens: nothing to collect yet (table.collector_paused)
            return self.apply(Plan(rescan=True))

    def apply(self, plan: Plan) -> Outcome:
        with self.lock:
            started = time.perf_counter()
            outcome = self._apply(plan)
            ms = (time.perf_counter() - started) * 1000
            count = len(self.manifest.routes) if self.manifest else 0
            return dataclasses.replace(outcome, ms=ms, routes=count)

    def _apply(self, plan: Plan) -> Outcome:
        changed = set(plan.python) | self.pending
        drop_bytecode(self.root, set(plan.python))
        self.graph.forget(changed)
        manifest = self.manifest
        try:
            if manifest is None and self.files is None:  # the first table: the cached tree when nothing moved
                self.files, manifest = scan_and_check(self.root, public_lookup(self.root))
            elif manifest is None or self.tree_error is not None or plan.public or self._needs_walk(plan, manifest):
                if self.files is None or self.tree_error is not None:
                    self.files = scan(self.root)
                else:
                    self.files = rescan(self.root, self.files, plan.tree)
                manifest = build_manifest(self.files, public_lookup(self.root))
            loaded = project_modules(self.root)
            stale = self.graph.reaching(set(loaded.values()), changed) | changed if changed else set()
            refresh_modules({name for name, file in loaded.items() if file in stale})
            kinds = self._stale_app_files(changed)
            app_files = load_app_files(self.root, self.app_files, kinds)
        except RouteTreeError as exc:  # an invalid tree: keep serving the last good table
            self.pending, self.tree_error = changed, exc
            table = tree_error_table(exc, self.settings) if self.manifest is None else None
            return Outcome(table, tuple(sorted(plan.python)), tree_error=exc)
        was_invalid = self.tree_error is not None
        self.tree_error, self.pending = None, set()

        old = self.entries
        reach = self.graph.reaching([r.file for r in manifest.routes], changed) if changed else set()
        keep = {  # a route still waiting for its first import is kept when only what it imports changed: it
            # will import the new code; its own file changed, it is imported now, so the reload reports it
            file: entry.endpoint
            for file, entry in old.items()
            if (file not in reach and not (entry.failure is not None and changed))
            or (entry.endpoint.pending is not None and not entry.endpoint.pending.resolved and file not in changed)
        }
        reports: dict[str, ErrorReport] = {}

        def error_page(failure: Failure) -> ASGIApp:
            reports[failure.file] = report_problem(self.root, failure.problem, failure.error)
            return report_app(reports[failure.file])

        lazy = self.lazy_report if self.manifest is None else None
        built = build_table(
            self.root, manifest, self.settings, on_failure=error_page, keep=keep, app_files=app_files, lazy=lazy
        )
        imported = set(built.imported)
        entries = {
            e.route.file: Entry(
                e.route,
                e,
                reports.get(e.route.file)
                if e.route.file in imported or e.route.file not in old
                else old[e.route.file].failure,
            )
            for e in built.table.endpoints
        }
        failures = [  # new, different, or touched by this change: each problem once per change
            reports[f]
            for f in built.imported
            if f in reports and (f not in old or old[f].failure != reports[f] or {f, reports[f].file} & changed)
        ]
        for kind in kinds:
            result = getattr(app_files, kind)[0]
            if isinstance(result, Failure):
                failures.append(reports[result.file])
        warnings = [
            w
            for f in built.imported
            for w in entries[f].endpoint.warnings
            if f not in old or w not in old[f].endpoint.warnings
        ]
        added = tuple(f for f in entries if f not in old)
        removed = tuple(f for f in old if f not in entries)
        same = manifest == self.manifest and not built.imported and not plan.rebuild and not was_invalid and not kinds
        self.manifest, self.entries, self.app_files = manifest, entries, app_files
        files = tuple(sorted(changed | set(added) | set(removed)))
        if same:
            return Outcome(None, files)
        if kinds:
            warnings += [w for kind in kinds for w in getattr(app_files, kind)[1]]
        return Outcome(built.table, files, built.imported, added, removed, tuple(failures), tuple(warnings))

    def _stale_app_files(self, changed: set[str]) -> set[str]:
        """The kinds of app-level file to import again: all at first, then those whose file changed (added,
        edited, deleted) or imports, directly or not, a changed project module."""
        if self.app_files is None:
            return set(APP_FILES)
        stale = set()
        for kind, files in APP_FILES.items():
            present = [f for f in files if (self.root / f).is_file()]
            if changed & set(files) or (changed and present and self.graph.reaching(present, changed)):
                stale.add(kind)
        return stale

    def warm(self) -> None:
        """In the background after startup: import the routes no request has needed yet (each once, whoever
        comes first), then parse the imports of every route and project module, so the first edit does not
        pay for it."""
        for file in list(self.entries):
            with self.lock:  # one route at a time, so a reload never waits long and never races an import
                entry = self.entries.get(file)  # as the last reload left it
                pending = entry.endpoint.pending if entry is not None else None
                if pending is not None and not pending.resolved and not _saved_since(self.root / file, self.started_at):
                    pending.resolve()  # else the reload of the change imports it
        with self.lock:
            files = [r.file for r in self.manifest.routes] if self.manifest else []
            self.graph.reaching([*files, *project_modules(self.root).values()], set())

    def unseen(self, folders: set[str]) -> bool:
        """Is there a route file under these folders (relative to the root) that the last walk missed?

        Compared with the walk, not the manifest: while the tree is invalid the manifest is the last good
        one, and the file that made it invalid would count as unseen and report the problem twice."""
        known = {rf.file for rf in self.files or ()}
        return any(rf.file not in known for folder in sorted(folders) for rf in scan(self.root, folder))

    def _needs_walk(self, plan: Plan, manifest: Manifest) -> bool:
        """Walk app/ again unless the only app/ changes are edits of route files we serve and that still exist.

        A folder event, a new, deleted or unknown file under app/ all walk; an edit of a known
        route.py cannot change the tree, and skipping the walk keeps edits fast on big trees."""
        if not plan.rescan:
            return False
        if plan.folders:
            return True
        known = {r.file for r in manifest.routes}
        return any(
            f.startswith("app/")
            and ((f.rsplit("/", 1)[-1] in (ROUTE_FILE, PAGE_FILE) and f not in known) or not (self.root / f).is_file())
            for f in plan.python
        )
