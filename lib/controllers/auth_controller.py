"""Log in, log out, and who is signed in (from the access-token cookie)."""

from __future__ import annotations

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


def demo_credentials() -> tuple[str, str] | None:
    """The demo user's name and password, to show on the pages, when it exists (`config.demo_user()`)."""
    return (storage.DEMO_USERNAME, storage.DEMO_PASSWORD) if config.demo_user() else None


def login(username: str, password: str) -> Result[Issued]:
    """Check the password (scrypt), start a new token family, set both cookies.

    A stored hash at other scrypt parameters than the current ones is replaced by one at the current
    parameters (a one-time cost of a second hash at that login).
    """
    if not username or not password or len(username) > MAX_FIELD or len(password) > MAX_FIELD:
        return Result(error=ControllerError(400, "Enter a user name and a password"))
    with storage.reader() as conn:
        user = storage.find_user(conn, username)
    # Hash even for unknown users, so the answer takes as long either way.
    valid = storage.check_password(password, user.password_hash if user else storage.dummy_hash())
    if user is None or not valid:
        return Result(error=ControllerError(401, "Wrong user name or password"))
    # A hash made with older (or other) parameters is redone now, while the password is at hand.
    upgraded = storage.hash_password(password) if storage.needs_rehash(user.password_hash) else None
    now = time.time()
    with storage.transaction() as conn:
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
    refresh, access = cookies().get(config.REFRESH_COOKIE), cookies().get(config.ACCESS_COOKIE)
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
    return check_access_token(cookies().get(config.ACCESS_COOKIE))
