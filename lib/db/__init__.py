"""The database under `lib/storage.py`: SQLite in a file (the default) or PostgreSQL (`DATABASE_URL`).

`lib/storage.py` holds every query once, written for both; what differs between the two lives here,
in one small class per backend, because it is not SQL text but how a transaction is opened and how
concurrent ones are kept apart:

| | SQLite (`sqlite.py`) | PostgreSQL (`postgres.py`) |
|---|---|---|
| chosen by | `AUTH_DB_PATH`, when `DATABASE_URL` is unset | `DATABASE_URL` |
| connections | one per unit of work (opening a file is cheap) | a pool per process (`psycopg_pool`) |
| a write transaction | `BEGIN IMMEDIATE`: the whole database, across processes | `READ COMMITTED`, plus the locks the queries ask for |
| `conn.for_update` | `""` (the transaction is already exclusive) | `" FOR UPDATE"`: row locks on the rows a SELECT read |
| `conn.serialise(keys)` | nothing | a transaction-level advisory lock per key |
| migrations | `lib/migrations/sqlite/*.sql` under `BEGIN IMMEDIATE` | `lib/migrations/postgres/*.sql` under an advisory lock |

Queries use `?` placeholders on both (the PostgreSQL connection turns them into psycopg's `%s`),
and rows are plain tuples on both.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from lib import config


class IntegrityError(Exception):
    """A constraint refused a write (a taken user name, say), whichever backend refused it."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says which one and what to check."""


class Cursor(Protocol):
    """What `Connection.execute` returns on both backends (sqlite3's and psycopg's cursors)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(ABC):
    """One transaction's connection, the same to `lib/storage.py` whatever the backend."""

    #: Appended to a SELECT whose rows this transaction goes on to change, so that a concurrent
    #: transaction doing the same waits for this one to end and then reads what it wrote.
    for_update: str = ""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        """Run one statement with `?` placeholders; a constraint violation raises `IntegrityError`."""

    @abstractmethod
    def serialise(self, keys: Iterable[str]) -> None:
        """Until this transaction ends, other transactions that serialise on one of `keys` wait.

        For decisions over rows that may not exist yet (a first sign-in failure), where there is no
        row to lock.
        """


class Database(ABC):
    """A database the app's storage runs on."""

    kind: str  # "sqlite" or "postgres": also the folder of its migrations under lib/migrations/

    @property
    @abstractmethod
    def key(self) -> str:
        """What identifies this database in this process (its file, or its URL)."""

    @abstractmethod
    def describe(self) -> str:
        """The database for messages and logs, without secrets."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Connection]:
        """A unit of work that commits at the end, or rolls back if the block raises."""

    @abstractmethod
    def reader(self) -> AbstractContextManager[Connection]:
        """A connection for reads only, seeing what was committed."""

    @abstractmethod
    def migrate(self) -> list[str]:
        """Apply the migrations this database lacks, one process at a time; the names of those applied."""

    def close(self) -> None:  # noqa: B027  # optional: only a pool has something to give back
        """Give back what this database holds in this process (a pool's connections)."""


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def current() -> Database:
    """The database the settings name now: PostgreSQL at `DATABASE_URL` if set, else SQLite at `AUTH_DB_PATH`.

    One object per database per process, so a pool is opened once; the settings are read at each call
    (tests change them between calls).
    """
    url = config.database_url()
    key = url if url is not None else str(config.db_path())
    with _lock:
        found = _databases.get(key)
        if found is None:
            if url is not None:
                from lib.db.postgres import PostgresDatabase  # psycopg is only needed when asked for

                found = PostgresDatabase(url, config.database_pool_size())
            else:
                from lib.db.sqlite import SqliteDatabase

                found = SqliteDatabase(config.db_path())
            _databases[key] = found
    return found


def close_all() -> None:
    """Close every database opened in this process (their pools), e.g. between tests."""
    with _lock:
        databases = list(_databases.values())
        _databases.clear()
    for database in databases:
        database.close()
