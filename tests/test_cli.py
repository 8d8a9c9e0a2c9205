"""The command line: refused trees, the route table, usage errors, and create_app in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import run_cli, run_framework, write_tree

OK = "from starlette.responses import PlainTextResponse\ndef GET(request):\n    return PlainTextResponse('ok')\n"


BROKEN = ("def GET(request):\n    return (\n", "import json\nraise RuntimeError('at import')\n")


INVALID_TREES = [
    ({"app/(a)/dup/route.py": OK, "app/(b)/dup/route.py": OK}, ["app/(a)/dup/route.py", "app/(b)/dup/route.py"]),
    (
        {"app/users/[id]/route.py": OK, "app/users/[slug]/posts/route.py": OK},
        ["app/users/[id]/route.py", "app/users/[slug]/posts/route.py"],
    ),
    ({"app/[id]/x/[id]/route.py": OK}, ["app/[id]/x/[id]/route.py"]),
    ({"app/x/[...a]/b/route.py": OK}, ["app/x/[...a]/b/route.py"]),
    (
        {"app/cc/[...a]/route.py": OK, "app/cc/[[...b]]/route.py": OK},
        ["app/cc/[...a]/route.py", "app/cc/[[...b]]/route.py"],
    ),
    (
        {"app/docs/route.py": OK, "app/docs/[[...slug]]/route.py": OK},
        ["app/docs/route.py", "app/docs/[[...slug]]/route.py"],
    ),
    ({"app/opt/[[id]]/route.py": OK}, ["app/opt/[[id]]/route.py"]),
    ({"app/ext/[name].json/route.py": OK}, ["app/ext/[name].json/route.py"]),
]
# `framework start` refuses a route that fails to import too; `framework routes` lists it (tested below).
REFUSED = [(tree, named, command) for tree, named in INVALID_TREES for command in ("routes", "start")] + [
    ({"app/broken/route.py": source}, ["app/broken/route.py:2"], "start") for source in BROKEN
]


@pytest.mark.parametrize(("tree", "named", "command"), REFUSED)
def test_refused_trees_exit_nonzero_naming_files(
    tmp_path: Path, tree: dict[str, str], named: list[str], command: str
) -> None:
    write_tree(tmp_path, tree)
    result = (
        run_cli(command, "--root", str(tmp_path), "--port", "1")
        if command == "start"
        else run_cli(command, "--root", str(tmp_path))
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"framework {command}: error: the route tree has")
    for name in named:
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_routes_lists_most_specific_first_with_methods_and_files(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/api/users/[id]/route.py": OK + "def POST(request):\n    return PlainTextResponse('p')\n",
            "app/api/users/me/route.py": OK,
            "app/(g)/api/docs/[[...slug]]/route.py": OK,
            "app/api/hook/route.py": "from starlette.responses import Response\ndef POST(request):\n    return Response()\n",
            "app/live/route.py": "async def WEBSOCKET(websocket): ...\n",
        },
    )
    result = run_cli("routes", "--root", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "path": "/api/docs/[[...slug]]",
            "methods": ["GET", "HEAD", "OPTIONS"],
            "file": "app/(g)/api/docs/[[...slug]]/route.py",
            "error": None,
        },
        {"path": "/api/hook", "methods": ["OPTIONS", "POST"], "file": "app/api/hook/route.py", "error": None},
        {
            "path": "/api/users/me",
            "methods": ["GET", "HEAD", "OPTIONS"],
            "file": "app/api/users/me/route.py",
            "error": None,
        },
        {
            "path": "/api/users/[id]",
            "methods": ["GET", "HEAD", "OPTIONS", "POST"],
            "file": "app/api/users/[id]/route.py",
            "error": None,
        },
        {"path": "/live", "methods": ["OPTIONS", "WEBSOCKET"], "file": "app/live/route.py", "error": None},
    ]
    text = run_cli("routes", "--root", str(tmp_path)).stdout.splitlines()
    assert text[3].split() == ["/api/users/[id]", "GET,", "HEAD,", "OPTIONS,", "POST", "app/api/users/[id]/route.py"]
    assert text[4].split() == ["/live", "OPTIONS,", "WEBSOCKET", "app/live/route.py"]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (BROKEN[0], "SyntaxError: '(' was never closed"),
        (BROKEN[1], "RuntimeError: at import"),
        ("import no_such_module_here\n", "ModuleNotFoundError: No module named 'no_such_module_here'"),
    ],
)
def test_routes_lists_a_broken_route_and_exits_1(tmp_path: Path, source: str, error: str) -> None:
    write_tree(tmp_path, {"app/a/route.py": OK, "app/broken/route.py": source, "app/z/[id]/route.py": OK})
    line = 2 if source in BROKEN else 1
    result = run_cli("routes", "--root", str(tmp_path))
    assert result.returncode == 1
    rows = result.stdout.splitlines()
    assert [r.split() for r in rows[:2]] + [r.split() for r in rows[3:]] == [
        ["/a", "GET,", "HEAD,", "OPTIONS", "app/a/route.py"],
        ["/broken", "broken", "app/broken/route.py"],
        ["/z/[id]", "GET,", "HEAD,", "OPTIONS", "app/z/[id]/route.py"],
    ]
    assert rows[2].startswith(f"  error: app/broken/route.py:{line}: cannot import the route: {error}")
    assert result.stderr == (
        "framework routes: error: 1 file cannot be imported (app/broken/route.py): the file, line and fix are "
        "above; every other route is listed as it would be served.\n"
    )

    listed = run_cli("routes", "--root", str(tmp_path), "--json")
    assert listed.returncode == 1
    data = json.loads(listed.stdout)
    assert [(r["path"], r["methods"], r["error"] is None) for r in data] == [
        ("/a", ["GET", "HEAD", "OPTIONS"], True),
        ("/broken", [], False),
        ("/z/[id]", ["GET", "HEAD", "OPTIONS"], True),
    ]
    broken = data[1]["error"]
    assert (broken["file"], broken["line"]) == ("app/broken/route.py", line)
    assert error in broken["message"] and broken["fix"]


def test_routes_names_a_broken_proxy_beside_the_table(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/a/route.py": OK, "proxy.py": "def proxy(request:\n"})
    result = run_cli("routes", "--root", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith("broken: proxy.py:1: ")
    listed = run_cli("routes", "--root", str(tmp_path), "--json")
    assert [r["path"] for r in json.loads(listed.stdout)] == ["/a"]  # stdout stays JSON
    assert listed.stderr.startswith("broken: proxy.py:1: ")


def test_a_new_route_file_shows_up_after_a_restart(tmp_path: Path) -> None:
    """The README's promise: drop a route.py into a new folder, restart, see it in `routes` and over HTTP."""
    write_tree(tmp_path, {"app/api/health/route.py": OK})
    with run_framework(tmp_path) as server:
        assert server.get("/api/greet/ada").status == 404
    write_tree(
        tmp_path,
        {
            "app/api/greet/[name]/route.py": (
                "from starlette.responses import PlainTextResponse\n"
                "def GET(request, context):\n    return PlainTextResponse('hello ' + context.params['name'])\n"
            )
        },
    )
    assert "/api/greet/[name]" in run_cli("routes", "--root", str(tmp_path)).stdout
    with run_framework(tmp_path) as server:
        assert server.get("/api/greet/ada").text == "hello ada"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["routes", "--root", "/nonexistent/dir"], "no such directory"),
        (["start", "--root", "/tmp"], "no `app/` folder"),
        (["start", "--port", "notaport"], "'notaport' is not a valid integer"),
        (["start", "--workers", "0"], "0 is not in the range x>=1"),
        (["frobnicate"], "No such command 'frobnicate'"),
        ([], "Usage: framework [OPTIONS] COMMAND"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["start", "routes"])
def test_help_has_examples(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0 and "examples:" in result.stdout and f"framework {command}" in result.stdout


def every_command() -> list[tuple[str, ...]]:
    """The name path of every command and group: (), ("start",), ..., ("new", "route")."""
    import click

    from framework.cli import cli

    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, names: tuple[str, ...]) -> None:
        found.append(names)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*names, name))

    walk(cli, ())
    return found


@pytest.mark.parametrize("names", every_command(), ids=lambda names: " ".join(names) or "framework")
def test_help_points_only_to_placeholders_and_real_commands_and_documents(names: tuple[str, ...]) -> None:
    """An installed package has no example project and no docs/ folder: an example's --root is an obvious
    placeholder, a document is named as the framework repository's, and every command it shows exists."""
    from tests.helpers import REPO

    result = run_cli(*names, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for root in re.findall(r"--root (\S+)", text.partition("examples:")[2]):
        assert root.startswith("path/to/"), f"{root}: use a placeholder like path/to/project"
    for document in re.findall(r"\b[\w/.-]+\.md\b", text):
        assert (REPO / document).is_file(), document
        assert re.search(re.escape(document) + r"\s+in\s+the\s+framework's\s+repository", text), document
    shown = {tuple(m.split()) for m in re.findall(r"^\s*framework((?: [a-z]+)*)", text, re.MULTILINE)}
    for command in shown:
        assert not command or any(command[: len(c)] == c for c in every_command() if c), command


def test_version() -> None:
    from framework import __version__

    result = run_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"framework, version {__version__}\n")


def test_workers_each_build_the_app(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/api/pid/route.py": (
                "import os\nfrom starlette.responses import PlainTextResponse\n"
                "def GET(request):\n    return PlainTextResponse(str(os.getpid()))\n"
            )
        },
    )
    with run_framework(tmp_path, "start", "--workers", "2") as server:
        assert server.get("/api/pid").status == 200
        assert server.get("/api/pid").text.isdigit()
        assert "Started parent process" in server.log()


def test_create_app_works_with_starlette_testclient_and_starlette_routes(tmp_path: Path) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.testclient import TestClient

    from framework import create_app

    write_tree(
        tmp_path,
        {
            "app/api/items/[id]/route.py": (
                "from starlette.responses import JSONResponse\n"
                "def GET(request, context):\n    return JSONResponse(context.params)\n"
            )
        },
    )
    app = create_app(tmp_path)
    app.add_route("/legacy", lambda request: PlainTextResponse("legacy"))
    with TestClient(app) as client:
        assert client.get("/api/items/a%2Fb").json() == {"id": "a/b"}
        assert client.get("/legacy").text == "legacy"
        assert client.get("/missing").status_code == 404
        assert client.options("/api/items/1").headers["allow"] == "GET, HEAD, OPTIONS"


def test_only_server_processes_freeze_the_garbage_collector(tmp_path: Path) -> None:
    """`serving_app` (framework start) freezes what startup built; `create_app` (tests, embedding) does not."""
    import subprocess
    import sys

    from tests.helpers import subprocess_env

    write_tree(tmp_path, {"app/api/x/route.py": OK})
    code = (
        "import gc, sys\n"
        "from framework.app import create_app, serving_app\n"
        "create_app(sys.argv[1]); print(gc.get_freeze_count())\n"
        "serving_app(sys.argv[1]); print(gc.get_freeze_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=subprocess_env(), check=True
    ).stdout.split()
    assert out[0] == "0" and int(out[1]) > 0


@pytest.mark.parametrize("command", ["routes", "check"])
def test_a_route_calling_sys_exit_at_import_is_reported_not_obeyed(tmp_path: Path, command: str) -> None:
    root = write_tree(tmp_path / "p", {"app/x/route.py": "import sys\n\nsys.exit(0)\n"})
    result = run_cli(command, "--root", str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/x/route.py:3" in result.stdout + result.stderr and "SystemExit" in result.stdout + result.stderr
