"""SQLite storage for users and tokens (stdlib `sqlite3`), used only by `lib/controllers`.

One short-lived connection per unit of work; every write runs in `BEGIN IMMEDIATE`, which takes
the database's write lock before reading, so two refreshes of the same token are serialised: the
second sees the first one's `used_at` and never issues a second pair. WAL mode lets readers go on
while one writer works. Tokens are stored only as SHA-256 hashes (they are 256-bit random values,
so a fast hash is enough); passwords as scrypt hashes, `scrypt$N$r$p$salt$digest`, at N=2^17, r=8,
p=1 by default (OWASP; `PASSWORD_HASH_N` lowers N for tests). Each hash takes 128 MiB, so at most
one per CPU runs at a time in a process: a burst of logins queues instead of exhausting memory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lib import config

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
SCRYPT_R = 8
SCRYPT_P = 1
_hash_slots = threading.BoundedSemaphore(os.cpu_count() or 1)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS token_families (
    id             TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    created_at     REAL NOT NULL,
    revoked_at     REAL,
    revoked_reason TEXT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES token_families(id),
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at    REAL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES token_families(id),
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_window ON login_failures(window_start);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX IF NOT EXISTS access_tokens_family ON access_tokens(family_id);
"""

_ready: set[Path] = set()
_ready_lock = threading.Lock()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # OpenSSL refuses to use more than `maxmem` (32 MiB by default): allow exactly what N, r, p need.
    with _hash_slots:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * (n + p + 2))


def current_parameters() -> tuple[int, int, int]:
    """(N, r, p) for new password hashes."""
    return config.password_hash_n(), SCRYPT_R, SCRYPT_P


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$digest` at the current parameters (the parameters travel with the hash)."""
    salt = salt if salt is not None else os.urandom(16)
    n, r, p = current_parameters()
    return f"scrypt${n}${r}${p}${salt.hex()}${_scrypt(password, salt, n, r, p).hex()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, str] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        return int(parts[1]), int(parts[2]), int(parts[3]), bytes.fromhex(parts[4]), parts[5]
    except ValueError:
        return None


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, hashed again with the parameters and salt stored in it."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, digest = parsed
    try:
        actual = _scrypt(password, salt, n, r, p)
    except (ValueError, OverflowError, MemoryError):  # parameters OpenSSL refuses
        return False
    return hmac.compare_digest(actual.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than the current ones (redo it at the next login)."""
    parsed = _parse(stored)
    return parsed is None or parsed[:3] != current_parameters()


def dummy_hash() -> str:
    """A hash no password matches, at the current parameters: checking it costs what a real one does."""
    n, r, p = current_parameters()
    return f"scrypt${n}${r}${p}${'00' * 16}${'00' * 64}"


def set_password_hash(conn: sqlite3.Connection, user_id: int, old_hash: str, new_hash: str) -> bool:
    """Replace a user's hash only if it is still `old_hash` (nobody changed the password meanwhile)."""
    cursor = conn.execute(
        "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", (new_hash, user_id, old_hash)
    )
    return cursor.rowcount == 1


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _create_private(path: Path) -> None:
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


def _prepare(path: Path) -> None:
    """Create the folder, the schema and (when `config.demo_user()`) the demo user, once per process and path."""
    with _ready_lock:
        if path in _ready:
            return
        _create_private(path)
        conn = _connect(path)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            has_demo = conn.execute("SELECT 1 FROM users WHERE username = ?", (DEMO_USERNAME,)).fetchone() is not None
            if config.demo_user():
                if not has_demo:  # OR IGNORE: another worker process may have created it meanwhile
                    conn.execute(
                        "INSERT OR IGNORE INTO users (username, password_hash) VALUES (?, ?)",
                        (DEMO_USERNAME, hash_password(DEMO_PASSWORD)),
                    )
            elif has_demo:
                log.warning(
                    "%s has a user named %r but DEMO_USER is off (FRAMEWORK_ENV=%s). If it is the demo "
                    "user, its password is published: delete it, or set DEMO_USER=1 if you mean to keep it.",
                    path,
                    DEMO_USERNAME,
                    os.environ.get("FRAMEWORK_ENV", ""),
                )
        finally:
            conn.close()
        _ready.add(path)


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """A write transaction holding the database lock from its first statement; commits or rolls back."""
    path = config.db_path()
    _prepare(path)
    conn = _connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


@contextmanager
def reader() -> Iterator[sqlite3.Connection]:
    """A connection for reads only (autocommit): no write lock, sees the last committed state."""
    path = config.db_path()
    _prepare(path)
    conn = _connect(path)
    try:
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class RefreshRow:
    family_id: str
    user_id: int
    expires_at: float
    used_at: float | None
    family_revoked_at: float | None


@dataclass(frozen=True, slots=True)
class AccessRow:
    family_id: str
    username: str
    expires_at: float


def find_user(conn: sqlite3.Connection, username: str) -> User | None:
    row = conn.execute("SELECT id, username, password_hash FROM users WHERE username = ?", (username,)).fetchone()
    return User(row["id"], row["username"], row["password_hash"]) if row else None


def add_user(conn: sqlite3.Connection, username: str, password: str) -> int:
    """Store a new user with a scrypt hash of `password`; returns its id (IntegrityError if the name is taken)."""
    cursor = conn.execute(
        "INSERT INTO users (username, password_hash) VALUES (?, ?)", (username, hash_password(password))
    )
    return int(cursor.lastrowid or 0)


def new_family(conn: sqlite3.Connection, family_id: str, user_id: int, now: float) -> None:
    conn.execute("INSERT INTO token_families (id, user_id, created_at) VALUES (?, ?, ?)", (family_id, user_id, now))


def add_refresh(conn: sqlite3.Connection, token: str, family_id: str, now: float, expires_at: float) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (hash_token(token), family_id, now, expires_at),
    )


def add_access(conn: sqlite3.Connection, token: str, family_id: str, expires_at: float) -> None:
    conn.execute(
        "INSERT INTO access_tokens (token_hash, family_id, expires_at) VALUES (?, ?, ?)",
        (hash_token(token), family_id, expires_at),
    )


def find_refresh(conn: sqlite3.Connection, token: str) -> RefreshRow | None:
    row = conn.execute(
        "SELECT r.family_id, f.user_id, r.expires_at, r.used_at, f.revoked_at FROM refresh_tokens r "
        "JOIN token_families f ON f.id = r.family_id WHERE r.token_hash = ?",
        (hash_token(token),),
    ).fetchone()
    return RefreshRow(*row) if row else None


def mark_used(conn: sqlite3.Connection, token: str, now: float) -> bool:
    """Mark a refresh token used; False when it already was (the caller holds the write lock anyway)."""
    cursor = conn.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", (now, hash_token(token))
    )
    return cursor.rowcount == 1


def revoke_family(conn: sqlite3.Connection, family_id: str, now: float, reason: str) -> None:
    """End a login: none of its refresh or access tokens is accepted again."""
    conn.execute(
        "UPDATE token_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
        (now, reason, family_id),
    )
    revoke_access_tokens(conn, family_id)


def revoke_access_tokens(conn: sqlite3.Connection, family_id: str) -> None:
    """Delete every access token of a family; a rotation does it before issuing the one that replaces them."""
    conn.execute("DELETE FROM access_tokens WHERE family_id = ?", (family_id,))


def access_family(conn: sqlite3.Connection, token: str) -> str | None:
    """The family of an access token, expired or not (for logout, which needs no valid one)."""
    row = conn.execute("SELECT family_id FROM access_tokens WHERE token_hash = ?", (hash_token(token),)).fetchone()
    return row[0] if row else None


def find_access(conn: sqlite3.Connection, token: str) -> AccessRow | None:
    row = conn.execute(
        "SELECT a.family_id, u.username, a.expires_at FROM access_tokens a "
        "JOIN token_families f ON f.id = a.family_id JOIN users u ON u.id = f.user_id "
        "WHERE a.token_hash = ? AND f.revoked_at IS NULL",
        (hash_token(token),),
    ).fetchone()
    return AccessRow(*row) if row else None


def delete_expired_access(conn: sqlite3.Connection, now: float) -> None:
    conn.execute("DELETE FROM access_tokens WHERE expires_at <= ?", (now,))


def reserve_login_attempt(
    conn: sqlite3.Connection, limits: Mapping[str, int], window: float, now: float
) -> float | None:
    """Count one failed sign-in against every key of `limits`, unless one is already at its limit:
    then count nothing and return the seconds until that key's window ends.

    Called in a `BEGIN IMMEDIATE` transaction before the password is checked, so concurrent attempts,
    in any worker process, are serialised and none slips past a limit; a successful sign-in gives its
    attempt back (`forgive_login_attempt`). A key's window starts at its first failure; windows that
    have ended are deleted here, which keeps the table as small as the recent failures.
    """
    conn.execute("DELETE FROM login_failures WHERE window_start <= ?", (now - window,))
    wait = 0.0
    for key, limit in limits.items():
        row = conn.execute("SELECT failures, window_start FROM login_failures WHERE key = ?", (key,)).fetchone()
        if row is not None and row["failures"] >= limit:
            wait = max(wait, row["window_start"] + window - now)
    if wait > 0:
        return wait
    for key in limits:
        conn.execute(
            "INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?) "
            "ON CONFLICT (key) DO UPDATE SET failures = failures + 1",
            (key, now),
        )
    return None


def forgive_login_attempt(conn: sqlite3.Connection, *, reset: Iterable[str], refund: Iterable[str]) -> None:
    """After a successful sign-in: forget the failures of the `reset` keys, and take back the one
    attempt `reserve_login_attempt` counted against each `refund` key (its other failures stay)."""
    for key in reset:
        conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
    for key in refund:
        conn.execute("UPDATE login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0", (key,))
