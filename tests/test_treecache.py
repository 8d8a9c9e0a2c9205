"""The route tree cache: reused while no folder changed, redone as soon as one did."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from framework import treecache
from framework.errors import RouteTreeError
from framework.scan import public_lookup
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
