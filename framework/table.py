"""The route table: scan, check and import the project and its app-level files, then index it for the router.

One `build_table` for both modes. `framework start` passes no `on_failure`: any route or app-level
file that cannot load raises `RouteTreeError` naming every file. `framework dev` passes one that
turns the failure into an error page, and `keep`s the endpoints a change did not touch:

| failed to load                         | dev answers the error page for          |
|----------------------------------------|-----------------------------------------|
| `app/x/route.py`                       | that route's URL                        |
| `proxy.py`, `instrumentation.py`       | every request (nothing they guard or set up is served meanwhile) |
| `app/not_found.py`                     | every 404                               |
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from starlette.types import ASGIApp

from .endpoints import Endpoint, error_endpoint, make_endpoint
from .errors import RouteTreeError
from .fallback import NOT_FOUND_FILE, NotFound, NotFoundLoad, load_not_found
from .instrumentation import INSTRUMENTATION_FILE, Instrumentation, InstrumentationLoad, load_instrumentation
from .loader import Failure, load_route, one_per_cause
from .manifest import Manifest, Route
from .matcher import Matcher
from .proxy import MIDDLEWARE_FILE, PROXY_FILE, BrokenProxy, ProxyApp, ProxyLoad, load_proxy
from .public import PublicFiles, public_files
from .scan import public_lookup
from .settings import Settings
from .treecache import scan_and_check

OnFailure = Callable[[Failure], ASGIApp]
T = TypeVar("T")

# Each app-level file, by kind: the files that hold it (relative to the root) and its loader.
APP_FILES: Mapping[str, tuple[str, ...]] = {
    "proxy": (PROXY_FILE, MIDDLEWARE_FILE),
    "instrumentation": (INSTRUMENTATION_FILE,),
    "not_found": (NOT_FOUND_FILE,),
}


@dataclass(frozen=True, slots=True)
class AppFiles:
    """The app-level files beside the routes, each as loaded: (what it gives, its Failure, or None; warnings)."""

    proxy: ProxyLoad = (None, ())
    instrumentation: InstrumentationLoad = (None, ())
    not_found: NotFoundLoad = (None, ())

    @property
    def warnings(self) -> tuple[str, ...]:
        return (*self.proxy[1], *self.instrumentation[1], *self.not_found[1])


def load_app_files(root: Path, previous: AppFiles | None = None, stale: Iterable[str] = ()) -> AppFiles:
    """Import the app-level files; with `previous`, only the kinds in `stale` (the dev server's reloads)."""
    again = set(stale) if previous is not None else set(APP_FILES)
    keep = previous or AppFiles()
    return AppFiles(
        load_proxy(root) if "proxy" in again else keep.proxy,
        load_instrumentation(root) if "instrumentation" in again else keep.instrumentation,
        load_not_found(root) if "not_found" in again else keep.not_found,
    )


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Everything a request needs, built to one side and swapped in with one assignment."""

    manifest: Manifest
    endpoints: tuple[Endpoint, ...]
    matcher: Matcher[Endpoint]
    by_raw_path: Mapping[bytes, Endpoint] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    proxy: ProxyApp | None = None  # the root proxy.py, run before matching
    instrumentation: Instrumentation | None = None  # its hooks and middleware
    not_found: NotFound | ASGIApp | None = None  # app/not_found.py, or the dev page of a broken one
    public: PublicFiles | None = None  # public/, tried before the 404


def raw_key(route: Route) -> bytes | None:
    """The raw path a static route answers without any decoding, or None when it has none."""
    if not route.is_static or "%" in route.pattern:
        return None
    return route.pattern.encode("utf-8")


def table_from(
    manifest: Manifest,
    endpoints: Iterable[Endpoint],
    warnings: Iterable[str] = (),
    proxy: ProxyApp | None = None,
    instrumentation: Instrumentation | None = None,
    not_found: NotFound | ASGIApp | None = None,
    public: PublicFiles | None = None,
) -> RouteTable:
    endpoints = tuple(endpoints)
    by_raw = {key: e for e in endpoints if (key := raw_key(e.route)) is not None}
    matcher = Matcher((e.route, e) for e in endpoints)
    return RouteTable(manifest, endpoints, matcher, by_raw, tuple(warnings), proxy, instrumentation, not_found, public)


def load_manifest(root: Path) -> Manifest:
    """The checked tree of `root/app` (from `treecache` when no folder changed since the last run)."""
    return scan_and_check(root, public_lookup(root))[1]


class LazyRoute:
    """A route of `framework dev`'s first table, imported on its first request (as `next dev` compiles on
    demand) or by the warm-up that imports the rest in the background, whichever comes first; once.

    A failure becomes the route's error page through `on_failure`, and `report` tells the terminal.
    """

    __slots__ = ("_endpoint", "_lock", "_on_failure", "_report", "_root", "_route", "_settings")

    def __init__(
        self,
        root: Path,
        route: Route,
        settings: Settings,
        on_failure: OnFailure,
        report: Callable[[Failure | Endpoint], None],
    ) -> None:
        self._root, self._route, self._settings = root, route, settings
        self._on_failure, self._report = on_failure, report
        self._lock = threading.Lock()
        self._endpoint: Endpoint | None = None

    @property
    def resolved(self) -> bool:
        return self._endpoint is not None

    def resolve(self) -> Endpoint:
        with self._lock:
            if self._endpoint is None:
                loaded = load_route(self._root, self._route)
                if isinstance(loaded, Failure):
                    endpoint = error_endpoint(self._route, self._on_failure(loaded), self._settings)
                    self._report(loaded)
                else:
                    endpoint = make_endpoint(loaded, self._settings)
                    self._report(endpoint)
                self._endpoint = endpoint
            return self._endpoint


def lazy_endpoint(route: Route, pending: LazyRoute) -> Endpoint:
    """The table's stand-in for a route not imported yet: the router resolves it before anything else."""
    return Endpoint(route, {}, "", (), pending=pending)


@dataclass(frozen=True, slots=True)
class Built:
    """A table and how it was made: the route files imported for it and what failed to load."""

    table: RouteTable
    imported: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()


def build_table(
    root: Path,
    manifest: Manifest,
    settings: Settings | None = None,
    *,
    on_failure: OnFailure | None = None,
    keep: Mapping[str, Endpoint] | None = None,
    app_files: AppFiles | None = None,
    lazy: Callable[[Failure | Endpoint], None] | None = None,
) -> Built:
    """Import the routes of `manifest` and the app-level files (unless `app_files` are given already
    loaded) and index them.

    Without `on_failure`, anything that cannot load raises `RouteTreeError` naming every file (start
    mode). With it, each `Failure` becomes the ASGI app answering for it (the module's table; dev
    mode). `keep` maps route files to endpoints still good for the same route: they are reused, not
    imported again. With `lazy` (dev's first table, with `on_failure`), routes are not imported here but
    on first use (`LazyRoute`), and `lazy` hears what each import gave.
    """
    settings = settings or Settings()
    files = app_files or load_app_files(root)
    failures: list[Failure] = []

    def usable(result: T | Failure | None) -> T | None:
        if isinstance(result, Failure):
            failures.append(result)
            return None
        return result

    proxy_app: ProxyApp | None = usable(files.proxy[0])
    instrumentation = usable(files.instrumentation[0])
    not_found: NotFound | ASGIApp | None = usable(files.not_found[0])
    if on_failure is not None:
        for failure in failures:
            if failure.file == NOT_FOUND_FILE:
                not_found = on_failure(failure)
            else:  # proxy.py, instrumentation.py: every request
                proxy_app = BrokenProxy(on_failure(failure), file=failure.file)
    endpoints: list[Endpoint] = []
    imported: list[str] = []
    for route in manifest.routes:
        kept = (keep or {}).get(route.file)
        if kept is not None and kept.route == route:
            endpoints.append(kept)
            continue
        if lazy is not None and on_failure is not None:
            endpoints.append(lazy_endpoint(route, LazyRoute(root, route, settings, on_failure, lazy)))
            continue
        loaded = load_route(root, route)
        imported.append(route.file)
        if isinstance(loaded, Failure):
            failures.append(loaded)
            if on_failure is not None:
                endpoints.append(error_endpoint(route, on_failure(loaded), settings))
        else:
            endpoints.append(make_endpoint(loaded, settings))
    if failures and on_failure is None:
        raise RouteTreeError(one_per_cause([f.problem for f in failures]))
    warnings = [*files.warnings, *(w for e in endpoints for w in e.warnings)]
    public = public_files(root, settings.dev)
    table = table_from(manifest, endpoints, warnings, proxy_app, instrumentation, not_found, public)
    return Built(table, tuple(imported), tuple(failures))


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a build only adds objects that live on, yet each collection
    walks all of them again (at 10,000 routes, 880 collections took 0.38 s of a 1.9 s start)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_table(root: Path, settings: Settings | None = None) -> RouteTable:
    """Scan, check, import and index the project at `root`, or raise `RouteTreeError` (start mode)."""
    with collector_paused():
        return build_table(root, load_manifest(root), settings).table
