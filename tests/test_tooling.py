"""The tools that hold what the code claims, run as part of the suite (and so of CI): types, lint and
format, and the import layering (pyproject.toml: [tool.mypy], [tool.ruff], [tool.importlinter])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["mypy"],  # strict, on framework/ (pyproject.toml)
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["lint-imports"],  # the core imports only the stdlib; nothing imports the CLI; no import goes up a layer
    ],
    ids=["mypy", "ruff-check", "ruff-format", "import-linter"],
)
def test_the_tree_passes(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
