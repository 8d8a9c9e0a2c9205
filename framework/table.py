"""The route table: scan, check and import the project, then index it for the router.

One `build_table` for both modes. `framework start` passes no `on_failure`: any route or proxy that
cannot load raises `RouteTreeError` naming every file. `framework dev` passes one that turns the
failure into an error page for that URL, and `keep`s the endpoints a change did not touch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp

from .endpoints import Endpoint, error_endpoint, make_endpoint
from .errors import RouteTreeError
from .loader import Failure, load_route
from .manifest import Manifest, Route, build_manifest
from .matcher import Matcher
from .proxy import BrokenProxy, ProxyApp, ProxyLoad, load_proxy
from .scan import scan
from .settings import Settings

OnFailure = Callable[[Failure], ASGIApp]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Everything a request needs, built to one side and swapped in with one assignment."""

    manifest: Manifest
    endpoints: tuple[Endpoint, ...]
    matcher: Matcher[Endpoint]
    by_raw_path: Mapping[bytes, Endpoint] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    proxy: ProxyApp | None = None  # the root proxy.py, run before matching


def raw_key(route: Route) -> bytes | None:
    """The raw path a static route answers without any decoding, or None when it has none."""
    if not route.is_static or "%" in route.pattern:
        return None
    return route.pattern.encode("utf-8")


def table_from(
    manifest: Manifest, endpoints: Iterable[Endpoint], warnings: Iterable[str] = (), proxy: ProxyApp | None = None
) -> RouteTable:
    endpoints = tuple(endpoints)
    by_raw = {key: e for e in endpoints if (key := raw_key(e.route)) is not None}
    matcher = Matcher((e.route, e) for e in endpoints)
    return RouteTable(manifest, endpoints, matcher, by_raw, tuple(warnings), proxy)


def load_manifest(root: Path) -> Manifest:
    return build_manifest(scan(root))


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
    proxy: ProxyLoad | None = None,
) -> Built:
    """Import the routes of `manifest` (and the root proxy, unless `proxy` is given already loaded) and
    index them.

    Without `on_failure`, a route or proxy that cannot load raises `RouteTreeError` naming every file
    (start mode). With it, each `Failure` becomes the ASGI app answering for that URL, or for every
    request when it is the proxy's (dev mode). `keep` maps route files to endpoints still good for the
    same route: they are reused, not imported again.
    """
    settings = settings or Settings()
    proxy_result, proxy_warnings = load_proxy(root) if proxy is None else proxy
    failures: list[Failure] = []
    proxy_app: ProxyApp | None = None
    if isinstance(proxy_result, Failure):
        failures.append(proxy_result)
        if on_failure is not None:
            proxy_app = BrokenProxy(on_failure(proxy_result), file=proxy_result.file)
    else:
        proxy_app = proxy_result
    endpoints: list[Endpoint] = []
    imported: list[str] = []
    for route in manifest.routes:
        kept = (keep or {}).get(route.file)
        if kept is not None and kept.route == route:
            endpoints.append(kept)
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
        raise RouteTreeError([f.problem for f in failures])
    warnings = [*proxy_warnings, *(w for e in endpoints for w in e.warnings)]
    return Built(table_from(manifest, endpoints, warnings, proxy_app), tuple(imported), tuple(failures))


def load_table(root: Path, settings: Settings | None = None) -> RouteTable:
    """Scan, check, import and index the project at `root`, or raise `RouteTreeError` (start mode)."""
    return build_table(root, load_manifest(root), settings).table
