"""The example app's pieces in-process: lib/urls, lib/config, the controllers' rules, the layout conventions."""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from framework.app import create_app
from framework.manifest import build_manifest
from framework.scan import scan
from tests.helpers import REPO

FAST_N = 2**10  # scrypt N for the tests (PASSWORD_HASH_N); the default, 2**17, takes about 0.6 s a hash


@pytest.fixture
def repo_lib() -> Iterator[None]:
    """Import the repository's own `lib` (other tests may have cached a temp project's)."""

    def clear() -> None:
        if "lib.db" in sys.modules:
            sys.modules["lib.db"].close_all()  # the PostgreSQL pools this test opened
        for name in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
            del sys.modules[name]

    clear()
    yield
    clear()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_lib: None) -> pytest.MonkeyPatch:
    """A fresh SQLite database and the default settings, without the demo user (as under `framework start`)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("AUTH_DB_PATH", str(tmp_path / "auth.sqlite3"))
    monkeypatch.setenv("FILES_DIR", str(tmp_path))
    for name in ("COOKIE_SECURE", "ACCESS_TOKEN_SECONDS", "DEMO_USER", "FRAMEWORK_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PASSWORD_HASH_N", str(FAST_N))
    return monkeypatch


@pytest.fixture(params=["sqlite", "postgres"])
def app_env(request: pytest.FixtureRequest, sqlite_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """`sqlite_env`, and the same on PostgreSQL (an empty schema in DATABASE_URL): the controllers' rules
    must hold on both backends."""
    if request.param == "postgres":
        sqlite_env.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
    return sqlite_env


def make_client(base_url: str = "http://127.0.0.1:3000", address: str = "203.0.113.7") -> TestClient:
    """The repository's app in-process; `address` is the client address the app sees."""
    return TestClient(create_app(REPO), base_url=base_url, follow_redirects=False, client=(address, 50000))


@pytest.fixture
def client(app_env: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app with the demo user (`DEMO_USER=1`)."""
    app_env.setenv("DEMO_USER", "1")
    with make_client() as c:
        yield c


def test_url_builders(repo_lib: None) -> None:
    from lib import urls

    assert (
        urls.get_refresh_token_url("http://127.0.0.1:3000/dashboard?a=1")
        == "/api/refresh-token?returnTo=http%3A%2F%2F127.0.0.1%3A3000%2Fdashboard%3Fa%3D1"
    )
    assert urls.get_login_url() == "/login"
    assert urls.get_login_url("/dashboard") == "/login?returnTo=%2Fdashboard"
    assert urls.get_file_url("my report.pdf") == "/api/files/my%20report.pdf"
    assert urls.get_file_url("a/b") == "/api/files/a%2Fb"
    assert (urls.get_home_url(), urls.get_dashboard_url(), urls.get_logout_url(), urls.get_health_url()) == (
        "/",
        "/dashboard",
        "/api/logout",
        "/api/health",
    )


def test_every_route_has_one_url_builder_with_a_literal_pattern() -> None:
    tree = ast.parse((REPO / "lib/urls/__init__.py").read_text(encoding="utf-8"))
    patterns = [
        call.args[0].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", None) == "route_url"
        and isinstance(call.args[0], ast.Constant)
    ]
    routes = [r.pattern for r in build_manifest(scan(REPO)).routes]
    assert sorted(patterns) == sorted(routes)


@pytest.mark.parametrize(
    "file", [*sorted(p.relative_to(REPO).as_posix() for p in (REPO / "app").rglob("route.py")), "proxy.py"]
)
def test_routes_do_not_touch_storage_or_http_clients(file: str) -> None:
    tree = ast.parse((REPO / file).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"sqlite3", "httpx", "requests", "urllib3", "aiohttp", "http"}


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("welcome.txt", True),
        ("résumé.pdf", True),
        ("a b.txt", True),
        ("", False),
        (".", False),
        ("..", False),
        (".hidden", False),
        ("../x", False),
        ("a/b", False),
        ("..\\x", False),
        ("/etc/passwd", False),
        ("C:x", False),
        ("a\x00b", False),
        ("a\nb", False),
        ("a\u200bb", False),
        ("x" * 256, False),
    ],
)
def test_file_names(repo_lib: None, name: str, ok: bool) -> None:
    from lib.controllers.files_controller import valid_name

    assert valid_name(name) is ok


@pytest.mark.parametrize(
    ("setting", "scheme", "secure"),
    [
        (None, "http", False),
        (None, "https", True),
        ("auto", "https", True),
        ("auto", "HTTPS", True),
        ("auto", "http", False),
        ("auto", None, False),
        ("1", "http", True),
        ("0", "https", False),
    ],
)
def test_cookie_secure_setting(
    repo_lib: None, monkeypatch: pytest.MonkeyPatch, setting: str | None, scheme: str | None, secure: bool
) -> None:
    from lib import config

    if setting is None:
        monkeypatch.delenv("COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("COOKIE_SECURE", setting)
    assert config.cookie_secure(scheme) is secure


@pytest.mark.parametrize(
    ("base_url", "host", "secure"),
    [
        ("http://127.0.0.1:3000", "127.0.0.1:3000", False),
        ("http://127.0.0.1:3000", "example.com", False),  # a public Host over http: still not Secure
        ("http://example.com", "example.com", False),
        ("https://127.0.0.1:3000", "127.0.0.1:3000", True),  # https on a local address: Secure
        ("https://example.com", "example.com", True),
    ],
)
def test_cookie_secure_auto_follows_the_request_scheme(
    client: TestClient, base_url: str, host: str, secure: bool
) -> None:
    r = client.post(f"{base_url}/login", data={"username": "demo", "password": "demo-password"}, headers={"host": host})
    assert r.status_code == 303
    set_cookies = r.headers.get_list("set-cookie")
    assert len(set_cookies) == 2 and all(("; Secure" in h) is secure for h in set_cookies)
    prefix = "__Host-" if secure else ""
    assert sorted(h.split("=", 1)[0] for h in set_cookies) == [f"{prefix}access_token", f"{prefix}refresh_token"]


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("COOKIE_SECURE", "maybe"),
        ("ACCESS_TOKEN_SECONDS", "0"),
        ("ACCESS_TOKEN_SECONDS", "1.5"),
        ("REFRESH_TOKEN_SECONDS", "soon"),
        ("DEMO_USER", "please"),
        ("PASSWORD_HASH_N", "1000"),
        ("PASSWORD_HASH_N", "1"),
        ("PASSWORD_HASH_N", str(2**21)),
        ("PASSWORD_HASH_N", "2**17"),
        ("LOGIN_LIMIT_PER_ACCOUNT", "0"),
        ("LOGIN_LIMIT_PER_ADDRESS", "many"),
        ("LOGIN_LIMIT_WINDOW_SECONDS", "-5"),
    ],
)
def test_bad_settings_name_the_variable(repo_lib: None, monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    from lib import config

    monkeypatch.setenv(var, value)
    with pytest.raises(config.ConfigError, match=f"^{var}="):
        config.check()


def test_passwords_use_scrypt_with_their_parameters_in_the_hash(sqlite_env: pytest.MonkeyPatch) -> None:
    from lib import storage

    stored = storage.hash_password("s3cret")
    assert stored.startswith(f"scrypt${FAST_N}$8$1$") and "s3cret" not in stored
    assert storage.check_password("s3cret", stored) and not storage.check_password("s3creT", stored)
    sqlite_env.setenv("PASSWORD_HASH_N", str(FAST_N * 2))  # checking uses the stored parameters, not the current
    assert storage.check_password("s3cret", stored) and storage.needs_rehash(stored)
    for garbage in ("garbage", "scrypt$1024$8$1$zz$00", "scrypt$1000$8$1$00$00", f"scrypt${2**40}$8$1$00$00", ""):
        assert not storage.check_password("x", garbage) and storage.needs_rehash(garbage)
    assert not storage.check_password("x", storage.dummy_hash())


def test_default_scrypt_parameters_and_the_upgrade_of_an_older_hash(app_env: pytest.MonkeyPatch) -> None:
    """N=2^17, r=8, p=1 (OWASP) by default; a login with a 2^14 hash stores one at 2^17."""
    from lib import config, storage

    app_env.setenv("PASSWORD_HASH_N", str(2**14))
    with storage.transaction() as conn:
        storage.add_user(conn, "ada", "correct horse")
    old = stored_hash("ada")
    assert old.startswith("scrypt$16384$8$1$")

    app_env.delenv("PASSWORD_HASH_N")
    assert config.password_hash_n() == 2**17 and storage.current_parameters() == (2**17, 8, 1)
    with make_client() as c:  # a request context for the cookies login() sets
        assert c.post("/login", data={"username": "ada", "password": "wrong"}).status_code == 401
        assert stored_hash("ada") == old  # a wrong password changes nothing
        assert c.post("/login", data={"username": "ada", "password": "correct horse"}).status_code == 303
    new = stored_hash("ada")
    assert new.startswith("scrypt$131072$8$1$") and new.split("$")[4] != old.split("$")[4]  # new salt too
    assert storage.check_password("correct horse", new) and not storage.needs_rehash(new)


def stored_hash(username: str) -> str:
    from lib import storage

    with storage.reader() as conn:
        user = storage.find_user(conn, username)
    assert user is not None
    return user.password_hash


@pytest.mark.parametrize(
    ("content_type", "body", "status", "text"),
    [
        ("application/x-www-form-urlencoded", b"username=demo&password=wrong", 401, "Wrong user name or password"),
        ("application/x-www-form-urlencoded", b"username=&password=", 400, "Enter a user name and a password"),
        ("application/x-www-form-urlencoded", b"username=demo&password=" + b"x" * 5000, 413, "Form too large"),
        ("application/json", b'{"username": "demo"}', 415, "application/x-www-form-urlencoded"),
        ("application/x-www-form-urlencoded", b"username=%FF", 400, "Malformed form"),
    ],
)
def test_login_refuses_bad_forms_clearly(
    client: TestClient, content_type: str, body: bytes, status: int, text: str
) -> None:
    r = client.post("/login", content=body, headers={"content-type": content_type})
    assert r.status_code == status and text in r.text and not r.headers.get_list("set-cookie")


def test_secure_cookies_when_configured(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOKIE_SECURE", "1")
    r = client.post("/login", data={"username": "demo", "password": "demo-password"})
    assert r.status_code == 303
    sent = r.headers.get_list("set-cookie")
    assert [h.split("=", 1)[0] for h in sent] == ["__Host-access_token", "__Host-refresh_token"]
    for header in sent:  # what browsers require of a __Host- cookie: Secure, Path=/, no Domain
        attrs = header.split("; ")
        assert "Secure" in attrs and "Path=/" in attrs and not any(a.lower().startswith("domain=") for a in attrs)


def test_over_https_the_whole_flow_uses_host_prefixed_cookies(app_env: pytest.MonkeyPatch) -> None:
    app_env.setenv("DEMO_USER", "1")
    with make_client("https://app.example.com") as c:
        r = c.post("/login", data={"username": "demo", "password": "demo-password"})
        assert r.status_code == 303 and set(c.cookies.keys()) == {"__Host-access_token", "__Host-refresh_token"}
        refresh = c.cookies["__Host-refresh_token"]
        assert c.get("/dashboard").status_code == 200  # the proxy and the page read the prefixed name
        r = c.get("/api/refresh-token")  # the refresh controller too
        assert r.status_code == 307 and c.cookies["__Host-refresh_token"] != refresh
        assert {h.split("=", 1)[0] for h in r.headers.get_list("set-cookie")} == {
            "__Host-access_token",
            "__Host-refresh_token",
        }
        r = c.post("/api/logout")
        deleted = r.headers.get_list("set-cookie")
        assert sorted(h.split("=", 1)[0] for h in deleted) == ["__Host-access_token", "__Host-refresh_token"]
        assert all("Max-Age=0" in h and "Secure" in h.split("; ") for h in deleted)
        assert not c.cookies


def test_over_https_plain_cookie_names_are_not_read(app_env: pytest.MonkeyPatch) -> None:
    """A plain `access_token` may have been planted by a subdomain or over http: over https only
    `__Host-` names count (and over http, the other way round)."""
    app_env.setenv("DEMO_USER", "1")
    with make_client() as http:
        access, refresh = sign_in(http)  # plain names, over http
    with make_client("https://app.example.com") as c:
        c.cookies.set("access_token", access)
        r = c.get("/dashboard")
        assert (r.status_code, r.headers["location"]) == (307, "/login?returnTo=%2Fdashboard")
        c.cookies.set("refresh_token", refresh)
        assert (c.get("/api/refresh-token").text) == "No refresh token"
        c.cookies.clear()
        c.cookies.set("__Host-access_token", access)
        assert c.get("/dashboard").status_code == 200
    with make_client() as http:
        http.cookies.set("__Host-access_token", access)
        assert http.get("/dashboard").status_code == 307


def test_expired_refresh_token_is_refused(client: TestClient, repo_lib: None) -> None:
    from lib import storage

    with storage.transaction() as conn:
        user = storage.find_user(conn, storage.DEMO_USERNAME)
        storage.new_family(conn, "fam-expired", user.id, time.time() - 100)
        storage.add_refresh(conn, "old-token", "fam-expired", time.time() - 100, time.time() - 1)
    client.cookies.set("refresh_token", "old-token")
    r = client.get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "Refresh token expired")


def sign_in(c: TestClient) -> tuple[str, str]:
    """Log in as demo; the (access, refresh) tokens from the cookies."""
    r = c.post("/login", data={"username": "demo", "password": "demo-password"})
    assert r.status_code == 303, r.text
    return c.cookies["access_token"], c.cookies["refresh_token"]


def only_cookies(c: TestClient, **values: str) -> TestClient:
    c.cookies.clear()
    for name, value in values.items():
        c.cookies.set(name, value)
    return c


def test_a_refresh_revokes_the_access_token_it_replaces(client: TestClient) -> None:
    from lib.controllers.auth_controller import check_access_token

    old_access, _ = sign_in(client)
    assert check_access_token(old_access).ok
    assert client.get("/api/refresh-token").status_code == 307
    new_access = client.cookies["access_token"]
    assert new_access != old_access
    assert not check_access_token(old_access).ok, "the replaced access token still works until it expires"
    assert check_access_token(new_access).ok
    # Through the proxy: the old access cookie alone is sent to sign in; the new one reaches the dashboard.
    r = only_cookies(client, access_token=old_access).get("/dashboard")
    assert (r.status_code, r.headers["location"]) == (307, "/login?returnTo=%2Fdashboard")
    assert only_cookies(client, access_token=new_access).get("/dashboard").status_code == 200


@pytest.mark.parametrize("sent", [("access_token",), ("refresh_token",), ("access_token", "refresh_token")])
def test_logout_revokes_the_session_from_either_cookie(client: TestClient, sent: tuple[str, ...]) -> None:
    from lib.controllers.auth_controller import check_access_token

    access, refresh = sign_in(client)
    tokens = {"access_token": access, "refresh_token": refresh}
    r = only_cookies(client, **{name: tokens[name] for name in sent}).post("/api/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert not check_access_token(access).ok
    assert only_cookies(client, access_token=access).get("/dashboard").status_code == 307
    r = only_cookies(client, refresh_token=refresh).get("/api/refresh-token")
    assert (r.status_code, r.text) == (401, "Refresh token revoked")


def test_logout_with_unknown_or_no_cookies_just_clears_them(client: TestClient) -> None:
    access, _ = sign_in(client)
    for cookies in ({}, {"access_token": "x" * 43, "refresh_token": "y" * 43}):
        r = only_cookies(client, **cookies).post("/api/logout")
        assert r.status_code == 303 and len(r.headers.get_list("set-cookie")) == 2
    from lib.controllers.auth_controller import check_access_token

    assert check_access_token(access).ok  # someone else's unknown tokens sign nobody out


@pytest.fixture
def limits(app_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Small limits, three users (demo, ada, bob), and every scrypt call counted in `app_env.hashes`."""
    from lib import storage

    app_env.setenv("DEMO_USER", "1")
    app_env.setenv("LOGIN_LIMIT_PER_ACCOUNT", "3")
    app_env.setenv("LOGIN_LIMIT_PER_ADDRESS", "5")
    with storage.transaction() as conn:
        for name in ("ada", "bob"):
            storage.add_user(conn, name, f"{name}-password")
    calls: list[int] = []
    real = storage._scrypt

    def counted(*args: object) -> bytes:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    app_env.setattr(storage, "_scrypt", counted)
    app_env.hashes = calls  # type: ignore[attr-defined]
    return app_env


def attempt(c: TestClient, username: str, password: str = "wrong") -> int:
    return c.post("/login", data={"username": username, "password": password}).status_code


def test_the_account_limit_answers_429_before_hashing(limits: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        assert [attempt(c, "ada") for _ in range(3)] == [401, 401, 401]
        hashes = len(limits.hashes)  # type: ignore[attr-defined]
        r = c.post("/login", data={"username": "ada", "password": "ada-password"})  # even the right password
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/plain")
        assert r.text == "Too many failed sign-in attempts. Try again in 15 minutes."
        assert 890 <= int(r.headers["retry-after"]) <= 900 and not r.headers.get_list("set-cookie")
        assert len(limits.hashes) == hashes  # type: ignore[attr-defined]  # no scrypt for a refused attempt
        assert attempt(c, "bob", "bob-password") == 303  # other accounts are not affected
    with make_client(address="198.51.100.9") as other:
        assert attempt(other, "ada", "ada-password") == 429  # nor does another address help


def test_unknown_user_names_are_limited_the_same_way(limits: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        assert [attempt(c, "nobody") for _ in range(4)] == [401, 401, 401, 429]


def test_the_address_limit_spans_accounts(limits: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        assert [attempt(c, name) for name in ("ada", "bob", "carol", "dave", "erin")] == [401] * 5
        assert attempt(c, "demo", "demo-password") == 429
    with make_client(address="198.51.100.9") as other:
        assert attempt(other, "demo", "demo-password") == 303


def test_a_success_resets_the_account_count(limits: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        assert [attempt(c, "ada") for _ in range(2)] == [401, 401]
        assert attempt(c, "ada", "ada-password") == 303
        assert [attempt(c, "ada") for _ in range(4)] == [401, 401, 401, 429]


def test_a_success_does_not_reset_the_address_count_for_other_accounts(limits: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        assert [attempt(c, name) for name in ("bob", "carol", "dave", "erin")] == [401] * 4
        assert attempt(c, "ada", "ada-password") == 303  # the attacker's own account: only its attempt is given back
        assert attempt(c, "frank") == 401  # the 5th failure from this address
        assert attempt(c, "bob") == 429


def test_the_window_ends(limits: pytest.MonkeyPatch) -> None:
    from lib import storage

    with make_client() as c:
        assert [attempt(c, "ada") for _ in range(4)] == [401, 401, 401, 429]
        with storage.transaction() as conn:  # as if the 15 minutes had passed
            conn.execute("UPDATE login_failures SET window_start = window_start - 900")
        assert attempt(c, "ada", "ada-password") == 303
        with storage.reader() as conn:
            rows = [tuple(row) for row in conn.execute("SELECT key, failures FROM login_failures")]
        assert rows == [("address:203.0.113.7", 0)]  # the old rows deleted; the success gave its attempt back


def test_concurrent_failures_never_pass_the_limit(limits: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with make_client() as c, ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: attempt(c, "ada"), range(12)))
    assert statuses == [401] * 3 + [429] * 9


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "address:203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "address:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "address:2001:db8:1:2::/64"),  # same /64: one subscriber
        ("2001:db8:1:3::1", "address:2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "address:203.0.113.7"),  # IPv4-mapped: the IPv4 address
        ("testclient", "address:testclient"),
        (None, None),
        ("", None),
    ],
)
def test_address_keys(repo_lib: None, address: str | None, key: str | None) -> None:
    from lib.controllers.auth_controller import address_key

    assert address_key(address) == key


def html_pages(c: TestClient) -> dict[str, object]:
    """Every HTML page the app sends: index, sign-in form (plain and with an error), dashboard."""
    pages = {
        "/": c.get("/"),
        "/login": c.get("/login?returnTo=%2Fdashboard"),
        "/login (401)": c.post("/login", data={"username": "demo", "password": "wrong"}),
    }
    sign_in(c)
    pages["/dashboard"] = c.get("/dashboard")
    return pages


def test_html_pages_send_the_security_headers(client: TestClient) -> None:
    import base64
    import hashlib
    import re

    for name, r in html_pages(client).items():
        assert r.headers["content-type"] == "text/html; charset=utf-8", name
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", name
        assert r.headers["x-frame-options"] == "DENY", name
        csp = dict(([*d.strip().split(" ", 1), ""])[:2] for d in r.headers["content-security-policy"].split(";"))
        assert (csp["default-src"], csp["form-action"], csp["frame-ancestors"], csp["base-uri"]) == (
            "'none'",
            "'self'",
            "'none'",
            "'none'",
        ), name
        assert "script-src" not in csp and "unsafe-inline" not in r.headers["content-security-policy"], name
        # The only style allowed is the page's own <style>, by its hash: the hash must be of what is sent.
        [style] = re.findall(r"<style>(.*?)</style>", r.text, re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert csp["style-src"] == f"'sha256-{digest}'", name
    assert html_pages(client)["/dashboard"].headers["cache-control"] == "no-store"


def test_index_links_the_demo(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and 'href="/dashboard"' in r.text and "demo-password" in r.text


def users() -> list[str]:
    from lib import storage

    with storage.reader() as conn:
        return [row[0] for row in conn.execute("SELECT username FROM users ORDER BY id")]


@pytest.mark.parametrize(
    ("demo_user", "framework_env", "created"),
    [
        (None, None, False),  # plain create_app / python -m: no demo user
        (None, "production", False),  # framework start
        (None, "development", True),  # framework dev
        ("1", "production", True),  # asked for
        ("0", "development", False),  # refused even in development
    ],
)
def test_the_demo_user_exists_only_under_framework_dev_or_when_asked(
    app_env: pytest.MonkeyPatch, demo_user: str | None, framework_env: str | None, created: bool
) -> None:
    if demo_user is not None:
        app_env.setenv("DEMO_USER", demo_user)
    if framework_env is not None:
        app_env.setenv("FRAMEWORK_ENV", framework_env)
    with make_client() as c:
        r = c.post("/login", data={"username": "demo", "password": "demo-password"})
        assert r.status_code == (303 if created else 401)
        assert users() == (["demo"] if created else [])
        # The published password is shown on the pages only when the demo user exists.
        assert ("demo-password" in c.get("/").text) is created
        assert ("demo-password" in c.get("/login").text) is created


def test_an_existing_demo_user_with_demo_user_off_is_a_warning(
    app_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app_env.setenv("DEMO_USER", "1")
    with make_client() as c:
        assert c.post("/login", data={"username": "demo", "password": "demo-password"}).status_code == 303
    from lib import storage

    storage._ready.clear()  # as a new process would
    app_env.setenv("DEMO_USER", "0")
    with caplog.at_level("WARNING", logger="lib.storage"):
        users()
    assert "has a user named 'demo' but DEMO_USER is off" in caplog.text and "delete it" in caplog.text


def test_the_database_files_are_private_whatever_the_umask(sqlite_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os
    import stat

    from lib import storage

    db = tmp_path / "private" / "auth.sqlite3"
    sqlite_env.setenv("AUTH_DB_PATH", str(db))
    previous = os.umask(0)  # the most permissive umask: the modes must not come from it
    try:
        with storage.transaction() as conn:
            storage.add_user(conn, "ada", "correct horse")
            # A write in WAL mode: the -wal and -shm files exist while the connection is open.
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.parent.iterdir()}
    finally:
        os.umask(previous)
    assert modes == {"auth.sqlite3": 0o600, "auth.sqlite3-wal": 0o600, "auth.sqlite3-shm": 0o600}
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_an_existing_readable_database_is_a_warning(
    sqlite_env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    db = tmp_path / "auth.sqlite3"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    with caplog.at_level("WARNING", logger="lib.db.sqlite"):
        users()
    assert "readable by other users (mode 644)" in caplog.text and "chmod 600" in caplog.text
    assert db.stat().st_mode & 0o777 == 0o644  # reported, not changed behind the owner's back


def test_a_bad_setting_stops_framework_start_naming_it(tmp_path: Path) -> None:
    import subprocess

    from tests.helpers import subprocess_env

    result = subprocess.run(
        [sys.executable, "-m", "framework", "start", "--root", str(REPO), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(ACCESS_TOKEN_SECONDS="0", AUTH_DB_PATH=str(tmp_path / "db")),
    )
    assert result.returncode == 1
    assert "lib/config.py" in result.stderr and "ACCESS_TOKEN_SECONDS='0'" in result.stderr
    assert "Traceback" not in result.stderr
