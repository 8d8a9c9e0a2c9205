"""The example app's whole flow over real HTTP against `framework start` on the repository's own app/.

Login, dashboard, access-token expiry (2 s), refresh back to `returnTo`, replay of a rotated refresh
token (401 and the family revoked), logout, downloads (and path traversal), concurrent refreshes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO, Server, request, run_framework, wait_for

SECRET = "TOP-SECRET-OUTSIDE-THE-FOLDER"


@dataclass
class Site:
    server: Server
    db: Path
    files: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, follow_redirects=False, timeout=10)

    def signed_in(self) -> httpx.Client:
        c = self.client()
        r = c.post("/login", data={"username": "demo", "password": "demo-password"})
        assert r.status_code == 303, r.text
        return c

    def families(self) -> list[tuple[str, str | None]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT id, revoked_reason FROM token_families ORDER BY created_at").fetchall()


def serve(
    tmp_path_factory: pytest.TempPathFactory, access_seconds: int, *args: str, **env_overrides: str
) -> Iterator[Site]:
    """`framework start ARGS` on the repository's app, with its own database and files."""
    tmp = tmp_path_factory.mktemp("layout")
    files = tmp / "files"
    (files / "sub").mkdir(parents=True)
    (files / "welcome.txt").write_text("hello from the data folder\n", encoding="utf-8")
    (files / "report.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (files / "résumé.pdf").write_bytes(b"%PDF-1.4 fake\n")
    (files / ".hidden").write_text(SECRET, encoding="utf-8")
    (tmp / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(tmp / "secret.txt", files / "link-out.txt")
    os.symlink(files / "welcome.txt", files / "link-in.txt")
    db = tmp / "db" / "auth.sqlite3"
    env = {
        "AUTH_DB_PATH": str(db),
        "FILES_DIR": str(files),
        "ACCESS_TOKEN_SECONDS": str(access_seconds),
        "COOKIE_SECURE": "0",
        "DEMO_USER": "1",
        "PASSWORD_HASH_N": "1024",
    }  # fast scrypt for the many logins
    env.update(env_overrides)
    with run_framework(REPO, "start", "--no-access-log", *args, env=env) as server:
        yield Site(server, db, files)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Access tokens live the default 300 s: no test here races their expiry."""
    yield from serve(tmp_path_factory, 300)


@pytest.fixture(scope="module")
def short_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Access tokens live 2 s. (1 s works in a browser, but http.cookiejar, under httpx, truncates the
    receive time to whole seconds, so a `Max-Age=1` cookie can vanish a few milliseconds after login.)"""
    yield from serve(tmp_path_factory, 2)


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Behind a TLS-terminating proxy on 127.0.0.1 (`--proxy-headers`): `COOKIE_SECURE=auto`, and a small
    per-address login limit, the address coming from `X-Forwarded-For`."""
    yield from serve(tmp_path_factory, 300, "--proxy-headers", COOKIE_SECURE="auto", LOGIN_LIMIT_PER_ADDRESS="3")


def cookie_headers(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_login_dashboard_expiry_refresh_and_replay(short_site: Site) -> None:
    site = short_site
    c = site.client()
    r = c.get("/dashboard?tab=files")
    assert (r.status_code, r.headers["location"]) == (307, "/login?returnTo=%2Fdashboard%3Ftab%3Dfiles")
    r = c.get(r.headers["location"])
    assert r.status_code == 200 and '<form class="stack" method="post"' in r.text and "<script" not in r.text

    bad = c.post("/login?returnTo=%2Fdashboard", data={"username": "demo", "password": "nope"})
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text and not c.cookies

    r = c.post("/login?returnTo=%2Fdashboard%3Ftab%3Dfiles", data={"username": "demo", "password": "demo-password"})
    assert (r.status_code, r.headers["location"]) == (303, "/dashboard?tab=files")
    sent = cookie_headers(r)
    for name, max_age in (("access_token", "Max-Age=2"), ("refresh_token", "Max-Age=1209600")):
        attrs = sent[name].split("; ")
        assert {"HttpOnly", "Path=/", "SameSite=lax", max_age} <= set(attrs) and "Secure" not in attrs
    assert len(c.cookies["access_token"]) == 43 and len(c.cookies["refresh_token"]) == 43  # 256-bit tokens

    r = c.get("/dashboard?tab=files")
    assert r.status_code == 200 and '<dd id="user">demo</dd>' in r.text and "Access token expires" in r.text
    first_refresh = c.cookies["refresh_token"]

    # The access token lives 2 s: once expired, the proxy sends the client through the refresh route.
    expired = wait_for(
        lambda: (resp := c.get("/dashboard?tab=files")).status_code == 307 and resp,
        timeout=15,
        what="the access token to expire",
    )
    assert expired.headers["location"] == "/api/refresh-token?returnTo=%2Fdashboard%3Ftab%3Dfiles"
    r = c.get(expired.headers["location"])
    assert (r.status_code, r.headers["location"]) == (307, "/dashboard?tab=files")
    assert set(cookie_headers(r)) == {"access_token", "refresh_token"}
    assert c.cookies["refresh_token"] != first_refresh
    assert c.get(r.headers["location"]).status_code == 200

    # Replay the rotated (stolen) refresh token: 401, and the whole family is revoked.
    thief = site.client()
    thief.cookies.set("refresh_token", first_refresh)
    r = thief.get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "Refresh token reused; the session was revoked")
    # The legitimate user's newer tokens died with the family.
    r = c.get("/api/refresh-token?returnTo=%2Fdashboard")
    assert (r.status_code, r.text) == (401, "Refresh token revoked")
    assert c.get("/dashboard").status_code == 307
    assert "refresh token reused" in [reason for _, reason in site.families()]


@pytest.mark.parametrize(
    ("headers", "secure"),
    [
        ({}, False),
        ({"host": "app.example.com"}, False),  # a public Host over plain http: not Secure
        ({"host": "app.example.com", "x-forwarded-proto": "http"}, False),
        ({"x-forwarded-proto": "https"}, True),  # https at the proxy, even on 127.0.0.1: Secure
        ({"host": "app.example.com", "x-forwarded-proto": "https"}, True),
    ],
)
def test_cookie_secure_auto_follows_the_scheme_not_the_host(
    proxied_site: Site, headers: dict[str, str], secure: bool
) -> None:
    r = proxied_site.client().post("/login", data={"username": "demo", "password": "demo-password"}, headers=headers)
    assert r.status_code == 303, r.text
    sent = r.headers.get_list("set-cookie")
    assert len(sent) == 2 and all(("Secure" in h.split("; ")) is secure for h in sent), sent
    prefix = "__Host-" if secure else ""  # Secure cookies get the prefix browsers guard
    assert sorted(h.split("=", 1)[0] for h in sent) == [f"{prefix}access_token", f"{prefix}refresh_token"]


def test_behind_a_tls_proxy_the_host_prefixed_cookies_sign_in(proxied_site: Site) -> None:
    https = {"x-forwarded-proto": "https"}
    c = proxied_site.client()
    r = c.post("/login", data={"username": "demo", "password": "demo-password"}, headers=https)
    access = cookie_headers(r)["__Host-access_token"].split(";")[0]
    assert c.get("/dashboard", headers={**https, "cookie": access}).status_code == 200
    plain = access.replace("__Host-", "")
    assert c.get("/dashboard", headers={**https, "cookie": plain}).status_code == 307  # only the prefixed name


def test_the_login_limit_per_address_uses_the_forwarded_address(proxied_site: Site) -> None:
    def attempt(address: str, username: str, password: str = "wrong") -> httpx.Response:
        return proxied_site.client().post(
            "/login", data={"username": username, "password": password}, headers={"x-forwarded-for": address}
        )

    assert [attempt("198.51.100.1", name).status_code for name in ("ada", "bob", "carol")] == [401] * 3
    r = attempt("198.51.100.1", "demo", "demo-password")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 900
    assert "Too many failed sign-in attempts" in r.text
    assert attempt("198.51.100.2", "demo", "demo-password").status_code == 303  # another client


def test_refresh_errors_are_401_texts_and_clear_cookies(site: Site) -> None:
    c = site.client()
    r = c.get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "No refresh token")
    c.cookies.set("refresh_token", "x" * 43)
    r = c.get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "Unknown refresh token")
    deleted = cookie_headers(r)
    assert 'refresh_token=""' in deleted["refresh_token"] and "Max-Age=0" in deleted["refresh_token"]


@pytest.mark.parametrize(
    "return_to",
    ["//evil.com", "https://evil.com/", "/\\evil.com", "javascript:alert(1)", "http://127.0.0.1:1/", "/%2F%2Fevil.com"],
)
def test_refresh_never_redirects_off_site(site: Site, return_to: str) -> None:
    c = site.signed_in()
    r = c.get("/api/refresh-token", params={"returnTo": return_to})
    assert (r.status_code, r.headers["location"]) == (307, "/dashboard")


@pytest.mark.parametrize(
    ("return_to", "location"),
    [("http://evil.com/steal", "/steal"), ("/dashboard", "/dashboard"), ("//evil.com", "/dashboard")],
)
def test_a_forged_host_header_cannot_steer_the_redirect(site: Site, return_to: str, location: str) -> None:
    """`Host: evil.com` makes evil.com look like our own origin; the relative Location keeps the browser here."""
    c = site.signed_in()
    r = c.get("/api/refresh-token", params={"returnTo": return_to}, headers={"host": "evil.com"})
    assert (r.status_code, r.headers["location"]) == (307, location)


def test_login_with_unsafe_return_to_goes_to_dashboard(site: Site) -> None:
    c = site.client()
    r = c.post("/login", params={"returnTo": "//evil.com"}, data={"username": "demo", "password": "demo-password"})
    assert (r.status_code, r.headers["location"]) == (303, "/dashboard")


def with_only(site: Site, **cookies: str) -> httpx.Client:
    c = site.client()
    for name, value in cookies.items():
        c.cookies.set(name, value)
    return c


def test_logout_revokes_the_family_and_deletes_cookies(site: Site) -> None:
    c = site.signed_in()
    access, refresh = c.cookies["access_token"], c.cookies["refresh_token"]
    r = c.post("/api/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert {"access_token", "refresh_token"} == set(cookie_headers(r)) and not c.cookies
    assert c.get("/dashboard").headers["location"] == "/login?returnTo=%2Fdashboard"
    assert with_only(site, refresh_token=refresh).get("/api/refresh-token").status_code == 401
    assert site.families()[-1][1] == "logout"
    # A copy of the access cookie kept from before the logout no longer passes the proxy.
    assert with_only(site, access_token=access).get("/dashboard").status_code == 307


def test_logout_with_the_access_cookie_alone_revokes_the_session(site: Site) -> None:
    c = site.signed_in()
    access, refresh = c.cookies["access_token"], c.cookies["refresh_token"]
    assert with_only(site, access_token=access).post("/api/logout").status_code == 303
    assert with_only(site, access_token=access).get("/dashboard").status_code == 307
    r = with_only(site, refresh_token=refresh).get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "Refresh token revoked")


def test_a_refresh_revokes_the_old_access_token(site: Site) -> None:
    c = site.signed_in()
    old_access = c.cookies["access_token"]
    assert c.get("/api/refresh-token").status_code == 307
    assert c.cookies["access_token"] != old_access
    r = with_only(site, access_token=old_access).get("/dashboard")  # a thief's copy from before the rotation
    assert (r.status_code, r.headers["location"]) == (307, "/login?returnTo=%2Fdashboard")
    assert with_only(site, access_token=c.cookies["access_token"]).get("/dashboard").status_code == 200


def test_download_streams_with_the_right_headers(site: Site) -> None:
    c = site.signed_in()
    r = c.get("/api/files/welcome.txt")
    assert r.status_code == 200 and r.text == "hello from the data folder\n"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="welcome.txt"'
    assert r.headers["content-length"] == str(len(r.content))
    r = c.get("/api/files/r%C3%A9sum%C3%A9.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"
    assert c.get("/api/files/link-in.txt").text == "hello from the data folder\n"  # a symlink inside is fine
    anonymous = site.client().get("/api/files/welcome.txt")
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        307,
        "/login?returnTo=%2Fapi%2Ffiles%2Fwelcome.txt",
    )


TRAVERSAL = [
    # (raw path after /api/files/, expected status)
    ("..%2Fsecret.txt", 400),
    ("..%2f..%2fsecret.txt", 400),
    ("%2e%2e%2fsecret.txt", 400),
    ("..%5Csecret.txt", 400),
    ("%2Fetc%2Fpasswd", 400),
    ("%2F..%2Fsecret.txt", 400),
    ("..%252Fsecret.txt", 400),  # double-encoded: arrives as the name `..%2Fsecret.txt`
    (".hidden", 400),
    ("%2Ehidden", 400),
    ("C:secret.txt", 400),
    ("welcome.txt%00.png", 400),
    ("%0Awelcome.txt", 400),
    ("link-out.txt", 404),  # a symlink leading out of the folder
    ("sub", 404),  # a folder, not a file
    ("nothing-here.txt", 404),
    ("..", 404),  # dot segments are resolved by the router: /api/files -> no route
    ("%2e%2e", 404),
    ("../../secret.txt", 404),
    ("%ZZ", 400),  # a malformed escape: the router's 400
]


@pytest.mark.parametrize(("raw", "status"), TRAVERSAL)
def test_download_refuses_names_that_leave_the_folder(site: Site, raw: str, status: int) -> None:
    c = site.signed_in()
    cookie = f"access_token={c.cookies['access_token']}; refresh_token={c.cookies['refresh_token']}"
    reply = request(site.server.port, "GET", "/api/files/" + raw, headers={"cookie": cookie})
    assert reply.status == status, reply.text
    assert SECRET not in reply.text


def test_concurrent_refreshes_of_one_token_issue_exactly_one_pair(site: Site) -> None:
    c = site.signed_in()
    token = c.cookies["refresh_token"]

    def refresh(_: int) -> httpx.Response:
        with site.client() as other:
            other.cookies.set("refresh_token", token)
            return other.get("/api/refresh-token")

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(refresh, range(8)))
    assert sorted(r.status_code for r in replies) == [307] + [401] * 7
    family = site.families()[-1][0]
    with sqlite3.connect(site.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count = conn.execute("SELECT count(*) FROM refresh_tokens WHERE family_id = ?", (family,)).fetchone()[0]
    assert count == 2  # the login's token and exactly one rotation, never two
    assert site.families()[-1][1] == "refresh token reused"  # the replays revoked the family


def test_concurrent_refreshes_of_different_sessions_all_succeed(site: Site) -> None:
    clients = [site.signed_in() for _ in range(6)]
    before = [c.cookies["refresh_token"] for c in clients]

    def refresh(c: httpx.Client) -> int:
        return c.get("/api/refresh-token").status_code

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(refresh, clients)) == [307] * 6
    after = [c.cookies["refresh_token"] for c in clients]
    assert len(set(after)) == 6 and not set(after) & set(before)
    for c in clients:  # every session still works: nothing lost
        assert c.get("/api/refresh-token").status_code == 307


def test_tokens_are_stored_only_as_hashes(site: Site) -> None:
    c = site.signed_in()
    with sqlite3.connect(site.db) as conn:
        stored = {
            row[0]
            for row in conn.execute("SELECT token_hash FROM refresh_tokens UNION SELECT token_hash FROM access_tokens")
        }
    assert c.cookies["refresh_token"] not in stored and c.cookies["access_token"] not in stored
    assert all(len(h) == 64 for h in stored)
