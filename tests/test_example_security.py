"""The example app's hardening over real HTTP, where it needs real processes: `framework start` and
`framework dev` on the repository's own app/, each with its own database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO, run_framework

DEMO = {"username": "demo", "password": "demo-password"}


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AUTH_DB_PATH": str(tmp_path / "db" / "auth.sqlite3"), "FILES_DIR": str(tmp_path),
            "PASSWORD_HASH_N": "1024", **extra}  # a fast scrypt: the default takes about 0.6 s a hash


def usernames(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT username FROM users")]


@pytest.mark.parametrize(("command", "extra", "created"), [
    ("start", {}, False),                   # never silently in production
    ("start", {"DEMO_USER": "1"}, True),
    ("dev", {}, True),                      # the quick start: framework dev, sign in as demo
])
def test_the_demo_user_under_start_and_dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str,
                                           extra: dict[str, str], created: bool) -> None:
    for name in ("DEMO_USER", "FRAMEWORK_ENV"):
        monkeypatch.delenv(name, raising=False)
    env = app_env(tmp_path, **extra)
    with run_framework(REPO, command, env=env) as server:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", follow_redirects=False, timeout=30) as c:
            r = c.post("/login", data=DEMO)
            assert r.status_code == (303 if created else 401), r.text
            assert ("demo-password" in c.get("/login").text) is created
    assert usernames(Path(env["AUTH_DB_PATH"])) == (["demo"] if created else [])
