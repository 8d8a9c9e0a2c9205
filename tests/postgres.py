"""A real PostgreSQL server for the tests, and an empty schema of its own for each test that asks.

| situation | the tests use |
|---|---|
| `TEST_DATABASE_URL` set (`.ci/run` sets it) | that database; the tests create and drop schemas in it. Unreachable: they fail |
| unset, PostgreSQL's binaries found (`initdb` and `pg_ctl` on PATH, Debian's `/usr/lib/postgresql/*/bin`, Homebrew's `postgresql@*`) | a cluster of their own: `initdb` into a temporary folder, started on a free port on 127.0.0.1, stopped and deleted when the session ends. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (`runuser`) |
| neither, or psycopg missing | skipped with the install line; in CI (`CI` set) failed instead |

Each test gets a schema named `t_<random>` and a URL whose `options` put it first on the
`search_path`, so the app's tables, its `schema_migrations` included, start empty for every test
without the cost of a new database.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.helpers import free_port

INSTALL = (
    "Debian/Ubuntu: apt-get update && apt-get install -y postgresql (the tests start their own server from its "
    "binaries, as the postgres user when run as root); macOS: brew install postgresql@15; or set "
    "TEST_DATABASE_URL=postgresql://user:password@127.0.0.1:5432/dbname, a database the tests may create "
    "schemas in. The driver: pip install -e '.[test]'"
)
SERVER_USER = "postgres"  # Debian's package creates it; the cluster runs as this user when we are root


def missing(what: str) -> NoReturn:
    """PostgreSQL tests cannot run: a skip with the install line on a developer's machine, a failure in CI."""
    message = f"{what}: the PostgreSQL tests need a server. {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def find_bindir() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: on PATH first, else the newest of Debian's
    /usr/lib/postgresql/N/bin or Homebrew's keg-only postgresql@N/bin (not linked onto PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = [
        path
        for pattern in (
            "/usr/lib/postgresql/*/bin",
            "/opt/homebrew/opt/postgresql@*/bin",
            "/usr/local/opt/postgresql@*/bin",
        )
        for path in Path("/").glob(pattern.lstrip("/"))
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    found.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0])
    return found[-1] if found else None


def run_as() -> list[str]:
    """The prefix that runs PostgreSQL's binaries as a user they accept (they refuse root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        missing(f"running as root, and there is no {SERVER_USER!r} user to run the server as (useradd -r postgres)")
    runuser = shutil.which("runuser")
    if runuser is None:
        missing("running as root, and `runuser` (util-linux) is missing to run the server as the postgres user")
    return [runuser, "-u", SERVER_USER, "--"]


@dataclass
class Cluster:
    """A throwaway cluster: data, socket and log in one temporary folder, reachable on 127.0.0.1:`port`."""

    bindir: Path
    prefix: list[str]
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="framework-pg-")))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    port: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _run(self, *args: str, timeout: float) -> None:
        result = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n{log}")

    def start(self) -> None:
        if self.prefix:
            shutil.chown(self.folder, SERVER_USER)
        secret = self.folder / "password"
        secret.write_text(self.password + "\n")
        if self.prefix:
            shutil.chown(secret, SERVER_USER)
        data = self.folder / "data"
        self._run(
            str(self.bindir / "initdb"),
            *("-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={secret}"),
            *("-E", "UTF8", "--locale=C", "--no-sync"),
            timeout=120,
        )
        secret.unlink()
        for attempt in range(3):  # another process may take the free port before the server binds it
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a test server: speed over safety
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    *("-D", str(data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"),
                    timeout=90,
                )
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop", timeout=60
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def require_driver() -> None:
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        missing(f"the driver is not installed ({exc})")


@contextmanager
def server() -> Iterator[str]:
    """The URL of a database the tests may create schemas in: `TEST_DATABASE_URL`, or a cluster of their own."""
    require_driver()
    import psycopg

    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        try:
            psycopg.connect(given, connect_timeout=10).close()
        except psycopg.Error as exc:
            pytest.fail(f"TEST_DATABASE_URL is set, but its server does not answer: {exc}")
        yield given
        return
    bindir = find_bindir()
    if bindir is None:
        missing("no PostgreSQL binaries (initdb, pg_ctl) found and TEST_DATABASE_URL is unset")
    cluster = Cluster(bindir, run_as())
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(cluster.folder, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL cluster from {bindir}: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def with_schema(url: str, schema: str) -> str:
    """`url` with `schema` first on the search path (libpq's `options` parameter), as a DATABASE_URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -csearch_path={schema}".strip()
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A DATABASE_URL whose tables start empty: a new schema, dropped (with everything in it) afterwards."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '30s'")  # a connection left in a transaction fails this, not hangs it
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
