"""Settings of the example app, read from the environment at each use (so tests can change them).

| variable                | default                 | meaning                                              |
|-------------------------|-------------------------|------------------------------------------------------|
| `DATABASE_URL`          | unset                   | `postgresql://user:password@host:5432/dbname`: keep users and tokens in PostgreSQL (the `postgres` extra), shared by every process and machine; unset: SQLite at `AUTH_DB_PATH` |
| `DATABASE_POOL_SIZE`    | `10`                    | PostgreSQL connections per process, at most (the pool keeps one open when idle) |
| `AUTH_DB_PATH`          | `.data/auth.sqlite3`    | SQLite file for users and tokens when `DATABASE_URL` is unset (created on first use, mode 0600) |
| `ACCESS_TOKEN_SECONDS`  | `300`                   | access-token lifetime (tests use 2-3 s)              |
| `REFRESH_TOKEN_SECONDS` | `1209600` (14 days)     | refresh-token lifetime, renewed at each rotation     |
| `COOKIE_SECURE`         | `auto`                  | `1`/`0`; `auto`: Secure when the request's scheme is https. Secure cookies are named `__Host-access_token` / `__Host-refresh_token` |
| `FILES_DIR`             | `data/files`            | the folder `/api/files/[name]` serves from            |
| `PASSWORD_HASH_N`       | `131072` (2^17)         | scrypt cost N for password hashes (r=8, p=1; OWASP); a power of two. Tests lower it to stay fast; hashes at other parameters are redone at the next login |
| `LOGIN_LIMIT_PER_ACCOUNT` | `10`                | failed sign-ins per user name per window, then 429 (a success resets it) |
| `LOGIN_LIMIT_PER_ADDRESS` | `100`               | failed sign-ins per client address (IPv6: per /64) per window, then 429 |
| `LOGIN_LIMIT_WINDOW_SECONDS` | `900` (15 min)   | the window: counting starts at a key's first failure and ends this long after |
| `DEMO_USER`             | unset                   | `1`: create the `demo` user; `0`: never; unset: only under `framework dev` (`FRAMEWORK_ENV=development`) |

Relative paths are taken from the project root (the folder holding `app/` and `lib/`).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
SECURE_PREFIX = "__Host-"


@dataclass(frozen=True, slots=True)
class AuthCookies:
    """The auth cookies' names and `Secure` flag for one request (see `auth_cookies`)."""

    secure: bool
    access: str
    refresh: str


class ConfigError(ValueError):
    """An environment variable with a value the app cannot use; the message names it."""


def _path(name: str, default: str) -> Path:
    path = Path(os.environ.get(name) or default)
    return path if path.is_absolute() else ROOT / path


def _flag(name: str, raw: str) -> bool | None:
    """`1`/`true`/`yes` -> True, `0`/`false`/`no` -> False, empty -> None; anything else names the variable."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    if value == "":
        return None
    raise ConfigError(f"{name}={raw!r}: expected 1 or 0")


def _whole(name: str, default: int, unit: str = "seconds") -> int:
    """A whole number >= 1 from the environment, or `default`; anything else names the variable."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: expected a whole number of {unit} >= 1, e.g. {name}={default}")
    return value


MAX_PASSWORD_HASH_N = 2**20  # 1 GiB of memory per hash at r=8: anything above is a typo


def password_hash_n() -> int:
    """scrypt's N (CPU and memory cost: 128 * r * N bytes, 128 MiB at the default) for new password hashes."""
    raw = os.environ.get("PASSWORD_HASH_N")
    if raw is None or raw == "":
        return 2**17
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 2 or value > MAX_PASSWORD_HASH_N or value & (value - 1):
        raise ConfigError(
            f"PASSWORD_HASH_N={raw!r}: expected a power of two from 2 to {MAX_PASSWORD_HASH_N}, "
            f"e.g. PASSWORD_HASH_N=131072 (2**17, the default; tests may use 1024)"
        )
    return value


def db_path() -> Path:
    return _path("AUTH_DB_PATH", ".data/auth.sqlite3")


POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_EXTRA = "pip install -e '.[postgres]' (psycopg[binary] and psycopg-pool)"


def redacted(url: str) -> str:
    """`url` with its password replaced by `***`, for messages and logs.

    >>> redacted("postgresql://app:s3cret@db.internal:5432/app")
    'postgresql://app:***@db.internal:5432/app'
    """
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<DATABASE_URL, unparsable: not shown>"


def database_url() -> str | None:
    """`DATABASE_URL`, a `postgresql://` URL: PostgreSQL holds the data. Unset or empty: SQLite at `db_path()`.

    libpq's URL form, query parameters included (`?sslmode=require`, `?options=-csearch_path%3Dauth`).
    """
    raw = (os.environ.get("DATABASE_URL") or "").strip()
    if not raw:
        return None
    if raw.split(":", 1)[0].lower() not in POSTGRES_SCHEMES or "://" not in raw:
        raise ConfigError(
            f"DATABASE_URL={redacted(raw)!r}: expected a PostgreSQL URL, "
            f"postgresql://user:password@host:5432/dbname; unset it to keep the data in SQLite (AUTH_DB_PATH)"
        )
    return raw


def postgres_driver_missing(url: str) -> str | None:
    """What to do when `DATABASE_URL` asks for PostgreSQL and its driver is not installed; None when it is."""
    missing = [name for name in ("psycopg", "psycopg_pool") if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"DATABASE_URL={redacted(url)!r} needs the {' and '.join(missing)} package{'s' if len(missing) > 1 else ''}, "
        f"which {'are' if len(missing) > 1 else 'is'} not installed: {POSTGRES_EXTRA}, or unset DATABASE_URL to "
        f"keep the data in SQLite (AUTH_DB_PATH)"
    )


def database_pool_size() -> int:
    """The most PostgreSQL connections one process opens (each worker process has its own pool)."""
    return _whole("DATABASE_POOL_SIZE", 10, "connections")


def files_dir() -> Path:
    return _path("FILES_DIR", "data/files")


def access_token_seconds() -> int:
    return _whole("ACCESS_TOKEN_SECONDS", 300)


def refresh_token_seconds() -> int:
    return _whole("REFRESH_TOKEN_SECONDS", 14 * 24 * 3600)


def cookie_secure(scheme: str | None) -> bool:
    """Whether auth cookies get `Secure`; `scheme` is the request's (`framework.headers.scheme()`), for `auto`.

    The scheme, not the `Host` header: a client can send any Host, but not change how it connected
    (behind a TLS proxy, `framework start --proxy-headers` makes uvicorn take it from the trusted
    proxy's `X-Forwarded-Proto`).
    """
    raw = (os.environ.get("COOKIE_SECURE") or "auto").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    if raw != "auto":
        raise ConfigError(f"COOKIE_SECURE={raw!r}: expected 1, 0 or auto")
    return (scheme or "").lower() == "https"


def auth_cookies(scheme: str | None) -> AuthCookies:
    """Secure cookies are named `__Host-...`, plain ones without the prefix; `scheme` as for `cookie_secure`.

    Browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no `Domain`, and only from a
    secure origin: no subdomain or plain-http page can plant or overwrite one. Over https the app reads
    only the prefixed names, so a planted plain `access_token` is never looked at.
    """
    secure = cookie_secure(scheme)
    prefix = SECURE_PREFIX if secure else ""
    return AuthCookies(secure, prefix + ACCESS_COOKIE, prefix + REFRESH_COOKIE)


def login_limit_per_account() -> int:
    """Failed sign-ins allowed per user name in one window (a password guesser aiming at one account)."""
    return _whole("LOGIN_LIMIT_PER_ACCOUNT", 10, "failures")


def login_limit_per_address() -> int:
    """Failed sign-ins allowed per client address in one window (one machine trying many accounts)."""
    return _whole("LOGIN_LIMIT_PER_ADDRESS", 100, "failures")


def login_limit_window_seconds() -> int:
    return _whole("LOGIN_LIMIT_WINDOW_SECONDS", 15 * 60)


def demo_user() -> bool:
    """Whether the `demo` / `demo-password` user is created: `DEMO_USER`, else only under `framework dev`.

    Its password is published, so `framework start` (`FRAMEWORK_ENV=production`) never creates it
    unless asked to with `DEMO_USER=1`.
    """
    chosen = _flag("DEMO_USER", os.environ.get("DEMO_USER") or "")
    return chosen if chosen is not None else os.environ.get("FRAMEWORK_ENV") == "development"


def check() -> None:
    """Fail at startup (import time), naming the variable, rather than on the first request."""
    url = database_url()
    if url is not None and (missing := postgres_driver_missing(url)) is not None:
        raise ConfigError(missing)
    database_pool_size()
    cookie_secure(None)
    demo_user()
    password_hash_n()
    access_token_seconds()
    refresh_token_seconds()
    login_limit_per_account()
    login_limit_per_address()
    login_limit_window_seconds()


check()
