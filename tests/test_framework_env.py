"""`FRAMEWORK_ENV` (like Node's NODE_ENV): `development` under `framework dev`, `production` by default
under `framework start` (an explicit value is kept), so an app can tell where it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_framework, write_tree

TREE = {
    "app/env/route.py": """
        import os
        from starlette.responses import PlainTextResponse

        def GET(request):
            return PlainTextResponse(os.environ.get("FRAMEWORK_ENV", "<unset>"))
    """,
}


@pytest.mark.parametrize(
    ("command", "args", "given", "seen"),
    [
        ("start", (), None, "production"),
        ("start", ("--workers", "2"), None, "production"),  # worker processes inherit it
        ("start", (), "staging", "staging"),  # an explicit value is kept
        ("dev", (), None, "development"),
        ("dev", (), "production", "development"),  # framework dev is always development
    ],
)
def test_framework_env_tells_the_app_where_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, args: tuple[str, ...], given: str | None, seen: str
) -> None:
    root = write_tree(tmp_path / "proj", TREE)
    monkeypatch.delenv("FRAMEWORK_ENV", raising=False)  # the servers start from this process's environment
    env = {"FRAMEWORK_ENV": given} if given is not None else {}
    with run_framework(root, command, *args, env=env) as server:
        reply = server.get("/env")
        assert (reply.status, reply.text) == (200, seen)
