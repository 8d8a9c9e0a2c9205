"""Issuing and clearing the auth cookies, shared by the login and refresh controllers."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from framework.headers import cookies, scheme
from lib import config, storage
from lib.db import Connection


@dataclass(frozen=True, slots=True)
class Issued:
    """A new token pair; the raw tokens only ever travel in cookies."""

    family_id: str
    access_expires_at: float
    refresh_expires_at: float


def names() -> config.AuthCookies:
    """The auth cookies' names and `Secure` flag for the current request (`__Host-` names over https)."""
    return config.auth_cookies(scheme())


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def issue(conn: Connection, family_id: str, now: float | None = None) -> Issued:
    """Store a new access and refresh token for `family_id` and queue both cookies."""
    now = time.time() if now is None else now
    access, refresh = new_token(), new_token()
    access_seconds, refresh_seconds = config.access_token_seconds(), config.refresh_token_seconds()
    issued = Issued(family_id, now + access_seconds, now + refresh_seconds)
    storage.add_access(conn, access, family_id, issued.access_expires_at)
    storage.add_refresh(conn, refresh, family_id, now, issued.refresh_expires_at)
    storage.delete_expired_access(conn, now)
    auth, jar = names(), cookies()  # Path=/ and no Domain, as the __Host- prefix requires
    jar.set(auth.access, access, max_age=access_seconds, path="/", httponly=True, samesite="lax", secure=auth.secure)
    jar.set(auth.refresh, refresh, max_age=refresh_seconds, path="/", httponly=True, samesite="lax", secure=auth.secure)
    return issued


def clear() -> None:
    """Queue the deletion of both auth cookies."""
    auth, jar = names(), cookies()
    for name in (auth.access, auth.refresh):  # a __Host- cookie is only replaced by one with Secure
        jar.delete(name, path="/", httponly=True, samesite="lax", secure=auth.secure)
