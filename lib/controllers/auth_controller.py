"""Log in, log out, and who is signed in (from the access-token cookie).

Sign-ins are rate-limited per user name and per client address; the counts live in the database,
so every worker process sees them, and with PostgreSQL (`DATABASE_URL`) every machine too:

| key                                      | limit per window (`LOGIN_LIMIT_WINDOW_SECONDS`, 900) | after a success |
|------------------------------------------|----------------------------------------------|-----------------|
| `account:<user name>` (existing or not)  | `LOGIN_LIMIT_PER_ACCOUNT` failures (10)      | reset to 0      |
| `address:<IPv4>`, `address:<IPv6 /64>`   | `LOGIN_LIMIT_PER_ADDRESS` failures (100)     | this attempt given back; earlier failures stay |

Over either limit the answer is 429 with `Retry-After`, before any password hash is computed. A
success resets the account's count (whoever succeeds knows its password) but not the address's:
otherwise an attacker could sign in to their own account now and then to wipe the count of their
guesses at everyone else's.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from dataclasses import dataclass

from framework.controllers import ControllerError, Result
from framework.headers import cookies
from lib import config, storage
from lib.controllers import tokens
from lib.controllers.tokens import Issued

MAX_FIELD = 256


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    access_expires_at: float


@dataclass(frozen=True, slots=True)
class LoginThrottled(ControllerError):
    """429: too many failed sign-ins; `retry_after` is the whole seconds until the blocking window ends."""

    retry_after: int = 1


def address_key(address: str | None) -> str | None:
    """The rate-limit key of a client address: the IPv4 address, or the /64 an IPv6 address is in (one
    subscriber usually holds a whole /64); None when the address is unknown (no per-address limit)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"address:{ip}"


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def demo_credentials() -> tuple[str, str] | None:
    """The demo user's name and password, to show on the pages, when it exists (`config.demo_user()`)."""
    return (storage.DEMO_USERNAME, storage.DEMO_PASSWORD) if config.demo_user() else None


def login(username: str, password: str, address: str | None) -> Result[Issued]:
    """Check the password (scrypt), start a new token family, set both cookies.

    `address` is the client's (`request.client.host`, which honours `--proxy-headers`). The attempt
    is counted as a failure before the password is checked, and given back if it succeeds (the
    module's table). A stored hash at other scrypt parameters than the current ones is replaced by
    one at the current parameters (a second hash, once).
    """
    if not username or not password or len(username) > MAX_FIELD or len(password) > MAX_FIELD:
        return Result(error=ControllerError(400, "Enter a user name and a password"))
    account = f"account:{username}"
    client = address_key(address)
    limits = {account: config.login_limit_per_account()}
    if client is not None:
        limits[client] = config.login_limit_per_address()
    with storage.transaction() as conn:
        wait = storage.reserve_login_attempt(conn, limits, config.login_limit_window_seconds(), time.time())
        user = storage.find_user(conn, username) if wait is None else None
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        return Result(
            error=LoginThrottled(429, f"Too many failed sign-in attempts. Try again in {_in_words(seconds)}.", seconds)
        )
    # Hash even for unknown users, so the answer takes as long either way.
    valid = storage.check_password(password, user.password_hash if user else storage.dummy_hash())
    if user is None or not valid:
        return Result(error=ControllerError(401, "Wrong user name or password"))
    # A hash made with older (or other) parameters is redone now, while the password is at hand.
    upgraded = storage.hash_password(password) if storage.needs_rehash(user.password_hash) else None
    now = time.time()
    with storage.transaction() as conn:
        storage.forgive_login_attempt(conn, reset=[account], refund=[client] if client else [])
        if upgraded is not None:
            storage.set_password_hash(conn, user.id, user.password_hash, upgraded)
        family_id = secrets.token_hex(16)
        storage.new_family(conn, family_id, user.id, now)
        issued = tokens.issue(conn, family_id, now)
    return Result(data=issued)


def logout() -> Result[None]:
    """Revoke this login's token family (its refresh and access tokens) and delete the cookies.

    The family is found from the refresh cookie or the access cookie, whichever is present (both when
    they differ), so a client that sends only its access token is signed out too.
    """
    auth = tokens.names()
    refresh, access = cookies().get(auth.refresh), cookies().get(auth.access)
    if refresh or access:
        with storage.transaction() as conn:
            families = set()
            if refresh and (row := storage.find_refresh(conn, refresh)) is not None:
                families.add(row.family_id)
            if access and (family_id := storage.access_family(conn, access)) is not None:
                families.add(family_id)
            now = time.time()
            for family_id in families:
                storage.revoke_family(conn, family_id, now, "logout")
    tokens.clear()
    return Result(data=None)


def check_access_token(token: str | None) -> Result[Session]:
    """The session an access token belongs to, if it is known, unexpired and its family not revoked."""
    if not token:
        return Result(error=ControllerError(401, "Not signed in"))
    with storage.reader() as conn:
        row = storage.find_access(conn, token)
    if row is None:
        return Result(error=ControllerError(401, "Not signed in"))
    if row.expires_at <= time.time():
        return Result(error=ControllerError(401, "Access token expired"))
    return Result(data=Session(row.username, row.expires_at))


def current_session() -> Result[Session]:
    """`check_access_token` for the access-token cookie of the current request."""
    return check_access_token(cookies().get(tokens.names().access))
