"""The schema's versions: one SQL file per version and backend, applied in order, each exactly once.

```
lib/migrations/
  sqlite/0001_initial.sql       lib/migrations/postgres/0001_initial.sql
  sqlite/0002_<what>.sql        lib/migrations/postgres/0002_<what>.sql
```

Each backend has its own files because their DDL differs where it matters (an auto-numbered key,
`DOUBLE PRECISION`, what `ALTER TABLE` can do); the test suite checks that both folders hold the same
versions under the same names and end in the same tables and columns. The table `schema_migrations`
records each version applied, with the SHA-256 of its file: a file changed after it was applied
stops the start (the change belongs in a new file), and a version the database has but the code
does not (older code during a rolling deploy) is a warning, not an error.

The backends run `plan()` while holding their migration lock, so of two processes starting at once
one applies and the other then finds nothing to do.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the project: messages name files from here
FOLDER = ROOT / "lib" / "migrations"
NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

#: The bookkeeping table, the same SQL on both backends; created before the first migration.
SCHEMA_MIGRATIONS = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""


class MigrationError(RuntimeError):
    """The migration files, or what the database recorded of them, cannot be applied as they are."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # the file name without .sql: 0001_initial
    path: Path
    sql: str
    checksum: str

    @property
    def where(self) -> str:
        """The file, from the project root when it is the project's own."""
        try:
            return self.path.relative_to(ROOT).as_posix()
        except ValueError:
            return str(self.path)


def load(kind: str) -> list[Migration]:
    """The migrations of one backend in version order, checked: names `NNNN_what.sql`, versions 1, 2, 3..."""
    directory = FOLDER / kind
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(
                f"{path}: a migration is named NNNN_what.sql (four digits, then lowercase letters, digits "
                f"and underscores), like 0002_add_email.sql; rename it"
            )
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")  # the same checksum after a CRLF checkout
        checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
        migrations.append(Migration(int(match.group(1)), path.stem, path, text, checksum))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"{directory}: expected version {expected:04d} next, found {migration.path.name}; versions "
                f"run 0001, 0002, ... without gaps or repeats: renumber the new file"
            )
    if not migrations:
        raise MigrationError(f"{directory} holds no migration: it needs at least 0001_initial.sql")
    return migrations


def plan(kind: str, applied: Mapping[int, str], where: str) -> list[Migration]:
    """The migrations to apply to a database that recorded `applied` ({version: checksum}); `where` names it."""
    migrations = load(kind)
    known = {m.version: m for m in migrations}
    for version, checksum in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            log.warning(
                "%s has migration %04d applied, which this code does not have: it is older than the "
                "database's schema (a rolling deploy in progress?); migrations must keep older code working",
                where,
                version,
            )
        elif migration.checksum != checksum:
            raise MigrationError(
                f"{migration.where} was changed after it was applied to {where}: a migration never changes once "
                f"applied. Restore it (git checkout -- {migration.where}) and put the change in a new file, "
                f"{len(migrations) + 1:04d}_<what>.sql, in lib/migrations/sqlite/ and lib/migrations/postgres/"
            )
    return [m for m in migrations if m.version not in applied]


def statements(script: str) -> list[str]:
    """A script cut into single statements for sqlite3 (whose `executescript` would commit the open
    transaction first), using SQLite's own notion of a complete statement (so `;` in strings and in
    trigger bodies stay inside their statement)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                found.append(pending.strip())
            pending = ""
    if pending.strip() and not all(part.strip().startswith("--") or not part.strip() for part in pending.splitlines()):
        raise MigrationError(f"the script ends in an unfinished statement (a missing `;`?): {pending.strip()[:80]}")
    return found
