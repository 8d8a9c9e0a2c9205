"""The reloader in process: each change re-imports exactly what it must, and builds the table to one side."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.app import project_root
from framework.dev.plan import plan
from framework.dev.reloader import Outcome, Reloader
from tests.helpers import write_tree

ROUTE = "from starlette.responses import PlainTextResponse\n\ndef GET(request):\n    return PlainTextResponse({!r})\n"


def _forget_project(root: Path) -> None:
    prefix = str(root)
    for name in [
        n
        for n, m in sys.modules.items()
        if str(getattr(m, "__file__", "") or "").startswith(prefix) or n == "lib" or n.startswith("lib.")
    ]:
        sys.modules.pop(name, None)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "proj"
    write_tree(
        path,
        {
            "app/a/route.py": "from lib.db import query\n" + ROUTE.format("a"),
            "app/b/route.py": "from lib import urls\n" + ROUTE.format("b"),
            "app/c/route.py": ROUTE.format("c"),
            "lib/__init__.py": "",
            "lib/db.py": "from lib.pool import size\nquery = 'q'\n",
            "lib/pool.py": "size = 1\n",
            "lib/urls.py": "home = '/'\n",
            "scripts/seed.py": "print('seed')\n",
        },
    )
    _forget_project(path)  # another test's `lib` must not stand in for this one
    resolved = project_root(path)
    yield resolved
    _forget_project(resolved)
    sys.path.remove(str(resolved))


def change(reloader: Reloader, root: Path, files: dict[str, str] | None = None, *removed: str) -> Outcome:
    write_tree(root, files or {})
    for rel in removed:
        (root / rel).unlink()
    touched = [str(root / rel) for rel in [*(files or {}), *removed]]
    touched += [str((root / rel).parent) for rel in [*(files or {}), *removed]]
    return reloader.apply(plan(touched, root))


def test_start_imports_every_route(root: Path) -> None:
    outcome = Reloader(root).start()
    assert outcome.table is not None and outcome.routes == 3
    assert set(outcome.imported) == {"app/a/route.py", "app/b/route.py", "app/c/route.py"}


def test_edited_route_reimports_only_itself(root: Path) -> None:
    reloader = Reloader(root)
    before = reloader.start().table
    outcome = change(reloader, root, {"app/c/route.py": ROUTE.format("c2")})
    assert outcome.imported == ("app/c/route.py",)
    assert outcome.table is not None and outcome.table is not before
    old = {e.route.file: e for e in before.endpoints}  # type: ignore[union-attr]
    new = {e.route.file: e for e in outcome.table.endpoints}
    assert new["app/a/route.py"] is old["app/a/route.py"] and new["app/c/route.py"] is not old["app/c/route.py"]


@pytest.mark.parametrize(
    ("lib_file", "routes", "dropped", "kept"),
    [
        ("lib/pool.py", {"app/a/route.py"}, {"lib.pool", "lib.db"}, {"lib.urls", "lib"}),
        ("lib/db.py", {"app/a/route.py"}, {"lib.db"}, {"lib.pool", "lib.urls"}),
        ("lib/urls.py", {"app/b/route.py"}, {"lib.urls"}, {"lib.db", "lib.pool"}),
    ],
)
def test_lib_change_reaches_the_routes_that_use_it(
    root: Path, lib_file: str, routes: set[str], dropped: set[str], kept: set[str]
) -> None:
    reloader = Reloader(root)
    reloader.start()
    modules = {name: sys.modules[name] for name in dropped | kept}
    outcome = change(reloader, root, {lib_file: (root / lib_file).read_text() + "\nextra = 1\n"})
    assert set(outcome.imported) == routes
    assert all(sys.modules[n] is not modules[n] for n in dropped)  # imported afresh by the routes
    assert all(sys.modules[n] is modules[n] for n in kept)  # untouched: their state lives on


def test_from_package_import_sees_the_new_submodule(root: Path) -> None:
    reloader = Reloader(root)
    reloader.start()
    change(reloader, root, {"lib/urls.py": "home = '/new'\n"})
    import lib

    assert lib.urls.home == "/new"  # the parent package's attribute points at the new module


def test_new_and_deleted_routes(root: Path) -> None:
    reloader = Reloader(root)
    reloader.start()
    added = change(reloader, root, {"app/new/deep/route.py": ROUTE.format("new")})
    assert added.added == ("app/new/deep/route.py",) and added.imported == ("app/new/deep/route.py",)
    removed = change(reloader, root, None, "app/new/deep/route.py")
    assert removed.removed == ("app/new/deep/route.py",) and removed.imported == ()
    assert [e.route.pattern for e in removed.table.endpoints] == ["/a", "/b", "/c"]  # type: ignore[union-attr]


def test_failing_route_gets_an_error_endpoint_then_recovers(root: Path) -> None:
    reloader = Reloader(root)
    reloader.start()
    broken = change(reloader, root, {"app/c/route.py": "x = 1\ndef GET(request)\n"})
    assert [(f.file, f.line) for f in broken.failures] == [("app/c/route.py", 2)]
    assert broken.table is not None and len(broken.table.endpoints) == 3
    again = change(reloader, root, {"lib/urls.py": "home = '/x'\n"})  # unrelated: no new error line
    assert again.failures == ()
    still = change(reloader, root, {"app/c/route.py": "x = 1\ndef GET(request)\n"})  # saved again, same error
    assert [(f.file, f.line) for f in still.failures] == [("app/c/route.py", 2)]
    fixed = change(reloader, root, {"app/c/route.py": ROUTE.format("c3")})
    assert fixed.failures == () and reloader.entries["app/c/route.py"].failure is None


def test_invalid_tree_keeps_the_table_and_applies_pending_edits_after(root: Path) -> None:
    reloader = Reloader(root)
    reloader.start()
    invalid = change(reloader, root, {"app/(x)/c/route.py": ROUTE.format("dup"), "app/a/route.py": ROUTE.format("a2")})
    assert invalid.table is None and invalid.tree_error is not None
    assert "app/(x)/c/route.py" in str(invalid.tree_error) and "app/c/route.py" in str(invalid.tree_error)
    fixed = change(reloader, root, None, "app/(x)/c/route.py")
    assert fixed.table is not None and "app/a/route.py" in fixed.imported


@pytest.mark.parametrize(
    ("files", "rebuilt"),
    [
        ({"proxy.py": "def proxy(request):\n    return None\n"}, True),
        ({"middleware.py": "middleware = []\n"}, True),
        ({"scripts/seed.py": "print('seed 2')\n"}, False),  # no route uses it: nothing to swap
    ],
)
def test_root_proxy_and_middleware_rebuild_the_table(root: Path, files: dict[str, str], rebuilt: bool) -> None:
    reloader = Reloader(root)
    reloader.start()
    outcome = change(reloader, root, files)
    assert outcome.imported == ()
    assert (outcome.table is not None) is rebuilt


def test_unseen_finds_a_route_file_the_manifest_lacks(root: Path) -> None:
    reloader = Reloader(root)
    reloader.start()
    write_tree(root, {"app/late/x/route.py": ROUTE.format("late")})  # no apply: as if its event was lost
    assert reloader.unseen({"app/late"}) is True
    assert reloader.unseen({"app/a", "app/gone"}) is False
    reloader.apply(plan([str(root / "app/late")], root))
    assert reloader.unseen({"app/late"}) is False


def test_the_file_that_made_the_tree_invalid_is_not_unseen(root: Path) -> None:
    """The second look after a folder change must not apply the same invalid tree again (and print it twice)."""
    reloader = Reloader(root)
    reloader.start()
    invalid = change(reloader, root, {"app/(x)/c/route.py": ROUTE.format("dup")})
    assert invalid.tree_error is not None
    assert reloader.unseen({"app/(x)", "app/(x)/c"}) is False
