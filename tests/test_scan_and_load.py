"""The scanner on real trees on disk, and the loader's import-time reports."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.errors import RouteTreeError
from framework.loader import Failure, load_route, misspelled_method
from framework.manifest import build_manifest
from framework.scan import scan
from framework.table import load_table as build_table
from tests.helpers import REPO, write_tree


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`tmp_path` on `sys.path` for one test; the modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


HANDLER = "from starlette.responses import PlainTextResponse\ndef GET(request):\n    return PlainTextResponse('x')\n"


def test_scan_skips_private_hidden_and_pycache(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/api/health/route.py": HANDLER,
            "app/api/_lib/route.py": HANDLER,
            "app/api/_lib/deeper/route.py": HANDLER,
            "app/api/%5Fliteral/route.py": HANDLER,
            "app/.hidden/route.py": HANDLER,
            "app/__pycache__/route.py": HANDLER,
            "app/api/helper.py": "x = 1\n",
            "app/api/health/notes.txt": "not a route\n",
        },
    )
    assert [rf.file for rf in scan(tmp_path)] == ["app/api/%5Fliteral/route.py", "app/api/health/route.py"]


def test_scan_without_app_folder_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path) == ()


def test_scan_survives_a_symlink_loop(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/a/route.py": HANDLER})
    os.symlink(tmp_path / "app", tmp_path / "app" / "a" / "loop")
    files = [rf.file for rf in scan(tmp_path)]
    assert files[0] == "app/a/route.py"
    assert len(files) <= 2  # the loop is entered at most once


def _load(tmp_path: Path, files: dict[str, str]):  # type: ignore[no-untyped-def]
    write_tree(tmp_path, files)
    (route,) = build_manifest(scan(tmp_path)).routes
    loaded = load_route(tmp_path, route)
    return loaded.problem if isinstance(loaded, Failure) else loaded


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    problem = _load(
        tmp_path, {"app/x/route.py": "from starlette.responses import Response\n\ndef GET(request)\n    pass\n"}
    )
    assert problem.code == "import-error"
    assert problem.files == ("app/x/route.py",) and problem.line == 3
    assert "SyntaxError" in problem.message and str(problem).startswith("app/x/route.py:3:")


def test_exception_at_module_level_names_file_and_line(tmp_path: Path) -> None:
    problem = _load(tmp_path, {"app/x/route.py": "import os\n\nvalue = undefined_name\n"})
    assert (problem.files, problem.line) == (("app/x/route.py",), 3)
    assert "NameError" in problem.message and "undefined_name" in problem.message


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("not_found", "framework.navigation"),
        ("redirect", "framework.navigation"),
        ("cookies", "framework.headers"),
        ("after", "framework.server"),
        ("safe_redirect", "framework.server"),
        ("route_url", "framework.urls"),
        ("Result", "framework.controllers"),
        ("Form", "framework.signatures"),
        ("no_such_helper", None),  # not ours anywhere: the usual fix
        ("Request", None),  # Starlette's, only imported by our modules: not sent there
    ],
)
def test_a_helper_imported_from_the_package_is_sent_to_its_module(
    tmp_path: Path, name: str, module: str | None
) -> None:
    problem = _load(tmp_path, {"app/x/route.py": f"from framework import {name}\n"})
    assert problem.code == "import-error" and (problem.files, problem.line) == (("app/x/route.py",), 1)
    assert f"cannot import name '{name}' from 'framework'" in problem.message
    if module is None:
        assert problem.fix == "Fix the error in that file; the route is served again once it imports."
    else:
        assert problem.fix == f"`{name}` is in `{module}`: write `from {module} import {name}`."
        assert getattr(importlib.import_module(module), name) is not None


def test_failure_in_an_imported_project_module_names_both_files(importable: Path) -> None:
    tmp_path = importable
    write_tree(
        tmp_path,
        {
            "helpers_broken.py": "def f():\n    pass\n\nraise RuntimeError('boom in helper')\n",
            "app/x/route.py": "import helpers_broken\n",
        },
    )
    failure = load_route(tmp_path, build_manifest(scan(tmp_path)).routes[0])
    assert isinstance(failure, Failure)
    problem = failure.problem
    assert problem.files == ("helpers_broken.py", "app/x/route.py") and problem.line == 4
    assert "imported by app/x/route.py" in problem.message and "boom in helper" in problem.message


def test_missing_package_names_the_route_line(tmp_path: Path) -> None:
    problem = _load(tmp_path, {"app/x/route.py": "\nimport not_a_real_package_xyz\n"})
    assert (problem.files, problem.line) == (("app/x/route.py",), 2)
    assert "ModuleNotFoundError" in problem.message
    assert "`not_a_real_package_xyz` is not installed in the Python running this command" in problem.fix


def test_a_missing_project_module_is_not_called_a_missing_package(tmp_path: Path) -> None:
    problem = _load(tmp_path, {"app/x/route.py": "import helpers.nothing_here\n", "helpers/__init__.py": ""})
    assert "ModuleNotFoundError" in problem.message and "not installed" not in problem.fix


def test_method_bound_to_a_non_callable_is_refused(tmp_path: Path) -> None:
    problem = _load(tmp_path, {"app/x/route.py": "GET = 'hello'\n"})
    assert problem.code == "handler-not-callable" and problem.line == 1
    assert "`GET` is a str" in problem.message


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("import sys\n\nsys.exit(0)\n", "SystemExit: 0"),
        ("raise SystemExit('bye')\n", "SystemExit: bye"),
    ],
)
def test_sys_exit_at_import_is_a_load_problem_not_an_exit(tmp_path: Path, source: str, text: str) -> None:
    problem = _load(tmp_path, {"app/x/route.py": source})
    assert problem.code == "import-error" and problem.files == ("app/x/route.py",)
    assert problem.line == source.count("\n") and text in problem.message


def test_keyboard_interrupt_at_import_is_not_swallowed(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _load(tmp_path, {"app/x/route.py": "raise KeyboardInterrupt\n"})


def test_import_errors_fail_the_whole_table_in_start_mode(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/ok/route.py": HANDLER, "app/bad/route.py": "1/0\n"})
    with pytest.raises(RouteTreeError) as info:
        build_table(tmp_path)
    assert "app/bad/route.py:1" in str(info.value) and "ZeroDivisionError" in str(info.value)


def test_misspelled_exports_warn_with_the_name_to_use(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        {
            "app/x/route.py": (
                "from starlette.responses import Response\n"
                "def GET(request):\n    return Response()\n"
                "def post(request):\n    return Response()\n"
                "def Put(request):\n    return Response()\n"
                "def DELTE(request):\n    return Response()\n"
                "def helper(request):\n    return Response()\n"
            )
        },
    )
    assert set(loaded.handlers) == {"GET"}
    text = "\n".join(loaded.warnings)
    assert "app/x/route.py:4: `post` is not a handler" in text and "Did you mean `POST`?" in text
    assert "app/x/route.py:6: `Put`" in text and "`PUT`" in text
    assert "app/x/route.py:8: `DELTE`" in text and "`DELETE`" in text
    assert "helper" not in text


def test_imported_lowercase_names_are_not_flagged() -> None:
    from os.path import join as get  # a name defined elsewhere is not a misspelled handler

    assert misspelled_method("get", get, "app/x/route") is None


def test_context_parameter_is_read_from_the_signature(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        {
            "app/[id]/route.py": (
                "def GET(request, context): ...\nasync def POST(request): ...\ndef PUT(request, *args): ...\n"
            )
        },
    )
    assert {m: h.takes_context for m, h in loaded.handlers.items()} == {"GET": True, "POST": False, "PUT": True}


def test_a_route_with_no_handler_warns(tmp_path: Path) -> None:
    loaded = _load(tmp_path, {"app/x/route.py": "x = 1\n"})
    assert loaded.handlers == {} and "exports no handler" in loaded.warnings[0]


def test_websocket_is_an_export_read_once_like_a_method(tmp_path: Path) -> None:
    loaded = _load(tmp_path, {"app/[room]/route.py": "async def WEBSOCKET(websocket, context): ...\n"})
    assert {m: h.takes_context for m, h in loaded.handlers.items()} == {"WEBSOCKET": True}
    assert loaded.warnings == ()  # a WEBSOCKET-only route is not "a route with no handler"


@pytest.mark.parametrize(
    ("source", "code", "text"),
    [
        ("\ndef WEBSOCKET(websocket): ...\n", "websocket-not-async", "Make it `async def WEBSOCKET(websocket): ...`"),
        ("\nWEBSOCKET = 'chat'\n", "handler-not-callable", "Define `async def WEBSOCKET(websocket): ...`"),
    ],
)
def test_a_websocket_handler_that_cannot_run_is_a_load_problem(
    tmp_path: Path, source: str, code: str, text: str
) -> None:
    problem = _load(tmp_path, {"app/x/route.py": source})
    assert (problem.code, problem.files, problem.line) == (code, ("app/x/route.py",), 2)
    assert text in str(problem)


def test_a_lowercase_websocket_export_gets_did_you_mean(tmp_path: Path) -> None:
    loaded = _load(tmp_path, {"app/x/route.py": "def GET(request): ...\n\nasync def websocket(ws): ...\n"})
    assert set(loaded.handlers) == {"GET"}
    assert loaded.warnings == (
        "app/x/route.py:3: `websocket` is not a handler: only uppercase method names count. Did you mean `WEBSOCKET`?",
    )


def test_core_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "import framework.segments, framework.scan, framework.manifest, framework.matcher, framework.paths, "
        "framework.loader, framework.errors, framework.urls, framework.controllers\n"
        "third = sorted(m for m in sys.modules if m.split('.')[0] in {'starlette', 'uvicorn', 'watchfiles', 'anyio'})\n"
        "print(third)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_one_broken_module_is_one_problem_naming_every_route_it_stops(importable: Path) -> None:
    tmp_path = importable
    write_tree(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/db.py": "x = 1\n\nraise RuntimeError('no database')\n",
            **{f"app/r{i}/route.py": "import lib.db\n" + HANDLER for i in range(3)},
        },
    )
    with pytest.raises(RouteTreeError) as info:
        build_table(tmp_path)
    [problem] = info.value.problems
    assert problem.files == ("lib/db.py", "app/r0/route.py", "app/r1/route.py", "app/r2/route.py")
    assert problem.line == 3 and problem.message.startswith("3 routes cannot be imported")
