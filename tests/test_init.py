"""`framework init`: a new project that serves, passes `framework check` and runs its own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from framework.check import RULES
from framework.starter import dependency, project_name
from tests.helpers import REPO, run_cli, run_framework, subprocess_env

FILES = [
    "pyproject.toml",
    "app/api/health/route.py",
    "lib/__init__.py",
    "lib/controllers/__init__.py",
    "lib/controllers/health.py",
    "lib/urls/__init__.py",
    "tests/__init__.py",
    "tests/test_health.py",
    ".gitignore",
]


def test_a_new_project_checks_tests_and_serves(tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "My App"))
    assert result.returncode == 0, result.stderr
    root = tmp_path / "My App"
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("created")] == FILES
    assert "framework dev" in result.stdout and ".venv/bin/pytest" in result.stdout  # the next two commands
    assert 'name = "my-app"' in (root / "pyproject.toml").read_text()
    checked = run_cli("check", "--root", str(root))
    assert (checked.returncode, checked.stdout.strip()) == (0, "no problems in 5 files (1 route).")
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert f"{1 + len(RULES)} passed" in tested.stdout  # its one test and one item per convention rule (it opted in)
    with run_framework(root, "dev") as dev:
        reply = dev.get("/api/health")
        assert (reply.status, reply.text) == (200, "ok")


def test_a_folder_with_files_is_refused_and_force_overwrites_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    refused = run_cli("init", str(tmp_path))
    assert refused.returncode == 2 and "is not empty" in refused.stderr and "--force" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    (tmp_path / "app/api/health").mkdir(parents=True)
    (tmp_path / "app/api/health/route.py").write_text("# my own\n")
    forced = run_cli("init", str(tmp_path), "--force")
    assert forced.returncode == 0
    assert "kept     app/api/health/route.py (exists already)" in forced.stdout
    assert (tmp_path / "app/api/health/route.py").read_text() == "# my own\n"
    assert (tmp_path / "README.md").read_text() == "mine\n" and (tmp_path / "pyproject.toml").exists()


def test_the_new_project_requires_this_framework_from_where_it_was_installed() -> None:
    assert dependency() in (f"framework @ {REPO.as_uri()}", "framework>=0.1.0")
    assert project_name("My App!") == "my-app" and project_name("___") == "app"
