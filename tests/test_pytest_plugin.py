"""The pytest plugin, run by pytest's own `pytester`: in process (the check sets each project's `lib` aside
and back), and in a subprocess where the plugin must be found through its entry point."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from framework.check import RULES
from tests.helpers import REPO, plugin_args, subprocess_env
from tests.test_conventions_rules import BASE, PING_ROUTE

pytest_plugins = ["pytester"]

# In-process pytester runs inside a session that already imported `framework`; when the package is
# installed, pytest then warns that the entry-point plugin's package cannot be assertion-rewritten.
PLUGIN = (*plugin_args(), "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")


def esc(text: str) -> str:
    """Brackets as literals in an `fnmatch_lines` pattern."""
    return re.sub(r"[\[\]]", lambda m: f"[{m.group()}]", text)


RULE_ITEMS = [esc(f"framework-check[{r.id}] PASSED*") for r in RULES]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with a clean app, and the framework importable by the pytest subprocess."""
    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])
    for rel, text in BASE.items():
        path = pytester.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    pytester.makefile(".toml", pyproject="[tool.framework.check]\n")  # the project opts in
    return pytester


def test_clean_project_collects_one_passing_item_per_rule(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "-v")
    result.assert_outcomes(passed=len(RULES) + 1)
    result.stdout.fnmatch_lines(RULE_ITEMS)


def test_a_project_that_did_not_opt_in_gets_no_items(project: pytest.Pytester) -> None:
    """Another framework's project with an `app/` folder (FastAPI, say), in the same environment."""
    (project.path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n", encoding="utf-8")
    (project.path / "app/api/ping/route.py").write_text("import sqlite3\n", encoding="utf-8")  # would fail the check
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    explicit = project.runpytest(*PLUGIN, "-p", "framework") if not plugin_args() else project.runpytest(*PLUGIN)
    if not plugin_args():  # installed: `-p framework` asks for the checks without the pyproject table
        explicit.assert_outcomes(passed=len(RULES) - 1, failed=2)


def test_a_run_on_single_files_gets_no_items(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "test_unit.py")
    result.assert_outcomes(passed=1)
    whole = project.runpytest(*PLUGIN, ".")  # a folder is a run of the project
    whole.assert_outcomes(passed=len(RULES) + 1)


def test_violation_fails_with_the_check_message_and_no_traceback(project: pytest.Pytester) -> None:
    (project.path / "app/api/ping/route.py").write_text("import sqlite3\n" + PING_ROUTE, encoding="utf-8")
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=len(RULES), failed=1)
    result.stdout.fnmatch_lines(
        [
            esc("*_ framework-check[forbidden-import] _*"),
            "1 finding for rule `forbidden-import` (*",
            "",
            esc("app/api/ping/route.py:1: error[forbidden-import] imports `sqlite3`, a database driver: *"),
            "  fix: Move the code that uses `sqlite3` into a function in lib/controllers/*",
            esc("*FAILED framework-check[forbidden-import]*"),
        ]
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "def runtest" not in out and "ConventionFailure" not in out


def test_warnings_pass_and_show_in_the_summary(project: pytest.Pytester) -> None:
    route = PING_ROUTE + "\n\ndef POST(request):\n    return {'a': 1}\n"
    (project.path / "app/api/ping/route.py").write_text(route, encoding="utf-8")
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=len(RULES) + 1, warnings=1)
    result.stdout.fnmatch_lines([esc("*ConventionWarning: app/api/ping/route.py:10: warning[api-returns-json]*")])


def test_strict_config_makes_warnings_fail(project: pytest.Pytester) -> None:
    route = PING_ROUTE + "\n\ndef POST(request):\n    return {'a': 1}\n"
    (project.path / "app/api/ping/route.py").write_text(route, encoding="utf-8")
    project.makefile(".toml", pyproject="[tool.framework.check]\nstrict = true\n")
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=len(RULES), failed=1)


def _entry_point_site(base: Path) -> str:
    """A real distribution on sys.path declaring the plugin as pyproject.toml does: `pytest11: framework`."""
    info = base / "site" / "framework-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: framework\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[pytest11]\nframework = framework.check.pytest_plugin\n", encoding="utf-8")
    return str(base / "site")


def test_entry_point_loads_the_plugin_and_p_no_framework_turns_it_off(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _entry_point_site(tmp_path_factory.mktemp("dist"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([site, subprocess_env()["PYTHONPATH"]]))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    (project.path / "app/api/ping/route.py").write_text("import sqlite3\n" + PING_ROUTE, encoding="utf-8")
    loaded = project.runpytest_subprocess("-p", "no:cacheprovider")  # no -p: found through the entry point
    loaded.assert_outcomes(passed=len(RULES), failed=1)
    off = project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:framework")
    off.assert_outcomes(passed=1)


def test_off_with_the_ini_option(project: pytest.Pytester) -> None:
    (project.path / "app/api/ping/route.py").write_text("import sqlite3\n" + PING_ROUTE, encoding="utf-8")
    project.makefile(".toml", pyproject="[tool.pytest.ini_options]\nframework_check = false\n")
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)


def test_disabled_rules_are_not_collected(project: pytest.Pytester) -> None:
    project.makefile(".toml", pyproject='[tool.framework.check]\ndisable = ["hard-coded-url"]\n')
    result = project.runpytest(*PLUGIN, "--collect-only", "-q")
    assert "framework-check[hard-coded-url]" not in result.stdout.str()
    assert "framework-check[forbidden-import]" in result.stdout.str()


def test_bad_config_fails_one_item_with_the_message(project: pytest.Pytester) -> None:
    project.makefile(".toml", pyproject='[tool.framework.check]\ndisable = ["nope"]\n')
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [esc("framework check: pyproject.toml [tool.framework.check] disable: unknown rule 'nope'*")]
    )


def test_no_app_folder_no_items(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)


def test_the_repository_app_passes_the_plugin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])
    monkeypatch.chdir(REPO)
    # Only the rule items: pointing pytest at app/ collects no test files from it.
    result = pytester.runpytest(*PLUGIN, "--rootdir", str(REPO), str(REPO / "app"), "-v")
    result.assert_outcomes(passed=len(RULES))
    result.stdout.fnmatch_lines(RULE_ITEMS)


def test_entry_point_is_declared() -> None:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["entry-points"]["pytest11"] == {"framework": "framework.check.pytest_plugin"}
    assert os.path.isfile(REPO / "framework" / "check" / "pytest_plugin.py")


def test_rule_items_can_be_selected_and_deselected(project: pytest.Pytester) -> None:
    (project.path / "app/api/ping/route.py").write_text("import sqlite3\n" + PING_ROUTE, encoding="utf-8")
    result = project.runpytest(*PLUGIN, "-k", "framework-check", "--deselect", "framework-check[forbidden-import]")
    result.assert_outcomes(passed=len(RULES) - 1, deselected=2)
