"""The example app's database layer (lib/db): choosing the backend, its messages, and the migrations,
on SQLite and on a real PostgreSQL (tests/postgres.py)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, free_port, subprocess_env


@pytest.fixture
def fresh_lib(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The repository's `lib` imported afresh (and its pools closed afterwards), outside a served app."""

    def clear() -> None:
        if "lib.db" in sys.modules:
            sys.modules["lib.db"].close_all()
        for name in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
            del sys.modules[name]

    monkeypatch.delenv("FRAMEWORK_ENV", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PASSWORD_HASH_N", "1024")
    clear()
    yield monkeypatch
    clear()


# -- choosing the backend, and what it says when it cannot --------------------------------------


def test_the_backend_follows_database_url(fresh_lib: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from lib import db

    fresh_lib.setenv("AUTH_DB_PATH", str(tmp_path / "a.sqlite3"))
    assert db.current().kind == "sqlite" and db.current().describe() == str(tmp_path / "a.sqlite3")
    fresh_lib.setenv("DATABASE_URL", "   ")  # empty counts as unset
    assert db.current().kind == "sqlite"
    fresh_lib.setenv("DATABASE_URL", "postgresql://app:s3cret@127.0.0.1:1/app")
    found = db.current()
    assert found.kind == "postgres" and found is db.current()  # one object (one pool) per database
    assert found.describe() == "postgresql://app:***@127.0.0.1:1/app"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("postgres://app:p%40ss@db/app?sslmode=require", "postgres://app:***@db/app?sslmode=require"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
        ("postgresql:///app", "postgresql:///app"),
    ],
)
def test_urls_in_messages_never_show_the_password(fresh_lib: pytest.MonkeyPatch, url: str, shown: str) -> None:
    from lib import config

    assert config.redacted(url) == shown


@pytest.mark.parametrize("url", ["mysql://app:s3cret@db/app", "sqlite:///x.db", "db.internal:5432", "host=db"])
def test_a_database_url_that_is_not_postgresql_names_the_variable(fresh_lib: pytest.MonkeyPatch, url: str) -> None:
    from lib import config

    fresh_lib.setenv("DATABASE_URL", url)
    with pytest.raises(config.ConfigError, match=r"^DATABASE_URL=.*expected a PostgreSQL URL") as error:
        config.check()
    assert "s3cret" not in str(error.value) and "AUTH_DB_PATH" in str(error.value)


@pytest.mark.parametrize("blocked", [("psycopg",), ("psycopg_pool",), ("psycopg", "psycopg_pool")])
def test_database_url_without_the_driver_names_the_extra(fresh_lib: pytest.MonkeyPatch, blocked: tuple[str]) -> None:
    from lib import config

    for name in blocked:
        fresh_lib.setitem(sys.modules, name, None)  # what an import of a package that is not installed finds
    fresh_lib.setenv("DATABASE_URL", "postgresql://app:s3cret@db/app")
    with pytest.raises(config.ConfigError) as error:
        config.check()
    message = str(error.value)
    assert message.startswith("DATABASE_URL='postgresql://app:***@db/app' needs the " + " and ".join(blocked))
    assert "pip install -e '.[postgres]'" in message and "s3cret" not in message


def start_fails(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`framework start` on the repository's app, expected to stop before serving."""
    result = subprocess.run(
        [sys.executable, "-m", "framework", "start", "--root", str(REPO), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=90,
        env=subprocess_env(AUTH_DB_PATH=str(tmp_path / "unused.sqlite3"), **env),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stdout + result.stderr
    return result


def test_framework_start_without_the_driver_says_which_extra_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.mkdir()  # sitecustomize runs at startup: the process behaves as if psycopg were not installed
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['psycopg'] = None\n")
    result = start_fails(
        tmp_path, DATABASE_URL="postgresql://app:s3cret@127.0.0.1:1/app", PYTHONPATH=f"{blocker}:{REPO}"
    )
    assert "DATABASE_URL='postgresql://app:***@127.0.0.1:1/app' needs the psycopg package" in result.stderr
    assert "pip install -e '.[postgres]'" in result.stderr


def test_framework_start_stops_when_the_database_does_not_answer(tmp_path: Path) -> None:
    """Migrations run at startup: a wrong DATABASE_URL stops the start, not the first sign-in."""
    url = f"postgresql://app:s3cret@127.0.0.1:{free_port()}/app"  # nothing listens there
    result = start_fails(tmp_path, DATABASE_URL=url)
    assert f"cannot connect to PostgreSQL at DATABASE_URL='postgresql://app:***@127.0.0.1:{url.split(':')[-1]}'" in (
        result.stderr
    )
    assert "check that the server is running" in result.stderr and "Connection refused" in result.stderr


# -- migrations ---------------------------------------------------------------------------------


def test_both_backends_have_the_same_migrations() -> None:
    from lib.db.migrations import load

    assert [m.name for m in load("sqlite")] == [m.name for m in load("postgres")]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, fresh_lib: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """`fresh_lib` with an empty database of each kind in the environment."""
    fresh_lib.setenv("AUTH_DB_PATH", str(tmp_path / "db" / "auth.sqlite3"))
    if request.param == "postgres":
        fresh_lib.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
    return fresh_lib


def rows(sql: str) -> list[tuple[Any, ...]]:
    from lib import db

    with db.current().reader() as conn:
        return [tuple(row) for row in conn.execute(sql)]


def columns() -> set[tuple[str, str, bool]]:
    """(table, column, nullable) of every table the migrations made, on either backend."""
    from lib import db

    database = db.current()
    if database.kind == "sqlite":
        tables = [t for (t,) in rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            (table, name, not notnull and not pk)
            for table in tables
            for _, name, _, notnull, _, pk in rows(f"PRAGMA table_info({table})")
        }
    return {
        (table, name, nullable == "YES")
        for table, name, nullable in rows(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
    }


def test_migrating_twice_does_nothing_the_second_time(backend: pytest.MonkeyPatch) -> None:
    from lib import db

    assert db.current().migrate() == ["0001_initial"]
    assert db.current().migrate() == []
    assert [row[:2] for row in rows("SELECT version, name FROM schema_migrations")] == [(1, "0001_initial")]


def test_both_backends_end_in_the_same_tables_and_columns(
    fresh_lib: pytest.MonkeyPatch, tmp_path: Path, postgres_url: str
) -> None:
    from lib import db

    fresh_lib.setenv("AUTH_DB_PATH", str(tmp_path / "auth.sqlite3"))
    db.current().migrate()
    on_sqlite = columns()
    fresh_lib.setenv("DATABASE_URL", postgres_url)
    db.current().migrate()
    assert columns() == on_sqlite
    assert {table for table, _, _ in on_sqlite} >= {"users", "refresh_tokens", "login_failures", "schema_migrations"}


def test_a_database_from_before_migrations_is_adopted(fresh_lib: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SQLite files made by the schema-in-code version have the tables and no schema_migrations."""
    from lib import storage

    path = tmp_path / "auth.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT)")
        conn.execute("INSERT INTO users (username, password_hash) VALUES ('ada', 'scrypt$...')")
    path.chmod(0o600)
    fresh_lib.setenv("AUTH_DB_PATH", str(path))
    with storage.reader() as conn:
        assert storage.find_user(conn, "ada") is not None
    assert [row[:2] for row in rows("SELECT version, name FROM schema_migrations")] == [(1, "0001_initial")]


@pytest.fixture
def own_migrations(backend: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A copy of lib/migrations the test may add to and edit; the backend's folder in it."""
    from lib.db import current, migrations

    folder = tmp_path / "migrations"
    shutil.copytree(migrations.FOLDER, folder)
    backend.setattr(migrations, "FOLDER", folder)
    return folder / current().kind


def test_a_new_migration_is_applied_to_an_existing_database(own_migrations: Path) -> None:
    from lib import db, storage

    with storage.transaction() as conn:
        storage.add_user(conn, "ada", "pw")
    (own_migrations / "0002_user_email.sql").write_text("ALTER TABLE users ADD COLUMN email TEXT;\n")
    assert db.current().migrate() == ["0002_user_email"]
    assert rows("SELECT username, email FROM users") == [("ada", None)]
    assert [row[0] for row in rows("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2]


def test_a_failing_migration_changes_nothing(own_migrations: Path) -> None:
    from lib import db

    db.current().migrate()
    (own_migrations / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER);\nALTER TABLE no_such_table ADD COLUMN x TEXT;\n"
    )
    with pytest.raises(Exception, match="no_such_table"):
        db.current().migrate()
    assert [row[0] for row in rows("SELECT version FROM schema_migrations")] == [1]
    assert "half_done" not in {table for table, _, _ in columns()}  # rolled back with the rest


def test_a_migration_changed_after_it_was_applied_stops_the_start(own_migrations: Path) -> None:
    from lib import db
    from lib.db.migrations import MigrationError

    db.current().migrate()
    first = own_migrations / "0001_initial.sql"
    original = first.read_bytes()
    first.write_bytes(original + b"\nCREATE INDEX users_hash ON users(password_hash);\n")
    with pytest.raises(MigrationError) as error:
        db.current().migrate()
    message = str(error.value)
    assert f"{first} was changed after it was applied" in message
    assert "put the change in a new file, 0002_<what>.sql" in message
    first.write_bytes(original.replace(b"\n", b"\r\n"))  # a CRLF checkout of the same file is no change
    assert db.current().migrate() == []


def test_a_version_only_the_database_knows_is_a_warning(own_migrations: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Older code during a rolling deploy: it starts, and says why the schema is ahead of it."""
    from lib import db

    (own_migrations / "0002_user_email.sql").write_text("ALTER TABLE users ADD COLUMN email TEXT;\n")
    db.current().migrate()
    (own_migrations / "0002_user_email.sql").unlink()
    with caplog.at_level("WARNING", logger="lib.db.migrations"):
        assert db.current().migrate() == []
    assert "has migration 0002 applied, which this code does not have" in caplog.text


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("0003_skipped_one.sql", "expected version 0002 next, found 0003_skipped_one.sql"),
        ("0001_again.sql", "expected version 0002 next, found 0001_initial.sql"),
        ("2_short.sql", "a migration is named NNNN_what.sql"),
        ("0002-Dashes.sql", "a migration is named NNNN_what.sql"),
    ],
)
def test_migration_files_are_numbered_without_gaps(own_migrations: Path, name: str, error: str) -> None:
    from lib.db.migrations import MigrationError, load

    (own_migrations / name).write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=error):
        load(own_migrations.name)


def test_sqlite_scripts_are_cut_where_sqlite_says_a_statement_ends() -> None:
    from lib.db.migrations import MigrationError, statements

    script = """-- a comment; with a semicolon
CREATE TABLE a (note TEXT DEFAULT 'x;y');
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    UPDATE a SET note = 'z;' WHERE rowid = new.rowid;
END;
-- trailing comment
"""
    assert statements(script) == [
        "-- a comment; with a semicolon\nCREATE TABLE a (note TEXT DEFAULT 'x;y');",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n    UPDATE a SET note = 'z;' WHERE rowid = new.rowid;\nEND;",
    ]
    with pytest.raises(MigrationError, match="unfinished statement"):
        statements("CREATE TABLE b (x INTEGER)\n")


GATED = """
import os, sys, time
from pathlib import Path
gate = Path(sys.argv[1])
deadline = time.monotonic() + 30
while not gate.exists():  # every process waits here, then all migrate at once
    if time.monotonic() > deadline:
        sys.exit("the gate never opened")
    time.sleep(0.005)
from lib import storage
print(storage.database().kind)
"""


def test_processes_starting_at_once_migrate_once(backend: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Four processes released together on an empty database: all start, each version is applied once."""
    gate = tmp_path / "gate"
    env = subprocess_env(
        **{name: os.environ[name] for name in ("AUTH_DB_PATH", "DATABASE_URL") if name in os.environ},
        PASSWORD_HASH_N="1024",
        DEMO_USER="1",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", GATED, str(gate)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    gate.touch()
    outputs = [p.communicate(timeout=90)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    assert [row[:2] for row in rows("SELECT version, name FROM schema_migrations")] == [(1, "0001_initial")]
    assert rows("SELECT username FROM users") == [("demo",)]
