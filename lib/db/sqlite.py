"""SQLite (stdlib `sqlite3`): one file, the embedded default when `DATABASE_URL` is unset.

One short-lived connection per unit of work; every write runs in `BEGIN IMMEDIATE`, which takes the
database's write lock before reading, so two refreshes of the same token are serialised: the second
sees the first one's `used_at` and never issues a second pair. WAL mode lets readers go on while one
writer works. The lock covers every process using the file (`framework start --workers N`), but not
other machines: for those, PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lib.db import Connection, Cursor, Database, DatabaseUnavailable, IntegrityError
from lib.db.migrations import SCHEMA_MIGRATIONS, plan, statements

log = logging.getLogger(__name__)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """`BEGIN IMMEDIATE` (the write lock now, so two writers queue instead of failing later), COMMIT at the
    end of the block, ROLLBACK if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SqliteConnection(Connection):
    for_update = ""  # BEGIN IMMEDIATE already holds the whole database

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def serialise(self, keys: Iterable[str]) -> None:
        """Nothing to do: no other write transaction runs beside this one."""


def create_private(path: Path) -> None:
    """Create the folder (0700) and an empty database file (0600) before SQLite opens it, whatever the umask.

    It holds password and token hashes, so only the server's user may read it. SQLite gives the
    `-wal` and `-shm` files it creates beside it the database file's mode, so they are 0600 too.
    An existing file keeps its mode (someone may have chosen it); a group- or world-readable one
    is a warning.
    """
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "%s is readable by other users (mode %o) and holds password and token hashes: "
                "chmod 600 it (and its -wal and -shm files).",
                path,
                mode,
            )
        return
    os.close(fd)


class SqliteDatabase(Database):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def key(self) -> str:
        return str(self.path)

    def describe(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        conn = self._connect()
        try:
            with immediate(conn):
                yield SqliteConnection(conn)
        finally:
            conn.close()

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        conn = self._connect()  # autocommit: no write lock, sees the last committed state
        try:
            yield SqliteConnection(conn)
        finally:
            conn.close()

    def migrate(self) -> list[str]:
        """Apply the missing migrations in one `BEGIN IMMEDIATE` transaction: a second process waits for
        the lock (up to 30 s), then finds them applied. SQLite's DDL is transactional, so a failing
        migration leaves the database as it was."""
        try:
            create_private(self.path)
            conn = self._connect()
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseUnavailable(f"cannot open the SQLite database {self.path} (AUTH_DB_PATH): {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # not inside a transaction; it stays set in the file
            with immediate(conn):
                conn.execute(SCHEMA_MIGRATIONS)
                applied: dict[int, str] = dict(
                    conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
                )
                todo = plan(self.kind, applied, str(self.path))
                for migration in todo:
                    for statement in statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                        (migration.version, migration.name, migration.checksum, time.time()),
                    )
                    log.info("%s: applied %s", self.path, migration.where)
        finally:
            conn.close()
        return [m.name for m in todo]
