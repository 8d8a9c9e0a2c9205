"""Everything the rules read, computed once per run: sources, the route tree, the URL builders.

The rules never scan, parse or build a manifest themselves, so two rules reading the same thing
(`url-builder-missing` and `hard-coded-url` both need the builders) share one computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..manifest import Route, Tree, read_tree
from ..scan import RouteFile, public_lookup, scan
from .builders import RouteUrlCall, builders_by_pattern, route_url_calls
from .source import Source, read_sources


@dataclass(frozen=True, slots=True)
class Project:
    """One project as the rules see it. `tree.routes` are read file by file, so a conflict hides no route."""

    root: Path
    sources: Mapping[str, Source]
    files: tuple[RouteFile, ...]
    tree: Tree
    url_calls: tuple[RouteUrlCall, ...]
    builders: Mapping[str, tuple[str, ...]]  # normalised pattern -> builder functions, from `url_calls`
    forbidden_imports: Mapping[str, str]  # module -> what it is ("a database driver"), built-in plus configured
    import_routes: bool = True  # False: the router rule reads folders only and imports no user code

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.tree.routes


def load_project(root: Path, forbidden_imports: Mapping[str, str], *, import_routes: bool = True) -> Project:
    files = scan(root)
    sources = read_sources(root)
    calls = route_url_calls(sources.values())
    return Project(
        root,
        sources,
        files,
        read_tree(files, public_lookup(root)),
        calls,
        builders_by_pattern(calls),
        forbidden_imports,
        import_routes,
    )
