"""PostgreSQL through psycopg 3 and a `psycopg_pool` pool per process, chosen by `DATABASE_URL`.

Several processes, on several machines, share one database, so whatever one of them decides from a
row must hold against the others. Transactions run at `READ COMMITTED` (the default) and take locks
where a decision needs one:

- `conn.for_update` (`FOR UPDATE`) on the SELECT of a refresh token and its family: a second rotation
  of the same token, on any machine, waits for the first to commit and then reads its `used_at`
  (reuse: the family is revoked), never the row as it was before.
- `conn.serialise(keys)`: `pg_advisory_xact_lock` per sign-in limit key, in sorted order (no
  deadlock), held to the end of the transaction, so counting a failure and checking the limit are one
  step for all processes, also for a key whose row does not exist yet.
- migrations: `pg_advisory_xact_lock` on one fixed key around the whole run, in one transaction (the
  DDL is transactional): a second process starting at the same moment waits, then finds nothing to do.

Every pooled connection is checked before it is handed out (one round trip), so a restarted or
failed-over server costs reconnects, not failed requests.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from lib import config
from lib.db import Connection, Cursor, Database, DatabaseUnavailable, IntegrityError
from lib.db.migrations import SCHEMA_MIGRATIONS, plan

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # DATABASE_URL set after lib.config checked it at import, or a broken install
    raise config.ConfigError(
        config.postgres_driver_missing(os.environ.get("DATABASE_URL", "")) or f"cannot import psycopg: {exc}"
    ) from exc

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10  # seconds, for each new connection (libpq's connect_timeout)
# Two-key advisory locks (a key space apart from the one-bigint form): the first key names their use.
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('lib.db.migrate'), 0)"
SERIALISE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('lib.db.serialise'), hashtext(%s))"


@lru_cache(maxsize=256)
def _psycopg_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled). The app's SQL has no `?` or `%` in strings."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection(Connection):
    for_update = " FOR UPDATE"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        try:
            if params:
                return self._conn.execute(_psycopg_sql(sql), params)
            return self._conn.execute(sql)  # no params: no placeholder parsing
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def serialise(self, keys: Iterable[str]) -> None:
        for key in sorted(set(keys)):  # one order for every transaction: none waits for another in a cycle
            self._conn.execute(SERIALISE_LOCK, (key,))


class PostgresDatabase(Database):
    kind = "postgres"

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.pool_size = pool_size
        self._pool: ConnectionPool[Any] | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        return self.url

    def describe(self) -> str:
        return config.redacted(self.url)

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"cannot connect to PostgreSQL at DATABASE_URL={self.describe()!r} (check that the server is running "
            f"and accepts this user from this machine in pg_hba.conf, and the URL's host, port, user, password "
            f"and database name): {str(exc).strip()}"
        )

    def pool(self) -> ConnectionPool[Any]:
        """This process's pool, opened on first use (a forked child opens its own)."""
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                pool: ConnectionPool[Any] = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT},
                    check=ConnectionPool.check_connection,
                    name="lib.db",
                    open=False,
                )
                try:
                    pool.open(wait=True, timeout=CONNECT_TIMEOUT + 5)
                except Exception as exc:  # PoolTimeout: the reason is in the log; connect once to show it
                    pool.close()
                    try:
                        psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
                    except psycopg.Error as reason:
                        raise self._unavailable(reason) from exc
                    raise self._unavailable(exc) from exc
                atexit.register(pool.close)
                self._pool, self._pool_pid = pool, os.getpid()
            return self._pool

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.pool().connection() as conn:  # commits at the end of the block, rolls back if it raises
            yield PostgresConnection(conn)

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        with self.pool().connection() as conn:
            yield PostgresConnection(conn)

    def migrate(self) -> list[str]:
        try:
            conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from exc
        with conn:  # one transaction: commits at the end, rolls back everything if a migration fails
            conn.execute(MIGRATION_LOCK)  # held until the commit: one process migrates at a time
            conn.execute(SCHEMA_MIGRATIONS)
            applied: dict[int, str] = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
            todo = plan(self.kind, applied, self.describe())
            for migration in todo:
                conn.execute(migration.sql.encode())  # no parameters: the file's statements run as one script
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (%s, %s, %s, %s)",
                    (migration.version, migration.name, migration.checksum, time.time()),
                )
                log.info("%s: applied %s", self.describe(), migration.where)
        return [m.name for m in todo]

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None
