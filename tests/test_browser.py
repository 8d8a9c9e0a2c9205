"""Real browsers (headless Chromium, driven by Playwright) through the example app.

Needs a Chromium (Debian/Ubuntu: `apt-get install -y chromium`; macOS: `brew install --cask chromium`;
or any Chromium or Chrome named by CHROMIUM_PATH) and the Python package `playwright` (the `test`
extra). Never `playwright install`: the system browser is used. Without a browser these tests are
skipped with the install line, except in CI (`CI` set), where they must run and fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO, run_framework, wait_for

CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or next((c for c in CANDIDATES if Path(c).exists()), CANDIDATES[0]))
INSTALL = (
    "Debian/Ubuntu: apt-get update && apt-get install -y chromium; macOS: brew install --cask chromium "
    "(or set CHROMIUM_PATH to a Chromium or Chrome); pip install -e '.[test]' for playwright; "
    "never run `playwright install`"
)


def missing(what: str) -> None:
    """A browser test cannot run: a skip with the install line on a developer's machine, a failure in CI."""
    message = f"{what} is required for the browser tests. Install it: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        missing(f"headless Chromium (looked for {CHROMIUM})")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def test_login_expiry_and_refresh_in_a_real_browser(tmp_path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package `playwright`")
    files = tmp_path / "files"
    files.mkdir()
    (files / "notes.txt").write_text("browser download\n", encoding="utf-8")
    env = {
        "AUTH_DB_PATH": str(tmp_path / "auth.sqlite3"),
        "FILES_DIR": str(files),
        # 3 s, not 1: the cookie checks right after login must not race the expiry on a loaded machine.
        "ACCESS_TOKEN_SECONDS": "3",  # COOKIE_SECURE left at `auto`: no Secure over http
        "DEMO_USER": "1",  # framework start creates the demo user only when asked
        "PASSWORD_HASH_N": "1024",
    }  # a fast scrypt
    with run_framework(REPO, "start", "--no-access-log", env=env) as server, sync_playwright() as p:
        base = f"http://127.0.0.1:{server.port}"
        browser = launch(p)
        try:
            context = browser.new_context()
            page = context.new_page()
            visited: list[str] = []
            page.on("request", lambda req: visited.append(req.url) if req.is_navigation_request() else None)
            console: list[str] = []  # Chromium reports every Content-Security-Policy refusal here
            page.on("console", lambda message: console.append(message.text))

            # Not signed in: the proxy sends the dashboard to the login form, with returnTo.
            page.goto(f"{base}/dashboard")
            assert page.url == f"{base}/login?returnTo=%2Fdashboard"
            # The inline <style> is allowed by the CSP (by its hash): the form is laid out as a grid.
            assert page.evaluate("getComputedStyle(document.querySelector('form.stack')).display") == "grid"
            page.fill("input[name=username]", "demo")
            page.fill("input[name=password]", "demo-password")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/dashboard")
            jar = {c["name"]: c for c in context.cookies()}
            for name in ("access_token", "refresh_token"):
                cookie = jar[name]
                assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"], cookie["path"]) == (
                    True,
                    "Lax",
                    False,
                    "/",
                )
            lifetime = jar["refresh_token"]["expires"] - jar["access_token"]["expires"]
            assert 14 * 24 * 3600 - 10 < lifetime < 14 * 24 * 3600  # Max-Age 3 s vs 14 days
            assert page.inner_text("#user") == "demo"
            assert page.locator("script").count() == 0  # plain HTML, no JavaScript needed
            assert page.evaluate("document.cookie") == ""  # HttpOnly: invisible to scripts
            first_refresh = jar["refresh_token"]["value"]

            # The browser drops the access cookie after its 3 s Max-Age; then a reload goes through the refresh.
            wait_for(
                lambda: "access_token" not in {c["name"] for c in context.cookies()},
                timeout=15,
                what="the browser to expire the access-token cookie",
            )
            visited.clear()
            page.reload()
            page.wait_for_url(f"{base}/dashboard")
            assert page.inner_text("#user") == "demo"
            assert f"{base}/api/refresh-token?returnTo=%2Fdashboard" in visited, visited
            jar = {c["name"]: c for c in context.cookies()}
            assert jar["refresh_token"]["value"] != first_refresh  # rotated
            assert jar["refresh_token"]["httpOnly"] and jar["refresh_token"]["sameSite"] == "Lax"

            # Sign out: the cookies are gone and the dashboard asks to sign in again.
            page.click("text=Sign out")
            page.wait_for_url(f"{base}/login")
            assert not {c["name"] for c in context.cookies()} & {"access_token", "refresh_token"}
            # Both form POSTs and their redirects passed `form-action 'self'`; nothing was refused.
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            browser.close()


def test_missing_chromium_is_a_skip_with_install_lines_except_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(__import__(__name__, fromlist=["CHROMIUM"]), "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="brew install --cask chromium"):
        launch(None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        launch(None)


ATTACKER = """
from starlette.responses import HTMLResponse

def GET(request):
    target = request.query_params["target"]
    return HTMLResponse(
        f'<form id="f" method="post" action="{target}/login">'
        '<input name="username" value="demo"><input name="password" value="demo-password"></form>'
        '<script>document.getElementById("f").submit()</script>')
"""


def test_a_cross_site_form_post_from_a_real_browser_is_refused(tmp_path: Path) -> None:
    """Login CSRF as a browser does it: a page on another origin submits a form to our login."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package `playwright`")
    from tests.helpers import write_tree

    evil = write_tree(tmp_path / "evil", {"app/route.py": ATTACKER})
    env = {"AUTH_DB_PATH": str(tmp_path / "auth.sqlite3"), "DEMO_USER": "1", "PASSWORD_HASH_N": "1024"}
    with (
        run_framework(REPO, "start", "--no-access-log", env=env) as server,
        run_framework(evil, "start", "--no-access-log") as attacker,
        sync_playwright() as p,
    ):
        browser = launch(p)
        try:
            page = browser.new_context().new_page()
            answers: list[tuple[str, int]] = []
            page.on("response", lambda r: answers.append((r.request.method, r.status)) if "/login" in r.url else None)
            # localhost and 127.0.0.1 are different sites to the browser: Sec-Fetch-Site says cross-site.
            page.goto(f"http://localhost:{attacker.port}/?target=http://127.0.0.1:{server.port}")
            wait_for(lambda: answers, what="the forged login POST to be answered")
            assert answers[0] == ("POST", 403)
            assert page.context.cookies() == []  # no session was planted
        finally:
            browser.close()


def test_swagger_ui_renders_the_openapi_3_1_document_offline(tmp_path: Path) -> None:
    """/_framework/docs under `framework dev`: Swagger UI 5 shows every operation of a typed tree, and every
    request the page makes goes to this server (no CDN, no validator badge)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package `playwright`")
    from tests.helpers import write_tree
    from tests.test_typed_e2e import TREE

    root = write_tree(tmp_path / "typed", TREE)
    with run_framework(root, "dev") as server, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda req: requested.append(req.url))
            page.goto(f"http://127.0.0.1:{server.port}/_framework/docs")
            page.wait_for_selector(".opblock-summary", timeout=15_000)
            shown = page.inner_text("#swagger-ui")
            assert "OAS 3.1" in shown and "List todos." in shown  # the version badge and a summary
            blocks = page.locator(".opblock-summary-path").all_inner_texts()
            assert sorted(blocks) == sorted(
                ["/api/bad-output", "/api/login", "/api/todos", "/api/todos", "/api/whoami"] + ["/api/todos/{id}"] * 3
            )
            local = f"http://127.0.0.1:{server.port}/"
            assert [u for u in requested if not u.startswith((local, "data:"))] == []
            assert f"{local}_framework/openapi.json" in requested
        finally:
            browser.close()
