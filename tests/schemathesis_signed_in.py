"""Schemathesis hooks: every test case signed in afresh as the demo user, so the signed-in side of the
example app is exercised too (`SCHEMATHESIS_HOOKS=tests.schemathesis_signed_in`, `SIGN_IN_PORT=<port>`).

A fresh login per case (no caching) gives each request its own refresh token: one case's rotation never
makes another's token a replay.
"""

from __future__ import annotations

import http.client
import os
from http.cookies import SimpleCookie
from typing import Any

import schemathesis


@schemathesis.auth(refresh_interval=None, retry_on=[])
class SignedIn:
    def get(self, case: Any, context: Any) -> dict[str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", int(os.environ["SIGN_IN_PORT"]), timeout=10)
        try:
            conn.request(
                "POST",
                "/login",
                body=b"username=demo&password=demo-password",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            reply = conn.getresponse()
            reply.read()
        finally:
            conn.close()
        assert reply.status == 303, f"sign-in failed: {reply.status}"
        jar: SimpleCookie = SimpleCookie()
        for header in reply.headers.get_all("set-cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        case.cookies = {**(case.cookies or {}), **data}
