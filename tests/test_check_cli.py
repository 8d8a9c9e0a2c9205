"""`framework check` as users run it: exit codes, the text report, the JSON report, --help."""

from __future__ import annotations

import json
import re
from pathlib import Path

from framework.check import RULES, format_rules
from tests.helpers import REPO, run_cli, write_tree
from tests.test_conventions_rules import BASE, PING_ROUTE

JSON_ROUTE = PING_ROUTE + "\n\ndef POST(request):\n    return {'a': 1}\n"


def test_the_repository_app_passes() -> None:
    result = run_cli("check", "--root", str(REPO))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("no problems in ")


def test_clean_project_exits_0(tmp_path: Path) -> None:
    result = run_cli("check", "--root", str(write_tree(tmp_path, BASE)))
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "no problems in 2 files (1 route).", "")


def test_findings_exit_1_with_file_line_rule_and_fix(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": "import sqlite3\n" + PING_ROUTE})
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 1
    assert result.stdout.startswith(
        "app/api/ping/route.py:1: error[forbidden-import] imports `sqlite3`, a database driver: "
        "route handlers call a controller in lib/controllers/, which does that work.\n"
        "  fix: Move the code that uses `sqlite3` into a function in lib/controllers/"
    )
    assert result.stdout.rstrip().endswith("1 error, 0 warnings in 2 files (1 route): failed.")


def test_warnings_alone_exit_0_and_1_with_strict(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": JSON_ROUTE})
    plain = run_cli("check", "--root", str(root))
    strict = run_cli("check", "--root", str(root), "--strict")
    assert (plain.returncode, strict.returncode) == (0, 1)
    assert "warning[api-returns-json]" in plain.stdout
    assert plain.stdout.rstrip().endswith("passed (warnings do not fail without --strict).")


def test_json_report_is_stable(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": "import httpx\n" + JSON_ROUTE})
    result = run_cli("check", "--root", str(root), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert list(data) == ["version", "findings", "errors", "warnings", "files", "routes", "failed"]
    assert (data["version"], data["errors"], data["warnings"], data["files"], data["routes"], data["failed"]) == (
        1,
        1,
        1,
        2,
        1,
        True,
    )
    assert [list(f) for f in data["findings"]] == [["rule", "severity", "file", "line", "message", "fix"]] * 2
    assert [(f["rule"], f["severity"], f["file"], f["line"]) for f in data["findings"]] == [
        ("forbidden-import", "error", "app/api/ping/route.py", 1),
        ("api-returns-json", "warning", "app/api/ping/route.py", 11),
    ]
    clean = json.loads(run_cli("check", "--root", str(write_tree(tmp_path / "c", BASE)), "--format", "json").stdout)
    assert (clean["findings"], clean["failed"]) == ([], False)


def test_json_line_is_null_when_unknown(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/page.py": "def Page(): ...\n"})
    data = json.loads(run_cli("check", "--root", str(root), "--format", "json").stdout)
    assert [(f["rule"], f["line"]) for f in data["findings"]] == [("router-error", None)]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = run_cli("check", "--root", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such directory" in missing.stderr
    no_app = run_cli("check", "--root", str(tmp_path))
    assert (no_app.returncode, "no `app/` folder" in no_app.stderr) == (2, True)
    bad_format = run_cli("check", "--format", "xml")
    assert bad_format.returncode == 2


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "pyproject.toml": "[tool.framework.check]\ndisable = ['nope']\n"})
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "framework check: error: pyproject.toml [tool.framework.check] disable: unknown rule 'nope'"
    )
    assert "Traceback" not in result.stderr


def test_list_rules_and_help() -> None:
    listed = run_cli("check", "--list-rules")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [r.id for r in RULES]
    helped = run_cli("check", "--help")
    assert helped.returncode == 0 and "examples:" in helped.stdout and "exit codes:" in helped.stdout


def test_json_stays_parseable_when_a_route_prints_at_import(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": "print('hello from import')\n" + PING_ROUTE})
    result = run_cli("check", "--root", str(root), "--format", "json")
    assert (result.returncode, json.loads(result.stdout)["findings"]) == (0, [])
    assert "hello from import" in result.stderr


def test_the_docs_show_the_rules_from_the_registry() -> None:
    """docs/conventions.md has `--list-rules` verbatim and one `### `id` (severity)` section per rule, in order."""
    docs = (REPO / "docs" / "conventions.md").read_text(encoding="utf-8")
    assert f"```\n{format_rules()}\n```" in docs
    assert re.findall(r"^### `([a-z-]+)` \((error|warning)\)$", docs, re.M) == [(r.id, r.severity) for r in RULES]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    conventions = readme[readme.index("## Conventions") : readme.index("## Benchmarks")]
    assert [r.id for r in RULES if f"`{r.id}`" not in conventions] == []
