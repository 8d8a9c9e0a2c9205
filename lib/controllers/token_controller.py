"""`refresh_token()`: rotate the refresh token in the cookie, as the reference page's `refreshToken`.

| refresh-token cookie                       | result                                                      |
|--------------------------------------------|-------------------------------------------------------------|
| missing                                    | 401 "No refresh token"                                      |
| not in the database                        | 401 "Unknown refresh token"                                 |
| its family was revoked (logout, reuse)     | 401 "Refresh token revoked"                                 |
| already used once (stolen and replayed)    | 401 "Refresh token reused; the session was revoked", and the whole family is revoked |
| expired                                    | 401 "Refresh token expired"                                 |
| valid                                      | marked used; the family's access tokens revoked; a new access + refresh pair in the same family, both cookies set |

On every error both cookies are deleted, so the next page visit goes to the login form. The check
and the rotation run in one transaction that locks the token's row first (SQLite: the database's
write lock; PostgreSQL: `SELECT ... FOR UPDATE`): concurrent refreshes of one token, in any process
on any machine, issue exactly one new pair (the others wait, then see it used, which is reuse, and
revoke the family).
"""

from __future__ import annotations

import time

from framework.controllers import ControllerError, Result
from framework.headers import cookies
from lib import storage
from lib.controllers import tokens
from lib.controllers.tokens import Issued


def refresh_token() -> Result[Issued]:
    raw = cookies().get(tokens.names().refresh)
    if not raw:
        tokens.clear()
        return Result(error=ControllerError(401, "No refresh token"))
    now = time.time()
    error: str | None = None
    with storage.transaction() as conn:
        row = storage.find_refresh(conn, raw, lock=True)
        if row is None:
            error = "Unknown refresh token"
        elif row.family_revoked_at is not None:
            error = "Refresh token revoked"
        elif row.used_at is not None:
            storage.revoke_family(conn, row.family_id, now, "refresh token reused")
            error = "Refresh token reused; the session was revoked"
        elif row.expires_at <= now:
            error = "Refresh token expired"
        else:
            storage.mark_used(conn, raw, now)  # the row is locked: nobody marked it in between
            # The access token being replaced (and any other of this family) stops working now, not at
            # its expiry: whoever copied it cannot outlive the rotation.
            storage.revoke_access_tokens(conn, row.family_id)
            issued = tokens.issue(conn, row.family_id, now)
    if error is not None:
        tokens.clear()
        return Result(error=ControllerError(401, error))
    return Result(data=issued)
