"""How `check_project` runs the rules: only the enabled ones, over a project read once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import framework.check.project
import framework.check.run
import framework.manifest
from framework.check import RULES, Config, check_project
from framework.check.project import Project
from framework.check.registry import Hit
from tests.helpers import REPO, write_tree
from tests.test_conventions_rules import BASE, PING_ROUTE


def test_a_disabled_rule_is_never_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Project] = []

    def counted(project: Project) -> list[Hit]:
        calls.append(project)
        return []

    rules = tuple(replace(r, run=counted) if r.id == "hard-coded-url" else r for r in RULES)
    monkeypatch.setattr(framework.check.run, "RULES", rules)
    root = write_tree(tmp_path, BASE)
    check_project(root, Config(disabled=frozenset({"hard-coded-url"})))
    assert calls == []
    check_project(root)
    assert len(calls) == 1


def test_router_error_disabled_imports_no_user_code(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    route = f"open({str(marker)!r}, 'w').close()\n" + PING_ROUTE
    root = write_tree(tmp_path / "project", {**BASE, "app/api/ping/route.py": route})
    assert check_project(root, Config(disabled=frozenset({"router-error"}))).findings == ()
    assert not marker.exists()
    check_project(root)
    assert marker.exists()


def test_a_hit_under_a_disabled_rule_id_is_dropped(tmp_path: Path) -> None:
    """The router's import finds `GET = make()` not callable, a `route-exports` finding the source cannot show."""
    made = "def make():\n    return 'x'\n\n\nGET = make()\n\n\ndef POST(request):"
    route = PING_ROUTE.replace("def GET(request):", made)
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": route})
    assert [(f.rule, f.line) for f in check_project(root).findings] == [("route-exports", 9)]
    assert check_project(root, Config(disabled=frozenset({"route-exports"}))).findings == ()


def test_the_project_is_read_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One manifest (every build goes through `_conflicts`), one reading of the URL builders."""
    counts: dict[str, int] = {}

    def count(module: object, name: str) -> None:
        real = getattr(module, name)

        def counted(*args: object) -> object:
            counts[name] = counts.get(name, 0) + 1
            return real(*args)

        monkeypatch.setattr(module, name, counted)

    count(framework.manifest, "_conflicts")
    count(framework.check.project, "route_url_calls")
    count(framework.check.project, "builders_by_pattern")
    root = write_tree(
        tmp_path,
        {  # a conflict, a builder and a hard-coded URL: every rule has work
            **BASE,
            "app/(a)/dup/route.py": "def GET(request): ...\n",
            "app/(b)/dup/route.py": "def GET(request): ...\n",
            "lib/controllers/x.py": "URL = '/api/ping'\n",
        },
    )
    rules = {f.rule for f in check_project(root).findings}
    assert {"router-error", "url-builder-missing", "hard-coded-url"} <= rules
    assert counts == {"_conflicts": 1, "route_url_calls": 1, "builders_by_pattern": 1}


@pytest.mark.parametrize("imports, rule", [(True, "router-error"), (False, "syntax-error")])
def test_a_file_that_does_not_parse_gets_one_finding(tmp_path: Path, imports: bool, rule: str) -> None:
    """Not its syntax error plus what other rules guess about it (here `url-builder-missing`)."""
    root = write_tree(tmp_path, {**BASE, "app/api/pong/route.py": "import sqlite3\n\ndef GET(request:\n    pass\n"})
    [finding] = check_project(root, imports=imports).findings
    assert (finding.rule, finding.file, finding.line) == (rule, "app/api/pong/route.py", 3)
    assert "never closed" in finding.message


def test_the_check_does_not_load_the_scaffolder() -> None:
    """The builder the check suggests comes from check/naming.py, which framework new shares."""
    code = (
        "import sys\nfrom framework.check import check_project\ncheck_project(sys.argv[1])\n"
        "print(sorted(m for m in sys.modules if m.startswith('framework.check.') and 'scaffold' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
