"""`framework new route`: what it writes passes `framework check`, its generated tests pass, it never overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from framework.check import RULES, check_project
from framework.check.naming import builder_name, python_name
from framework.check.scaffold import parse_url_path
from framework.cli import main
from tests.helpers import plugin_args, run_cli, run_framework, subprocess_env, write_tree


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def new_route(root: Path, *args: str) -> int:
    """`framework new route ARGS --root ROOT` in this process (the CLI tests above run it as a command)."""
    return main(["new", "route", *args, "--root", str(root)])


def run_pytest(root: Path) -> subprocess.CompletedProcess[str]:
    """The project's own test run, as a user starts it, with the conventions plugin loaded."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", *plugin_args(), "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


@pytest.mark.parametrize(
    "path, builder",
    [
        ("api/refresh-token", "get_refresh_token_url"),
        ("api/users/[id]", "get_users_by_id_url"),
        ("api/files/[...path]", "get_files_by_path_url"),
        ("(shop)/cart/[item-id]", "get_cart_by_item_id_url"),
        ("api", "get_api_url"),
        ("", "get_home_url"),
        ("api/2fa/[class]", "get_2fa_by_class_url"),
    ],
)
def test_builder_names(path: str, builder: str) -> None:
    assert builder_name(parse_url_path(path)[1]) == builder


@pytest.mark.parametrize("name, ident", [("id", "id"), ("user-id", "user_id"), ("class", "class_"), ("2fa", "_2fa")])
def test_python_names(name: str, ident: str) -> None:
    assert python_name(name) == ident


def test_new_route_passes_check_and_its_tests_pass(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    result = run_cli("new", "route", "api/users/[id]", "--methods", "GET,POST", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()[:6]] == [
        ["created", "lib/__init__.py"],
        ["created", "lib/controllers/__init__.py"],
        ["created", "lib/controllers/users_controller.py"],
        ["created", "lib/urls/__init__.py"],
        ["created", "app/api/users/[id]/route.py"],
        ["created", "tests/test_users_by_id_route.py"],
    ]
    route = (tmp_path / "app/api/users/[id]/route.py").read_text(encoding="utf-8")
    assert "from lib.controllers.users_controller import get_users_by_id, post_users_by_id" in route
    assert 'return route_url("/api/users/[id]", {"id": id})' in (tmp_path / "lib/urls/__init__.py").read_text()
    checked = run_cli("check", "--root", str(tmp_path))
    assert (checked.returncode, checked.stdout.strip()) == (0, "no problems in 5 files (1 route).")
    tested = run_pytest(tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "5 passed" in tested.stdout  # the generated tests; the project has not opted into the check items
    (tmp_path / "pyproject.toml").write_text("[tool.framework.check]\n", encoding="utf-8")
    tested = run_pytest(tmp_path)
    assert f"{5 + len(RULES)} passed" in tested.stdout  # 5 generated tests + one item per convention rule


def test_every_kind_of_segment_in_one_project(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    for path, methods in [
        ("api/files/[...path]", "GET"),
        ("api/docs/[[...slug]]", "get,head"),
        ("(shop)/cart/[item-id]", "DELETE"),
        ("", "GET"),
        ("api/users", "PUT"),
        ("api/users/[id]", "PATCH"),
        ("api/2fa/[class]", "POST"),
    ]:
        assert new_route(tmp_path, path, "--methods", methods) == 0
    assert check_project(tmp_path).findings == ()
    tested = run_pytest(tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_scaffolded_route_answers_on_a_real_server(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    assert run_cli("new", "route", "api/files/[...path]", "--root", str(tmp_path)).returncode == 0
    with run_framework(tmp_path) as server:
        reply = server.get("/api/files/a/b%20c")
    assert (reply.status, reply.text) == (200, "GET files path=a/b c")


def test_appends_to_existing_modules_keeping_their_content(tmp_path: Path) -> None:
    urls = '"""Our builders."""\n\n\ndef get_elsewhere() -> str:\n    return "https://example.com"\n'
    write_tree(tmp_path, {"app/api/ping/route.py": "def GET(request): ...\n", "lib/urls/__init__.py": urls})
    assert new_route(tmp_path, "api/pong") == 0
    text = (tmp_path / "lib/urls/__init__.py").read_text(encoding="utf-8")
    assert text.startswith('"""Our builders."""\n\nfrom framework.urls import route_url\n\n\ndef get_elsewhere()')
    assert text.endswith('    return route_url("/api/pong")\n')


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("api/users/[id]",), 1, "app/api/users/[id]/route.py exists already; nothing was written."),
        (
            ("api/users/[slug]/posts",),
            1,
            "would not fit the route tree: app/api/users/[id]/route.py: different parameter names",
        ),
        (
            ("api/other/[id]", "--methods", "GTE"),
            2,
            "--methods: 'GTE' is not an HTTP method; use GET, HEAD, POST, PUT, "
            "PATCH, DELETE, OPTIONS, QUERY. Did you mean GET?",
        ),
        (("api/_private/x",), 2, "`_private` is a private folder, never routed"),
        (("api/[oops",), 2, "'api/[oops': folder name '[oops' has brackets that do not span the whole name"),
        (("api/[...a]/b",), 2, "the catch-all `[...a]` in `/api/[...a]/b` is not the last segment"),
        (("api/[id]/x/[id]",), 2, "the parameter `id` appears more than once"),
    ],
)
def test_refuses_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, message: str
) -> None:
    (tmp_path / "app").mkdir()
    assert new_route(tmp_path, "api/users/[id]") == 0
    before = tree(tmp_path)
    capsys.readouterr()
    assert new_route(tmp_path, *args) == code
    out = capsys.readouterr()
    assert message in out.out + out.err
    assert tree(tmp_path) == before


def test_refuses_a_taken_function_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/.keep": "", "lib/controllers/users_controller.py": "def get_users():\n    return 1\n"})
    before = tree(tmp_path)
    result = run_cli("new", "route", "api/users", "--root", str(tmp_path))
    assert result.returncode == 1
    assert "lib/controllers/users_controller.py already defines get_users; nothing was written." in result.stdout
    assert tree(tmp_path) == before


def test_help_has_examples() -> None:
    result = run_cli("new", "route", "--help")
    assert result.returncode == 0 and "framework new route api/users/[id] --methods GET,POST" in result.stdout


def test_a_single_lib_urls_module_is_used_and_checked(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/.keep": "", "lib/urls.py": '"""Builders."""\n'})
    assert new_route(tmp_path, "api/ping") == 0
    assert not (tmp_path / "lib/urls").exists()
    assert 'return route_url("/api/ping")' in (tmp_path / "lib/urls.py").read_text(encoding="utf-8")
    assert check_project(tmp_path).findings == ()


@pytest.mark.parametrize(
    "path, says",
    [
        ("../../x", "'../../x': `.` and `..` segments are not allowed, the route must stay inside app/"),
        ("..", "'..': `.` and `..` segments are not allowed"),
        ("api/../../x", "'api/../../x': `.` and `..` segments are not allowed"),
        ("api/users/..", "`.` and `..` segments are not allowed"),
        ("./api/x", "'./api/x': `.` and `..` segments are not allowed"),
        (
            "/etc/cron.d/x",
            "'/etc/cron.d/x' is an absolute path; write the folders under app/ separated by /, "
            "like api/users/[id] (no leading /).",
        ),
        ("/api/users", "'/api/users' is an absolute path"),
        ("..\\..\\x", "'..\\\\..\\\\x': backslashes are not allowed; write the folders under app/ separated by /"),
        ("api\\users", "backslashes are not allowed"),
        ("api/x\x1b]0;t\x07", "'api/x\\\\x1b]0;t\\\\x07' contains control characters"),
        ("api/x\ny", "contains control characters"),
    ],
)
def test_paths_that_could_leave_app_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, says: str
) -> None:
    project = tmp_path / "deep" / "proj"
    (project / "app").mkdir(parents=True)
    before = tree(tmp_path)
    assert new_route(project, path) == 2
    err = capsys.readouterr().err
    assert err.startswith("framework new route: error: ") and says in err, err
    assert "write the folders under app/" in err
    assert tree(tmp_path) == before


def test_a_symlink_out_of_app_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = tmp_path / "proj", tmp_path / "outside"
    (project / "app").mkdir(parents=True)
    outside.mkdir()
    (project / "app" / "link").symlink_to(outside, target_is_directory=True)
    assert new_route(project, "link/x") == 2
    err = capsys.readouterr().err
    assert f"'link/x' resolves to {outside.resolve()}/x, outside {(project / 'app').resolve()}" in err
    assert list(outside.iterdir()) == [] and not (project / "lib").exists()


def test_the_refusal_exits_2_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    result = run_cli("new", "route", "../../x", "--root", str(tmp_path))
    assert result.returncode == 2 and "`..` segments are not allowed" in result.stderr
    assert not (tmp_path.parent / "x").exists()
