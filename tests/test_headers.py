"""`cookies()` / `headers()`: usable from handlers and the controllers they call, applied to any response."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from framework.app import create_app
from framework.headers import RequestContextError, cookies, headers, scheme
from tests.helpers import write_tree

CONTROLLER = '''
from framework.headers import cookies, headers

def remember(value):
    """A controller, called from a sync handler: it runs in the thread pool."""
    before = cookies().get("seen")
    cookies().set("seen", value, max_age=60, httponly=True, secure=True, samesite="strict")
    return before, cookies().get("seen"), headers().get("x-who")

def forget():
    cookies().delete("seen")
'''

TREE = {
    "lib/__init__.py": "",
    "lib/ctl_headers.py": CONTROLLER,
    "app/sync/route.py": """
        from starlette.responses import PlainTextResponse
        from lib.ctl_headers import remember

        def GET(request):
            before, after, who = remember(request.query_params.get("v", "1"))
            return PlainTextResponse(f"{before}|{after}|{who}")
    """,
    "app/async/route.py": """
        from starlette.responses import PlainTextResponse
        from framework.headers import cookies, headers

        async def GET(request):
            cookies().set("a", "1")
            cookies().set("b", "2", path="/async", domain="example.test")
            return PlainTextResponse(headers().get("x-who", "-"))
    """,
    "app/scheme/route.py": """
        from starlette.responses import PlainTextResponse
        from framework.headers import scheme

        def GET(request):
            return PlainTextResponse(scheme())
    """,
    "app/redirect/route.py": """
        from starlette.responses import RedirectResponse
        from lib.ctl_headers import forget

        def GET(request):
            forget()
            return RedirectResponse("/sync", status_code=307)
    """,
    "app/file/route.py": """
        from pathlib import Path
        from starlette.responses import FileResponse
        from framework.headers import cookies

        def GET(request):
            cookies().set("f", "x")
            return FileResponse(Path(__file__))
    """,
    "app/json/route.py": """
        from framework.headers import cookies

        async def GET(request):
            cookies().set("j", "1")
            return {"kind": "dict"}

        def POST(request):
            cookies().set("j", "2")
            return ["list"]
    """,
    "app/untouched/route.py": """
        from starlette.responses import PlainTextResponse

        def GET(request):
            return PlainTextResponse("plain")
    """,
    "app/raises/route.py": """
        from framework.headers import cookies

        def GET(request):
            cookies().set("lost", "1")
            raise RuntimeError("boom")
    """,
    "app/badname/route.py": """
        from starlette.responses import PlainTextResponse
        from framework.headers import cookies

        def GET(request):
            try:
                cookies().set("bad name;", "1")
            except ValueError as exc:
                return PlainTextResponse(str(exc), status_code=400)
            return PlainTextResponse("accepted")
    """,
}


@pytest.fixture
def client(tmp_path: Path):
    root = write_tree(tmp_path / "proj", TREE)
    for name in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
        del sys.modules[name]
    try:
        with TestClient(create_app(root), raise_server_exceptions=False) as c:
            yield c
    finally:
        sys.path.remove(str(root.resolve()))
        for name in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
            del sys.modules[name]


def set_cookies(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_sync_handler_controller_in_thread_pool_reads_and_sets(client: TestClient) -> None:
    r = client.get("/sync?v=abc", headers={"x-who": "ada", "cookie": "seen=old"})
    assert r.text == "old|abc|ada"  # get() sees the request's value, then the value just set
    [cookie] = set_cookies(r)
    assert cookie.startswith("seen=abc;")
    for attr in ("HttpOnly", "Max-Age=60", "Path=/", "SameSite=strict", "Secure"):
        assert attr in cookie


def test_async_handler_sets_several_cookies_with_attributes(client: TestClient) -> None:
    r = client.get("/async", headers={"x-who": "bob"})
    assert r.text == "bob"
    a, b = set_cookies(r)
    assert a.startswith("a=1;") and "SameSite=lax" in a
    assert b.startswith("b=2;") and "Path=/async" in b and "Domain=example.test" in b


@pytest.mark.parametrize(("method", "body", "cookie"), [("GET", {"kind": "dict"}, "j=1;"), ("POST", ["list"], "j=2;")])
def test_applies_to_a_dict_or_list_answered_as_json(client: TestClient, method: str, body: object, cookie: str) -> None:
    r = client.request(method, "/json", headers={"origin": "http://testserver"})
    assert r.status_code == 200 and r.json() == body
    assert r.headers["content-type"] == "application/json"
    [sent] = set_cookies(r)
    assert sent.startswith(cookie)


def test_delete_applies_to_a_redirect(client: TestClient) -> None:
    r = client.get("/redirect", headers={"cookie": "seen=1"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/sync"
    [cookie] = set_cookies(r)
    assert cookie.startswith('seen="";') and "Max-Age=0" in cookie and "expires=" in cookie


def test_applies_to_a_file_response(client: TestClient) -> None:
    r = client.get("/file")
    assert r.status_code == 200 and "cookies().set" in r.text
    assert set_cookies(r) == ["f=x; Path=/; SameSite=lax"]


def test_untouched_request_sets_nothing(client: TestClient) -> None:
    r = client.get("/untouched", headers={"cookie": "seen=1"})
    assert r.text == "plain" and set_cookies(r) == []


def test_cookies_of_a_failed_handler_are_dropped(client: TestClient) -> None:
    r = client.get("/raises")
    assert r.status_code == 500 and set_cookies(r) == []


def test_invalid_cookie_name_is_refused_clearly(client: TestClient) -> None:
    r = client.get("/badname")
    assert r.status_code == 400 and "not a valid cookie name" in r.text


def test_concurrent_requests_do_not_share_state(client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> tuple[str, list[str]]:
        r = client.get(f"/sync?v=v{i}", headers={"x-who": f"w{i}", "cookie": f"seen=c{i}"})
        return r.text, set_cookies(r)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(40)))
    for i, (text, cookie_list) in enumerate(results):
        assert text == f"c{i}|v{i}|w{i}"
        assert len(cookie_list) == 1 and cookie_list[0].startswith(f"seen=v{i};")


@pytest.mark.parametrize(
    ("base_url", "host", "expected"),
    [
        ("http://127.0.0.1:3000", "127.0.0.1:3000", "http"),
        ("http://127.0.0.1:3000", "example.com", "http"),  # the Host header does not make it https
        ("https://example.com", "example.com", "https"),
        ("https://example.com", "127.0.0.1", "https"),
    ],
)
def test_scheme_is_the_connection_s_not_the_host_s(client: TestClient, base_url: str, host: str, expected: str) -> None:
    r = client.get(f"{base_url}/scheme", headers={"host": host})
    assert r.text == expected


@pytest.mark.parametrize("func", [cookies, headers, scheme])
def test_outside_a_request_is_a_clear_error(func) -> None:
    with pytest.raises(RequestContextError, match=rf"{func.__name__}\(\) was called outside a request"):
        func()


def test_context_does_not_leak_after_a_request(client: TestClient) -> None:
    client.get("/sync")

    async def later() -> None:
        cookies()

    with pytest.raises(RequestContextError):
        asyncio.run(later())
