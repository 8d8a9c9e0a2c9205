"""The example app on PostgreSQL: the locks that keep decisions right across processes, and two
`framework start` processes (two machines behind a load balancer) sharing one database.

A real server (tests/postgres.py: TEST_DATABASE_URL or a cluster started for the session). The lock
tests hold a transaction open and watch `pg_locks` until the second one is seen waiting, so they
prove the waiting itself, not a timing.
"""

from __future__ import annotations

import hashlib
import http.client
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import postgres
from tests.helpers import REPO, Server, free_port, stop, subprocess_env, wait_for, wait_until_serving

FAST = {"PASSWORD_HASH_N": "1024", "COOKIE_SECURE": "0"}


def query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement, on a connection of the test's own (autocommit)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def waiting_locks(url: str) -> int:
    """How many lock requests are waiting right now in this database (`pg_locks`, not granted)."""
    return int(query(url, "SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0])


# -- the locks, in-process -------------------------------------------------------------------------


@pytest.fixture
def pg_lib(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The repository's `lib` imported afresh with DATABASE_URL on an empty schema; yields the URL."""
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    for name, value in {**FAST, "DEMO_USER": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FRAMEWORK_ENV", raising=False)

    def clear() -> None:
        if "lib.db" in sys.modules:
            sys.modules["lib.db"].close_all()
        for name in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
            del sys.modules[name]

    clear()
    yield postgres_url
    clear()


def in_thread(fn: Callable[[], Any]) -> Future[Any]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


def test_a_rotation_locks_the_token_so_a_second_one_waits_and_sees_it_used(pg_lib: str) -> None:
    from lib import storage

    with storage.transaction() as conn:
        user = storage.add_user(conn, "ada", "pw")
        storage.new_family(conn, "fam", user, time.time())
        storage.add_refresh(conn, "tok", "fam", time.time(), time.time() + 60)

    def second() -> storage.RefreshRow | None:
        with storage.transaction() as conn:
            return storage.find_refresh(conn, "tok", lock=True)

    with storage.transaction() as first:
        row = storage.find_refresh(first, "tok", lock=True)
        assert row is not None and row.used_at is None
        other = in_thread(second)
        wait_for(lambda: waiting_locks(pg_lib) > 0 or other.done(), what="the second rotation to wait")
        assert not other.done(), f"the second rotation did not wait for the first: {other.result()}"
        storage.mark_used(first, "tok", time.time())
    seen = other.result(timeout=30)
    assert seen is not None and seen.used_at is not None  # it read the row as the first one left it


def test_sign_in_attempts_on_one_key_take_turns(pg_lib: str) -> None:
    """The first failure of a key has no row to lock: without the advisory lock, a second attempt would
    read nothing, count itself too, and both pass a limit of 1."""
    from lib import storage

    limits = {"account:ada": 1}

    def second() -> float | None:
        with storage.transaction() as conn:
            return storage.reserve_login_attempt(conn, limits, 900, time.time())

    with storage.transaction() as first:
        assert storage.reserve_login_attempt(first, limits, 900, time.time()) is None
        other = in_thread(second)
        wait_for(lambda: waiting_locks(pg_lib) > 0 or other.done(), what="the second attempt to wait")
        assert not other.done(), "the second attempt did not wait for the first"
    wait = other.result(timeout=30)
    assert wait is not None and 890 < wait <= 900  # refused: it saw the first failure
    assert query(pg_lib, "SELECT failures FROM login_failures WHERE key = 'account:ada'") == [(1,)]


def test_migrations_wait_for_each_other(pg_lib: str) -> None:
    """A process that starts while another migrates waits for it, then has nothing left to do."""
    import psycopg

    from lib import db
    from lib.db.postgres import MIGRATION_LOCK

    with psycopg.connect(pg_lib) as holder:
        holder.execute(MIGRATION_LOCK)  # as a process in the middle of migrating
        other = in_thread(db.current().migrate)
        wait_for(lambda: waiting_locks(pg_lib) > 0 or other.done(), what="the migration to wait")
        assert not other.done(), "migrate() did not wait for the migration lock"
    assert other.result(timeout=30) == ["0001_initial"]
    assert db.current().migrate() == []
    assert [row[:2] for row in query(pg_lib, "SELECT version, name FROM schema_migrations")] == [(1, "0001_initial")]


# -- two `framework start` processes on one database -----------------------------------------------


@dataclass
class Machines:
    servers: list[Server]
    url: str  # their DATABASE_URL

    def client(self, index: int) -> httpx.Client:
        port = self.servers[index % len(self.servers)].port
        return httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False, timeout=30)


@contextmanager
def start_together(count: int, env: dict[str, str], log_dir: Path) -> Iterator[list[Server]]:
    """`framework start` `count` times on the repository's app, launched at once (so their migrations race),
    each on its own port; waits until every one answers."""
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = free_port()
            log_path = log_dir / f"start-{port}.log"
            log_file = stack.enter_context(open(log_path, "w", encoding="utf-8"))
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "framework",
                    "start",
                    "--root",
                    str(REPO),
                    "--port",
                    str(port),
                    "--no-access-log",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
                env=subprocess_env(**env),
            )
            stack.callback(stop, process)
            servers.append(Server(process, port, log_path))
        for server in servers:
            wait_until_serving(server, 60)
        yield servers


@pytest.fixture(scope="module")
def machines(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    with postgres.fresh_schema(postgres_server) as url:
        env = {
            **FAST,
            "DATABASE_URL": url,
            "DEMO_USER": "1",
            "LOGIN_LIMIT_PER_ACCOUNT": "4",
            "LOGIN_LIMIT_PER_ADDRESS": "1000",  # every test client is 127.0.0.1
            "AUTH_DB_PATH": str(tmp_path_factory.mktemp("unused") / "never-created.sqlite3"),
        }
        with start_together(2, env, tmp_path_factory.mktemp("machines")) as servers:
            yield Machines(servers, url)


def test_both_machines_started_on_one_migrated_schema(machines: Machines) -> None:
    assert [row[:2] for row in query(machines.url, "SELECT version, name FROM schema_migrations")] == [
        (1, "0001_initial")
    ]
    assert query(machines.url, "SELECT username FROM users") == [("demo",)]  # created once, by either
    for server in machines.servers:
        assert server.process.poll() is None and "Traceback" not in server.log(), server.log()


def test_one_session_across_both_machines(machines: Machines) -> None:
    """Sign in on one machine, use and rotate the session on the other, sign out on the first: each sees
    what the other did (nothing is kept per process)."""
    a, b = machines.client(0), machines.client(1)
    r = a.post("/login", data={"username": "demo", "password": "demo-password"})
    assert r.status_code == 303, r.text
    b.cookies.update(a.cookies)
    assert b.get("/dashboard").status_code == 200
    old_access = a.cookies["access_token"]
    assert b.get("/api/refresh-token").status_code == 307  # rotated on b
    stale = machines.client(0)
    stale.cookies.set("access_token", old_access)
    assert stale.get("/dashboard").status_code == 307  # a refuses the access token b replaced
    a.cookies.update(b.cookies)
    assert a.get("/dashboard").status_code == 200
    assert a.post("/api/logout").status_code == 303
    assert b.get("/dashboard").status_code == 307  # signed out on a: b refuses it too


ROUNDS = 50
REUSED = "Refresh token reused; the session was revoked"


def test_one_refresh_token_sent_to_both_machines_at_once(machines: Machines) -> None:
    """Each round: sign in, then the same refresh token to both machines at the same moment (threads
    released by a barrier, their connections already open). Exactly one rotation may succeed; the other
    request is a reuse, which revokes the family, so even the winner's new tokens die."""
    outcomes: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        with machines.client(round_) as c:
            assert c.post("/login", data={"username": "demo", "password": "demo-password"}).status_code == 303
            token = c.cookies["refresh_token"]
        barrier = threading.Barrier(2)

        def refresh(server: Server) -> tuple[int, str, str | None]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                conn.connect()
                barrier.wait(timeout=30)
                conn.request("GET", "/api/refresh-token", headers={"cookie": f"refresh_token={token}"})
                reply = conn.getresponse()
                body = reply.read().decode()
                cookies = reply.headers.get_all("set-cookie") or []
                new = next((h.split(";")[0].split("=", 1)[1] for h in cookies if h.startswith("refresh_token=")), None)
                return reply.status, body, new
            finally:
                conn.close()

        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(refresh, machines.servers))
        statuses = sorted(status for status, _, _ in replies)
        assert statuses == [307, 401], f"round {round_}: {replies}"
        [(_, body, _)] = [r for r in replies if r[0] == 401]
        assert body == REUSED, f"round {round_}: {replies}"
        [(_, _, winner)] = [r for r in replies if r[0] == 307]
        family = query(
            machines.url,
            "SELECT f.id, f.revoked_reason FROM token_families f JOIN refresh_tokens r ON r.family_id = f.id "
            "WHERE r.token_hash = %s",
            (hashlib.sha256(token.encode()).hexdigest(),),
        )
        assert [reason for _, reason in family] == ["refresh token reused"], f"round {round_}"
        issued = query(machines.url, "SELECT count(*) FROM refresh_tokens WHERE family_id = %s", (family[0][0],))
        assert issued == [(2,)], f"round {round_}: the login's token and exactly one rotation"
        with machines.client(round_ + 1) as late:  # the winner's new token, on the other machine
            late.cookies.set("refresh_token", winner or "")
            r = late.get("/api/refresh-token")
            assert (r.status_code, r.text) == (401, "Refresh token revoked"), f"round {round_}"
        outcomes[f"{statuses[0]} + {statuses[1]} reused, family revoked"] += 1
    assert outcomes == {"307 + 401 reused, family revoked": ROUNDS}


def failed_sign_in(machines: Machines, index: int, username: str) -> int:
    with machines.client(index) as c:
        return c.post("/login", data={"username": username, "password": "wrong"}).status_code


def test_failures_on_both_machines_share_one_limit(machines: Machines) -> None:
    """LOGIN_LIMIT_PER_ACCOUNT=4: failures alternating between the machines are refused from the 5th on,
    whichever machine gets it; counters kept per process would let each machine allow 4."""
    statuses = [(i % 2, failed_sign_in(machines, i, "ada")) for i in range(8)]
    assert [status for _, status in statuses] == [401] * 4 + [429] * 4, statuses
    assert {machine for machine, status in statuses if status == 429} == {0, 1}
    assert query(machines.url, "SELECT failures FROM login_failures WHERE key = 'account:ada'") == [(4,)]


def test_concurrent_failures_on_both_machines_never_pass_the_limit(machines: Machines) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda i: failed_sign_in(machines, i, "bob"), range(16)))
    assert statuses == [401] * 4 + [429] * 12
    assert query(machines.url, "SELECT failures FROM login_failures WHERE key = 'account:bob'") == [(4,)]


def test_the_right_password_is_refused_on_both_while_the_account_is_blocked(machines: Machines) -> None:
    try:
        for i in range(4):
            assert failed_sign_in(machines, i, "demo") == 401
        for i in range(2):
            with machines.client(i) as c:
                r = c.post("/login", data={"username": "demo", "password": "demo-password"})
                assert r.status_code == 429 and r.headers["retry-after"].isdigit()
    finally:  # the other tests sign in as demo
        query(machines.url, "DELETE FROM login_failures WHERE key = 'account:demo'")
