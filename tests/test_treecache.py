"""The route tree cache: reused while no folder changed, redone as soon as one did."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from framework import treecache
from framework.errors import RouteTreeError
from framework.scan import public_lookup, scan
from framework.table import load_manifest
from tests.helpers import write_tree

ROUTE = "def GET(request):\n    return {}\n"


def patterns(root: Path) -> list[str]:
    return [r.pattern for r in load_manifest(root).routes]


def no_walk(*args: object, **kwargs: object) -> None:
    raise AssertionError("the tree was walked although no folder changed")


def test_an_unchanged_tree_is_read_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app/a/route.py": ROUTE, "app/b/[id]/route.py": ROUTE})
    assert patterns(tmp_path) == ["/a", "/b/[id]"]
    assert (tmp_path / ".framework/routes.json").is_file() and (tmp_path / ".framework/.gitignore").read_text() == "*\n"
    monkeypatch.setattr(treecache, "scan", no_walk)
    assert patterns(tmp_path) == ["/a", "/b/[id]"]  # no walk: the cache answered
    (tmp_path / "app/a/route.py").write_text(ROUTE + "\n# edited\n")  # a route's content is not the tree
    assert patterns(tmp_path) == ["/a", "/b/[id]"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda root: write_tree(root, {"app/c/route.py": ROUTE}), ["/a", "/b/[id]", "/c"]),
        (lambda root: (root / "app/a/route.py").unlink(), ["/b/[id]"]),
        (lambda root: os.rename(root / "app/b/[id]", root / "app/b/[slug]"), ["/a", "/b/[slug]"]),
        (lambda root: write_tree(root, {"app/b/[id]/x/route.py": ROUTE}), ["/a", "/b/[id]", "/b/[id]/x"]),
    ],
    ids=["new-route", "deleted-route", "renamed-folder", "new-nested-route"],
)
def test_any_change_to_a_folder_walks_again(tmp_path: Path, change, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    write_tree(tmp_path, {"app/a/route.py": ROUTE, "app/b/[id]/route.py": ROUTE})
    patterns(tmp_path)
    change(tmp_path)
    assert patterns(tmp_path) == expected


def test_a_tree_with_problems_is_refused_and_never_cached(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/(a)/x/route.py": ROUTE, "app/(b)/x/route.py": ROUTE})
    with pytest.raises(RouteTreeError):
        load_manifest(tmp_path)
    assert not (tmp_path / ".framework/routes.json").exists()


def test_a_public_file_beside_a_cached_route_is_still_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/robots.txt/route.py": ROUTE})
    assert patterns(tmp_path) == ["/robots.txt"]
    write_tree(tmp_path, {"public/robots.txt": "User-agent: *\n"})  # app/ unchanged: the cache is fresh
    with pytest.raises(RouteTreeError, match="a route and a public file both answer"):
        treecache.scan_and_check(tmp_path, public_lookup(tmp_path))


def test_another_version_or_a_broken_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app/a/route.py": ROUTE})
    patterns(tmp_path)
    cache = tmp_path / ".framework/routes.json"
    data = json.loads(cache.read_text())
    cache.write_text(json.dumps({**data, "framework": "0.0.0", "routes": []}))
    assert patterns(tmp_path) == ["/a"]  # not the stale empty list
    cache.write_text("{not json")
    assert patterns(tmp_path) == ["/a"]


def test_an_unwritable_project_still_serves(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/a/route.py": ROUTE, ".framework": ""})  # a file where the folder would go
    assert patterns(tmp_path) == ["/a"] and patterns(tmp_path) == ["/a"]


@pytest.mark.parametrize(
    "change",
    [
        lambda root: write_tree(root, {"app/a/__pycache__/route.cpython-311.pyc": "x"}),  # the route's first import
        lambda root: write_tree(root, {"app/b/[id]/.route.py.swp": "x"}),  # an editor's swap file
        lambda root: write_tree(root, {"app/a/_lib/helpers.py": "x"}),  # a private folder
        lambda root: write_tree(root, {"app/.cache/x": "x", "app/notes.md": "x"}),  # hidden folder, other file
    ],
    ids=["pycache", "swap-file", "private-folder", "hidden-folder-and-file"],
)
def test_an_entry_the_walk_skips_keeps_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change) -> None:  # type: ignore[no-untyped-def]
    write_tree(tmp_path, {"app/a/route.py": ROUTE, "app/b/[id]/route.py": ROUTE})
    patterns(tmp_path)
    change(tmp_path)
    monkeypatch.setattr(treecache, "scan", no_walk)
    assert patterns(tmp_path) == ["/a", "/b/[id]"]  # listed again, not walked
    cached = json.loads((tmp_path / ".framework/routes.json").read_text())["dirs"]
    assert all(os.stat(tmp_path / rel).st_mtime_ns == mtime for rel, mtime in cached)  # today's mtimes kept


def test_a_new_folder_walks_again_even_with_no_route_in_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app/a/route.py": ROUTE})
    patterns(tmp_path)
    (tmp_path / "app/a/b").mkdir()
    walks: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        walks.append(1)
        return scan(*args, **kwargs)

    monkeypatch.setattr(treecache, "scan", counted)
    assert patterns(tmp_path) == ["/a"] and walks == [1]
    write_tree(tmp_path, {"app/a/b/route.py": ROUTE})  # the new folder was cached: its route is seen
    assert patterns(tmp_path) == ["/a", "/a/b"] and walks == [1, 1]
