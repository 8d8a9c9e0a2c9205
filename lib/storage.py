"""Users and tokens for `lib/controllers`, the only code that imports this module: every query, once.

The queries run on SQLite (the default, one file) or PostgreSQL (`DATABASE_URL`, shared by every
process and machine) through `lib/db`, which hides how each opens a transaction and keeps concurrent
ones apart: a query that decides from rows it then changes asks for `conn.for_update` (a row lock on
PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the whole database) or `conn.serialise(keys)`.
The schema comes from `lib/migrations/<backend>/NNNN_*.sql`, applied before the first unit of work
in each process (`prepare`), and at import when `framework start` or `framework dev` serves the app,
so a bad `DATABASE_URL` or a failing migration stops the start instead of the first request.

Tokens are stored only as SHA-256 hashes (they are 256-bit random values, so a fast hash is enough);
passwords as scrypt hashes, `scrypt$N$r$p$salt$digest`, at N=2^17, r=8, p=1 by default (OWASP;
`PASSWORD_HASH_N` lowers N for tests). Each hash takes 128 MiB, so at most one per CPU runs at a time
in a process: a burst of logins queues instead of exhausting memory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from lib import config, db
from lib.db import Connection

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
SCRYPT_R = 8
SCRYPT_P = 1
_hash_slots = threading.BoundedSemaphore(os.cpu_count() or 1)

_ready: set[str] = set()  # the databases prepared in this process (their `key`)
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


def set_password_hash(conn: Connection, user_id: int, old_hash: str, new_hash: str) -> bool:
    """Replace a user's hash only if it is still `old_hash` (nobody changed the password meanwhile)."""
    cursor = conn.execute(
        "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", (new_hash, user_id, old_hash)
    )
    return cursor.rowcount == 1


def prepare(database: db.Database) -> None:
    """Migrate the database and create (when `config.demo_user()`) the demo user, once per process and database."""
    with _ready_lock:
        if database.key in _ready:
            return
        database.migrate()
        with database.reader() as conn:
            has_demo = conn.execute("SELECT 1 FROM users WHERE username = ?", (DEMO_USERNAME,)).fetchone() is not None
        if config.demo_user():
            if not has_demo:  # DO NOTHING: another process may have created it meanwhile
                password_hash = hash_password(DEMO_PASSWORD)  # before the transaction: no lock held while hashing
                with database.transaction() as conn:
                    conn.execute(
                        "INSERT INTO users (username, password_hash) VALUES (?, ?) ON CONFLICT (username) DO NOTHING",
                        (DEMO_USERNAME, password_hash),
                    )
        elif has_demo:
            log.warning(
                "%s has a user named %r but DEMO_USER is off (FRAMEWORK_ENV=%s). If it is the demo "
                "user, its password is published: delete it, or set DEMO_USER=1 if you mean to keep it.",
                database.describe(),
                DEMO_USERNAME,
                os.environ.get("FRAMEWORK_ENV", ""),
            )
        _ready.add(database.key)


def database() -> db.Database:
    """The database the settings name (`lib.db.current()`), migrated and ready."""
    found = db.current()
    prepare(found)
    return found


@contextmanager
def transaction() -> Iterator[Connection]:
    """A write transaction; commits at the end of the block, rolls back if it raises.

    On SQLite it holds the database's write lock from its first statement; on PostgreSQL, take row
    locks with `conn.for_update` (or `conn.serialise`) where a decision rests on what was read.
    """
    with database().transaction() as conn:
        yield conn


@contextmanager
def reader() -> Iterator[Connection]:
    """A connection for reads only: no write lock, sees the last committed state."""
    with database().reader() as conn:
        yield conn


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


def find_user(conn: Connection, username: str) -> User | None:
    row = conn.execute("SELECT id, username, password_hash FROM users WHERE username = ?", (username,)).fetchone()
    return User(*row) if row else None


def add_user(conn: Connection, username: str, password: str) -> int:
    """Store a new user with a scrypt hash of `password`; returns its id (`lib.db.IntegrityError` if the name
    is taken)."""
    row = conn.execute(
        "INSERT INTO users (username, password_hash) VALUES (?, ?) RETURNING id", (username, hash_password(password))
    ).fetchone()
    return int(row[0])


def new_family(conn: Connection, family_id: str, user_id: int, now: float) -> None:
    conn.execute("INSERT INTO token_families (id, user_id, created_at) VALUES (?, ?, ?)", (family_id, user_id, now))


def add_refresh(conn: Connection, token: str, family_id: str, now: float, expires_at: float) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (hash_token(token), family_id, now, expires_at),
    )


def add_access(conn: Connection, token: str, family_id: str, expires_at: float) -> None:
    conn.execute(
        "INSERT INTO access_tokens (token_hash, family_id, expires_at) VALUES (?, ?, ?)",
        (hash_token(token), family_id, expires_at),
    )


def find_refresh(conn: Connection, token: str, *, lock: bool = False) -> RefreshRow | None:
    """A refresh token and its family. `lock=True` before changing them (a rotation): the token's and the
    family's rows stay locked to the end of the transaction, so a concurrent rotation of the same token,
    in any process on any machine, waits and then reads this one's `used_at`."""
    row = conn.execute(
        "SELECT r.family_id, f.user_id, r.expires_at, r.used_at, f.revoked_at FROM refresh_tokens r "
        "JOIN token_families f ON f.id = r.family_id WHERE r.token_hash = ?" + (conn.for_update if lock else ""),
        (hash_token(token),),
    ).fetchone()
    return RefreshRow(*row) if row else None


def mark_used(conn: Connection, token: str, now: float) -> bool:
    """Mark a refresh token used; False when it already was (the caller holds its row lock anyway)."""
    cursor = conn.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", (now, hash_token(token))
    )
    return cursor.rowcount == 1


def revoke_family(conn: Connection, family_id: str, now: float, reason: str) -> None:
    """End a login: none of its refresh or access tokens is accepted again."""
    conn.execute(
        "UPDATE token_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
        (now, reason, family_id),
    )
    revoke_access_tokens(conn, family_id)


def revoke_access_tokens(conn: Connection, family_id: str) -> None:
    """Delete every access token of a family; a rotation does it before issuing the one that replaces them."""
    conn.execute("DELETE FROM access_tokens WHERE family_id = ?", (family_id,))


def access_family(conn: Connection, token: str) -> str | None:
    """The family of an access token, expired or not (for logout, which needs no valid one)."""
    row = conn.execute("SELECT family_id FROM access_tokens WHERE token_hash = ?", (hash_token(token),)).fetchone()
    return row[0] if row else None


def find_access(conn: Connection, token: str) -> AccessRow | None:
    row = conn.execute(
        "SELECT a.family_id, u.username, a.expires_at FROM access_tokens a "
        "JOIN token_families f ON f.id = a.family_id JOIN users u ON u.id = f.user_id "
        "WHERE a.token_hash = ? AND f.revoked_at IS NULL",
        (hash_token(token),),
    ).fetchone()
    return AccessRow(*row) if row else None


def delete_expired_access(conn: Connection, now: float) -> None:
    conn.execute("DELETE FROM access_tokens WHERE expires_at <= ?", (now,))


def reserve_login_attempt(conn: Connection, limits: Mapping[str, int], window: float, now: float) -> float | None:
    """Count one failed sign-in against every key of `limits`, unless one is already at its limit:
    then count nothing and return the seconds until that key's window ends.

    Called before the password is checked, with the keys serialised (`conn.serialise`: SQLite's write
    lock, or PostgreSQL advisory locks), so concurrent attempts, in any process on any machine, take
    turns and none slips past a limit; a successful sign-in gives its attempt back
    (`forgive_login_attempt`). A key's window starts at its first failure; windows that have ended
    are deleted here, which keeps the table as small as the recent failures.
    """
    conn.serialise(limits)
    conn.execute("DELETE FROM login_failures WHERE window_start <= ?", (now - window,))
    wait = 0.0
    for key, limit in limits.items():
        row = conn.execute("SELECT failures, window_start FROM login_failures WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0] >= limit:
            wait = max(wait, row[1] + window - now)
    if wait > 0:
        return wait
    for key in limits:
        conn.execute(
            "INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?) "
            "ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1",
            (key, now),
        )
    return None


def forgive_login_attempt(conn: Connection, *, reset: Iterable[str], refund: Iterable[str]) -> None:
    """After a successful sign-in: forget the failures of the `reset` keys, and take back the one
    attempt `reserve_login_attempt` counted against each `refund` key (its other failures stay)."""
    reset, refund = list(reset), list(refund)
    conn.serialise([*reset, *refund])
    for key in reset:
        conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
    for key in refund:
        conn.execute("UPDATE login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0", (key,))


if os.environ.get("FRAMEWORK_ENV"):
    # Imported by a served app (`framework start`, each of its workers, `framework dev`): migrate now, so
    # a wrong DATABASE_URL or a failing migration stops the start with its message rather than failing
    # requests. Other imports (`framework check`, tests, tools) wait for their first unit of work.
    database()
