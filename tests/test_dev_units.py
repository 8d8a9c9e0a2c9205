"""The dev server's pure parts: what a change means, what a file imports, what is watched, the error page."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse
from watchfiles import Change

from framework.dev.deps import DepGraph, imported_names, package_of
from framework.dev.errorpage import ErrorReport, render_html, render_text, wants_html
from framework.dev.plan import Plan, plan
from framework.dev.reloader import Outcome, tree_error_table
from framework.dev.terminal import Console
from framework.dev.watch import DevFilter, changed_since, mtimes, saved_since
from framework.errors import Problem, RouteTreeError
from framework.locations import dotted_name, project_relative
from framework.paths import split_path
from framework.settings import Settings
from tests.helpers import write_tree

ROOT = Path("/srv/proj")
FRAMEWORK = Path("/opt/src/framework")


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (
            ["/srv/proj/app/api/x/route.py"],
            Plan(rescan=True, python=frozenset({"app/api/x/route.py"}), tree=frozenset({"app/api/x/route.py"})),
        ),
        (["/srv/proj/app/api/new"], Plan(rescan=True, folders=True, tree=frozenset({"app/api/new"}))),
        (["/srv/proj/app/api/notes.md"], Plan(rescan=True, folders=True, tree=frozenset({"app/api/notes.md"}))),
        (["/srv/proj/lib/db.py"], Plan(python=frozenset({"lib/db.py"}))),
        (["/srv/proj/settings.py"], Plan(python=frozenset({"settings.py"}))),
        (["/srv/proj/proxy.py"], Plan(python=frozenset({"proxy.py"}), rebuild=True)),
        (
            ["/srv/proj/middleware.py", "/srv/proj/app/a"],
            Plan(
                rescan=True, python=frozenset({"middleware.py"}), rebuild=True, folders=True, tree=frozenset({"app/a"})
            ),
        ),
        (["/srv/proj/lib/proxy.py"], Plan(python=frozenset({"lib/proxy.py"}))),
        (["/srv/proj/instrumentation.py"], Plan(python=frozenset({"instrumentation.py"}), rebuild=True)),
        (
            ["/srv/proj/app/not_found.py"],
            Plan(rescan=True, python=frozenset({"app/not_found.py"}), tree=frozenset({"app/not_found.py"})),
        ),
        (["/srv/proj/public/robots.txt", "/srv/proj/public/x.py"], Plan(public=True)),  # public/ holds no modules
        (["/srv/proj/pyproject.toml", "/srv/proj/lib/db.py"], Plan(restart="pyproject.toml")),
        (["/opt/src/framework/routing.py"], Plan(restart="framework/routing.py")),
        (["/srv/proj/README.md"], Plan()),
        (["/elsewhere/x.py"], Plan()),
    ],
)
def test_plan(paths: list[str], expected: Plan) -> None:
    assert plan(paths, ROOT, FRAMEWORK) == expected


@pytest.mark.parametrize(
    ("source", "package", "names"),
    [
        ("import lib.db", None, {"lib", "lib.db"}),
        ("from lib.controllers import Result", None, {"lib", "lib.controllers", "lib.controllers.Result"}),
        ("from lib import urls, db as d", None, {"lib", "lib.urls", "lib.db"}),
        ("from .helpers import x", "lib", {"lib", "lib.helpers", "lib.helpers.x"}),
        ("from .. import top", "lib.sub", {"lib", "lib.top"}),
        ("from .x import y", None, set()),  # a route module has no package: nothing to resolve
        ("def GET(r):\n    import lib.lazy\n", None, {"lib", "lib.lazy"}),
        ("def GET(r)\n    import lib.x", None, set()),  # a syntax error: no names, the import error reports it
    ],
)
def test_imported_names(source: str, package: str | None, names: set[str]) -> None:
    assert imported_names(source, package) == names


@pytest.mark.parametrize(
    ("file", "module"),
    [
        ("lib/db.py", ("lib.db", "lib")),
        ("lib/__init__.py", ("lib", "lib")),
        ("settings.py", ("settings", None)),
    ],
)
def test_module_names(file: str, module: tuple[str, str | None]) -> None:
    assert (dotted_name(file), package_of(file)) == module


@pytest.mark.parametrize(
    ("filename", "relative"),
    [
        ("/srv/proj/lib/db.py", "lib/db.py"),
        ("/srv/proj/app/api/[id]/route.py", "app/api/[id]/route.py"),
        ("/srv/proj/.venv/lib/python3.11/site-packages/x.py", None),
        ("/srv/proj/env/lib/site-packages/x.py", None),
        ("/srv/project2/lib/db.py", None),  # a sibling folder sharing the prefix
        ("/usr/lib/python3.11/os.py", None),
        ("<string>", None),
        (None, None),
    ],
)
def test_project_relative(filename: object, relative: str | None) -> None:
    from pathlib import Path

    assert project_relative(Path("/srv/proj"), filename) == relative


def test_dep_graph_finds_routes_reaching_a_changed_module(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/a/route.py": "from lib.db import q\n",
            "app/b/route.py": "from lib import urls\n",
            "app/c/route.py": "import json\n",
            "app/d/route.py": "def GET(r):\n    from lib.missing import x\n",
            "lib/__init__.py": "",
            "lib/db.py": "from .pool import make\n",
            "lib/pool.py": "from lib.db import q  # a cycle\n",
            "lib/urls.py": "",
        },
    )
    graph = DepGraph(tmp_path)
    routes = [f"app/{x}/route.py" for x in "abcd"]
    assert graph.reaching(routes, {"lib/pool.py"}) == {"app/a/route.py"}
    assert graph.reaching(routes, {"lib/urls.py"}) == {"app/b/route.py"}
    assert graph.reaching(routes, {"lib/__init__.py"}) == {"app/a/route.py", "app/b/route.py", "app/d/route.py"}
    assert graph.reaching(routes, {"app/c/route.py"}) == {"app/c/route.py"}
    write_tree(tmp_path, {"lib/missing.py": ""})  # a module a route waited for appears
    assert graph.reaching(routes, {"lib/missing.py"}) == {"app/d/route.py"}
    (tmp_path / "lib/urls.py").unlink()  # a deleted module still reaches the routes that import it
    assert graph.reaching(routes, {"lib/urls.py"}) == {"app/b/route.py"}
    write_tree(tmp_path, {"lib/urls.py": "", "app/c/route.py": "import lib.urls\n"})
    graph.forget({"app/c/route.py"})
    assert graph.reaching(routes, {"lib/urls.py"}) == {"app/b/route.py", "app/c/route.py"}


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("app", True),
        ("app/api/new", True),
        ("app/api/x/route.py", True),
        ("env/settings.py", True),  # a package named env that is not a virtual environment
        ("app/api/x/notes.md", True),  # anything under app/: the rescan decides
        ("lib/db.py", True),
        ("settings.py", True),
        ("pyproject.toml", True),
        ("public/robots.txt", True),  # may collide with a route
        ("public/img", True),
        ("lib/notes.md", False),
        ("data/x.json", False),
        ("app/x/__pycache__/route.cpython-311.pyc", False),
        ("app/x/.route.py.swp", False),
        ("app/x/route.py~", False),
        (".venv/lib/python3.11/site-packages/x.py", False),
        ("venv/lib/x.py", False),
        ("myenv/lib/x.py", False),  # holds pyvenv.cfg
        (".git/HEAD", False),
        ("node_modules/x/index.py", False),
    ],
)
def test_filter(tmp_path: Path, path: str, kept: bool) -> None:
    write_tree(tmp_path, {"myenv/pyvenv.cfg": "home = /usr\n"})
    assert DevFilter(tmp_path)(Change.modified, str(tmp_path / path)) is kept


def test_filter_applies_its_rules_below_the_root_only(tmp_path: Path) -> None:
    root = tmp_path / "env" / "proj"  # an ignored name above the root does not hide the project
    root.mkdir(parents=True)
    assert DevFilter(root)(Change.added, str(root / "app/x/route.py"))


def test_filter_watches_the_framework_source(tmp_path: Path) -> None:
    fw = tmp_path / "src/framework"
    f = DevFilter(tmp_path / "proj", fw)
    assert f(Change.modified, str(fw / "routing.py"))
    assert not f(Change.modified, str(fw / "__pycache__/routing.cpython-311.pyc"))
    assert f.paths() == [str(tmp_path / "proj"), str(fw)]


def test_saved_since_finds_what_changed_after_the_moment_and_nothing_the_filter_drops(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "proj",
        {
            "app/a/route.py": "",
            "app/b/route.py": "",
            "app/gone/route.py": "",
            "lib/db.py": "",
            "pyproject.toml": "",
        },
    )
    old = time.time() - 60
    for path in [root, *root.rglob("*")]:
        os.utime(path, (old, old))
    write_tree(root, {"app/a/route.py": "# edited", "lib/new.py": "", "app/b/notes.md": "", "lib/data.json": ""})
    write_tree(root, {".venv/x.py": "", "app/a/__pycache__/route.cpython-311.pyc": "", "node_modules/x.py": ""})
    (root / "app/gone/route.py").unlink()
    found = saved_since(old + 30, DevFilter(root))
    # Folders count (a deleted route shows as its folder); lib/ moved too but is not Python; lib/db.py is old.
    assert set(found) == {
        str(root / p) for p in ("app/a/route.py", "app/a", "app/b", "app/b/notes.md", "app/gone", "lib/new.py")
    }
    assert all(mtime == os.stat(path).st_mtime_ns for path, mtime in found.items())  # what changed_since compares
    assert saved_since(time.time() + 60, DevFilter(root)) == {}


REPORT = ErrorReport(
    title="ValueError: <img src=x onerror=alert(1)>",
    file="app/x/route.py",
    line=2,
    fix="Fix & retry",
    source=((1, "def GET(r):"), (2, "    raise ValueError('<b>')"), (3, "")),
    traceback="Traceback (most recent call last):\n  ...\nValueError: <img src=x onerror=alert(1)>",
)


def test_html_page_escapes_everything_from_user_code() -> None:
    page = render_html(REPORT)
    assert "<img" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "raise ValueError(&#x27;&lt;b&gt;&#x27;)" in page
    assert "Fix &amp; retry" in page and "app/x/route.py:2" in page


def test_text_page_marks_the_line() -> None:
    text = render_text(REPORT)
    assert text.splitlines()[:2] == ["Error: ValueError: <img src=x onerror=alert(1)>", "  at app/x/route.py:2"]
    assert "> 2 |     raise ValueError('<b>')" in text.splitlines()
    assert "  1 | def GET(r):" in text.splitlines()
    assert "Traceback (most recent call last):" in text


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("TEXT/HTML", True),
        ("*/*", False),
        ("application/json", False),
        (None, False),
    ],
)
def test_wants_html(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html


def test_tree_error_table_answers_every_url() -> None:
    error = RouteTreeError([Problem("duplicate-route", "two files define `/x`.", "Keep one.", ("app/(a)/x/route.py",))])
    table = tree_error_table(error, Settings())
    for raw in (b"/", b"/x", b"/a/b/c"):
        assert table.matcher.match(split_path(raw)) is not None  # type: ignore[arg-type]


def get(app: object, path: str, **headers: str) -> httpx.Response:
    """One request through the ASGI app in process (the 500 handler answers; the re-raised error is dropped)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(go())


@pytest.fixture
def boom_project(tmp_path: Path) -> Iterator[Path]:
    yield write_tree(tmp_path / "boomproj", {"app/boom/route.py": "def GET(request):\n    raise KeyError('<k>')\n"})
    for name in [n for n in sys.modules if n.startswith("app/")]:
        sys.modules.pop(name)


def test_create_app_dev_shows_the_error_page(boom_project: Path) -> None:
    from framework import create_app

    reply = get(create_app(boom_project, dev=True), "/boom", accept="text/html")
    assert reply.status_code == 500
    assert "KeyError" in reply.text and "app/boom/route.py:2" in reply.text and "&lt;k&gt;" in reply.text


def test_create_app_without_dev_shows_no_traceback(boom_project: Path) -> None:
    from framework import create_app

    reply = get(create_app(boom_project), "/boom", accept="text/html")
    assert reply.status_code == 500 and reply.text == "Internal Server Error"


def test_create_app_dev_keeps_the_projects_own_500_handler(boom_project: Path) -> None:
    from framework import create_app

    def mine(request: object, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("mine", status_code=500)

    app = create_app(boom_project, dev=True, exception_handlers={500: mine})
    assert get(app, "/boom").text == "mine"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "no_color", "coloured"),
    [
        (Tty, "", True),
        (Tty, "1", False),
        (io.StringIO, "", False),
    ],
)
def test_colour_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, stream: type[io.StringIO], no_color: str, coloured: bool
) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    out = stream()
    console = Console(out)
    console.report(
        Outcome(
            table=tree_error_table(RouteTreeError([Problem("x", "m.", "f.", ("app/x/route.py",))]), Settings()),
            files=("app/x/route.py",),
            ms=3.2,
        )
    )
    assert out.getvalue().endswith(
        "reloaded\x1b[0m app/x/route.py in 3 ms\n" if coloured else "reloaded app/x/route.py in 3 ms\n"
    )
    assert ("\x1b[" in out.getvalue()) is coloured


def test_a_reload_whose_import_failed_does_not_say_reloaded() -> None:
    out = io.StringIO()
    table = tree_error_table(RouteTreeError([Problem("x", "m.", "f.", ("app/x/route.py",))]), Settings())
    failure = ErrorReport("Cannot import the route: SyntaxError: expected ':'", "app/x/route.py", 1)
    Console(out).report(Outcome(table=table, files=("app/x/route.py",), failures=(failure,)))
    assert out.getvalue() == (
        "error app/x/route.py:1 Cannot import the route: SyntaxError: expected ':' (this route answers 500 until fixed)\n"
    )


def test_changed_since_drops_only_what_the_catch_up_reload_already_read(tmp_path: Path) -> None:
    """`framework dev` reloads what was saved while its watches went in, then gets the events of those same
    saves: an event whose file still has the mtime taken before that reload is dropped, nothing else."""
    same, edited, deleted, other = (tmp_path / name for name in ("same.py", "edited.py", "deleted.py", "other.py"))
    for path in (same, edited, deleted, other):
        path.write_text("x = 1\n")
    applied = mtimes([str(same), str(edited), str(deleted), str(tmp_path / "never.py")])
    assert set(applied) == {str(same), str(edited), str(deleted)}  # a path that is not there has no mtime
    os.utime(edited, ns=(applied[str(edited)] + 1_000_000, applied[str(edited)] + 1_000_000))  # saved again
    deleted.unlink()
    events = {str(same), str(edited), str(deleted), str(other)}
    assert changed_since(events, applied) == {str(edited), str(deleted), str(other)}
    assert changed_since(events, {}) == events
