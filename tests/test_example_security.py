"""The example app's hardening over real HTTP, where it needs real processes: `framework start` and
`framework dev` on the repository's own app/, each with its own database."""

from __future__ import annotations

import http.client
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.helpers import REPO, run_framework

DEMO = {"username": "demo", "password": "demo-password"}


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "AUTH_DB_PATH": str(tmp_path / "db" / "auth.sqlite3"),
        "FILES_DIR": str(tmp_path),
        "PASSWORD_HASH_N": "1024",
        **extra,
    }  # a fast scrypt: the default takes about 0.6 s a hash


def usernames(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT username FROM users")]


@pytest.mark.parametrize(
    ("command", "extra", "created"),
    [
        ("start", {}, False),  # never silently in production
        ("start", {"DEMO_USER": "1"}, True),
        ("dev", {}, True),  # the quick start: framework dev, sign in as demo
    ],
)
def test_the_demo_user_under_start_and_dev(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, extra: dict[str, str], created: bool
) -> None:
    for name in ("DEMO_USER", "FRAMEWORK_ENV"):
        monkeypatch.delenv(name, raising=False)
    env = app_env(tmp_path, **extra)
    with (
        run_framework(REPO, command, env=env) as server,
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", follow_redirects=False, timeout=30) as c,
    ):
        r = c.post("/login", data=DEMO)
        assert r.status_code == (303 if created else 401), r.text
        assert ("demo-password" in c.get("/login").text) is created
    assert usernames(Path(env["AUTH_DB_PATH"])) == (["demo"] if created else [])


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is `pid` (uvicorn's worker processes under `--workers`)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4, after "(comm)" and the state
                found.add(int(entry.name))
    return found


def serving_pid(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of `pids` holds the server side of our connection from `client_port` (Linux /proc)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == server_port and int(fields[2].split(":")[1], 16) == client_port:
            inode = fields[9]
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def test_login_limits_hold_across_worker_processes(tmp_path: Path) -> None:
    """Wrong passwords on fresh connections, spread by the kernel over two workers: exactly the limit
    (3) get 401, every later one 429, whichever worker answers. Counters kept per process would give
    each worker its own first 401s."""
    env = app_env(tmp_path, DEMO_USER="1", LOGIN_LIMIT_PER_ACCOUNT="3")
    body = urlencode({"username": "demo", "password": "wrong"}).encode()
    answers: list[tuple[int, int | None]] = []  # (status, worker pid)
    with run_framework(REPO, "start", "--workers", "2", "--no-access-log", env=env) as server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(answers) < 6 or len({pid for _, pid in answers}) < 2):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request("POST", "/login", body=body, headers={"content-type": "application/x-www-form-urlencoded"})
                reply = conn.getresponse()
                reply.read()
                # The connection is still open (keep-alive): find the worker holding its other end.
                pid = serving_pid(server.port, conn.sock.getsockname()[1], child_pids(server.process.pid))
                answers.append((reply.status, pid))
                if reply.status == 429:
                    assert reply.getheader("retry-after", "").isdigit()
            finally:
                conn.close()
        workers = {pid for _, pid in answers}
        assert None not in workers and len(workers) == 2, f"the attempts did not reach two workers: {answers}"
        assert [status for status, _ in answers] == [401] * 3 + [429] * (len(answers) - 3), answers
        # The right password is refused too while the account is blocked, on any worker.
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as c:
            assert c.post("/login", data=DEMO).status_code == 429
    with sqlite3.connect(env["AUTH_DB_PATH"]) as conn:
        assert conn.execute("SELECT failures FROM login_failures WHERE key = 'account:demo'").fetchone() == (3,)
