"""How `check_project` runs the rules: only the enabled ones, over a project read once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import framework.check.run
from framework.check import RULES, Config, check_project
from framework.check.project import Project
from framework.check.registry import Hit
from tests.helpers import write_tree
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
    route = PING_ROUTE.replace("def GET(request):", "def make():\n    return 'x'\n\n\nGET = make()\n\n\ndef POST(request):")
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": route})
    assert [(f.rule, f.line) for f in check_project(root).findings] == [("route-exports", 9)]
    assert check_project(root, Config(disabled=frozenset({"route-exports"}))).findings == ()
