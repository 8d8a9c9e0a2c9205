"""The security issue's rows, each against a real server on 127.0.0.1: proxy bypasses, root paths,
WebSocket upgrades, the body cap, cross-origin protection, and an aborted upload."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.helpers import REPO, Server, run_framework, run_uvicorn, write_tree

ROUTE = """
from starlette.responses import PlainTextResponse

def GET(request, context):
    return PlainTextResponse("{name} " + repr(dict(context.params)) + " user=" + request.headers.get("x-user", "-"))

POST = GET
"""

# The reproduction: guard /admin, every tenant's settings, and everything outside /api and /static.
PROXY = """
from starlette.responses import PlainTextResponse
from framework.server import next

config = {"matcher": ["/admin/:path*", "/:tenant/settings", "/((?!api|static).*)"]}

def proxy(request):
    if request.cookies.get("session") != "ok":
        return PlainTextResponse("sign in first", status_code=401)
    return next(request_headers={"x-user": "proxy-checked"})
"""

SERVE = """
from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute
from framework import create_app
from framework.settings import Settings

async def echo(websocket):
    await websocket.accept()
    await websocket.send_text("hello " + websocket.headers.get("x-user", "-"))
    await websocket.close()

app = create_app(".", routes=[WebSocketRoute("/admin/ws", echo)],
                 settings=Settings(trusted_origins=("https://app.example",)))
outer = Starlette(routes=[Mount("/pfx", app=app)])
"""

TREE = {
    "app/admin/route.py": ROUTE.format(name="admin"),
    "app/admin/reports/route.py": ROUTE.format(name="reports"),
    "app/[tenant]/settings/route.py": ROUTE.format(name="settings"),
    "app/users/[id]/route.py": ROUTE.format(name="user"),
    "app/docs/[slug]/route.py": ROUTE.format(name="doc"),
    "app/api/open/route.py": ROUTE.format(name="api"),
    "proxy.py": PROXY,
    "serve.py": SERVE,
}

BYPASSES = [
    "/./admin",
    "/x/../admin",
    "/%2e%2e/admin",
    "/%2E/admin",
    "/api/../admin/reports",
    "/admin/%2e/reports",
    "/acme%2Fx/settings",
    "/users/42%0A",
    "/docs/secret%0A",
    "/%61dmin",
    "/api/%2e%2e/admin",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("guarded") / "p", TREE)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Server]:
    with run_framework(project) as running:
        yield running


@pytest.mark.parametrize("path", BYPASSES)
def test_every_spelling_of_a_guarded_path_meets_the_proxy(server: Server, path: str) -> None:
    reply = server.get(path, headers={"x-user": "admin"})
    assert (reply.status, reply.text) == (401, "sign in first"), path
    signed_in = server.get(path, headers={"x-user": "admin", "cookie": "session=ok"})
    assert signed_in.status == 200 and signed_in.text.endswith("user=proxy-checked"), signed_in.text


def test_the_route_sees_the_normalised_path_the_proxy_checked(server: Server) -> None:
    reply = server.get("/acme%2Fx/settings", headers={"cookie": "session=ok"})
    assert reply.text == "settings {'tenant': 'acme/x'} user=proxy-checked"
    assert server.get("/api/open").text == "api {} user=-"  # outside the matcher: no proxy


@pytest.mark.parametrize(
    ("target", "args", "sent"),
    [
        (
            "serve:app",
            ("--root-path", "/pfx"),
            "",
        ),  # behind a proxy that strips /pfx: uvicorn puts it back in root_path
        ("serve:outer", (), "/pfx"),  # mounted in another Starlette app
    ],
)
def test_under_a_prefix_the_proxy_still_guards(project: Path, target: str, args: tuple[str, ...], sent: str) -> None:
    with run_uvicorn(project, target, *args) as running:
        for path in ["/admin", "/./admin", "/x/../admin", "/acme%2Fx/settings", "/%2e%2e/admin"]:
            assert running.get(sent + path).status == 401, path
        assert running.get(sent + "/admin", headers={"cookie": "session=ok"}).text == "admin {} user=proxy-checked"
        assert running.get(sent + "/api/open").status == 200
        redirect = running.get(sent + "/api/open/?q=1")  # the public URL keeps its prefix
        assert (redirect.status, redirect.header("location")) == (308, "/pfx/api/open?q=1")


def test_websocket_upgrades_go_through_the_proxy(project: Path) -> None:
    with run_uvicorn(project, "serve:app") as running:
        url = f"ws://127.0.0.1:{running.port}/admin/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=5).close()
        assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as dotted:
            connect(f"ws://127.0.0.1:{running.port}/x/%2e%2e/admin/ws", open_timeout=5).close()
        assert dotted.value.response.status_code == 401
        with connect(url, additional_headers={"cookie": "session=ok", "x-user": "admin"}, open_timeout=5) as ws:
            assert ws.recv(timeout=5) == "hello proxy-checked"
        with pytest.raises(InvalidStatus) as hijack:  # cross-site WebSocket hijacking
            connect(
                url,
                additional_headers={"cookie": "session=ok"},
                origin="https://evil.example",  # type: ignore[arg-type]
                open_timeout=5,
            ).close()
        assert hijack.value.response.status_code == 403
        with connect(
            url,
            additional_headers={"cookie": "session=ok"},
            origin="https://app.example",  # type: ignore[arg-type]
            open_timeout=5,
        ) as ws:  # a trusted origin
            assert ws.recv(timeout=5).startswith("hello")


CROSS_ORIGIN = [
    # (method, headers, status): a POST to an unguarded route of the same server
    ("POST", {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, 403),
    ("POST", {"sec-fetch-site": "same-site", "origin": "https://sub.127.0.0.1.nip.io"}, 403),
    ("POST", {"sec-fetch-site": "same-origin", "origin": "http://HOST"}, 200),
    ("POST", {"sec-fetch-site": "none"}, 200),
    ("POST", {"origin": "https://evil.example"}, 403),  # an older browser: Origin only
    ("POST", {"origin": "null"}, 403),
    ("POST", {"origin": "http://HOST"}, 200),
    ("POST", {}, 200),  # curl, API clients
    ("DELETE", {"sec-fetch-site": "cross-site"}, 403),
    ("GET", {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, 200),
    ("OPTIONS", {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, 204),
]


@pytest.mark.parametrize(("method", "headers", "status"), CROSS_ORIGIN)
def test_cross_origin_unsafe_requests_are_refused(
    server: Server, method: str, headers: dict[str, str], status: int
) -> None:
    host = f"127.0.0.1:{server.port}"
    sent = {k: v.replace("HOST", host) for k, v in headers.items()}
    reply = server.request(method, "/api/open", headers=sent)
    assert reply.status == status, reply.text
    if status == 403:
        assert reply.text == "Forbidden: cross-origin request refused"


def test_trusted_origins_and_the_per_route_opt_out(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "app/hook/route.py": "allow_cross_origin = True\n" + ROUTE.format(name="hook"),
            "app/form/route.py": ROUTE.format(name="form"),
            "serve.py": SERVE,
        },
    )
    with run_uvicorn(root, "serve:app") as running:
        evil = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
        assert running.request("POST", "/hook", headers=evil).status == 200
        assert running.request("POST", "/form", headers=evil).status == 403
        trusted = {"sec-fetch-site": "cross-site", "origin": "https://app.example"}
        assert running.request("POST", "/form", headers=trusted).status == 200


def test_login_csrf_on_the_example_app_is_refused(tmp_path: Path) -> None:
    with run_framework(REPO, env={"AUTH_DB_PATH": str(tmp_path / "auth.sqlite3"), "DEMO_USER": "1"}) as running:
        reply = running.request(
            "POST",
            "/login",
            body=b"username=demo&password=demo-password",
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "origin": "https://evil.example",
                "sec-fetch-site": "cross-site",
            },
        )
        assert reply.status == 403 and reply.header("set-cookie") is None


def raw_exchange(port: int, payload: list[bytes], pause: float = 0.0) -> bytes:
    """Send `payload` piece by piece on one connection, then read the answer until the server closes or 5 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for piece in payload:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before reading everything: what a cap should do
            if pause:
                time.sleep(pause)
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if _complete(data):
                break
        return data


def _complete(data: bytes) -> bool:
    """A whole response with a Content-Length has arrived."""
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


UPLOAD = """
from starlette.responses import PlainTextResponse
{config}
async def POST(request):
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return PlainTextResponse(f"{{size}} bytes")
"""


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def uploads(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The body cap is the app's: the same answers from either server."""
    root = write_tree(
        tmp_path_factory.mktemp("uploads") / "p",
        {
            "app/default/route.py": UPLOAD.format(config=""),
            "app/small/route.py": UPLOAD.format(config="max_body_size = 1000"),
            "app/unlimited/route.py": UPLOAD.format(config="max_body_size = None"),
        },
    )
    with run_framework(root, "start", "--server", request.param) as running:
        yield running


def head(path: str, extra: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def chunked(sizes: list[int]) -> list[bytes]:
    return [f"{n:x}\r\n".encode() + b"a" * n + b"\r\n" for n in sizes] + [b"0\r\n\r\n"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "body"),
    [
        ("/small", [head("/small", "Content-Length: 500\r\n"), b"a" * 500], 200, b"500 bytes"),
        ("/small", [head("/small", "Content-Length: 2000\r\n"), b"a" * 2000], 413, b"larger than 1000 bytes"),
        (
            "/small",
            [head("/small", "Transfer-Encoding: chunked\r\n"), *chunked([400, 400, 400])],
            413,
            b"larger than 1000",
        ),
        ("/small", [head("/small", "Transfer-Encoding: chunked\r\n"), *chunked([300, 300, 300])], 200, b"900 bytes"),
        ("/default", [head("/default", f"Content-Length: {11 * 2**20}\r\n")], 413, b"larger than 10485760 bytes"),
        ("/default", [head("/default", "Transfer-Encoding: chunked\r\n"), *chunked([2**20] * 11)], 413, b"larger than"),
        (
            "/unlimited",
            [head("/unlimited", "Transfer-Encoding: chunked\r\n"), *chunked([2**20] * 11)],
            200,
            f"{11 * 2**20} bytes".encode(),
        ),
    ],
)
def test_request_bodies_are_capped_while_streaming(
    uploads: Server, path: str, payload: list[bytes], status: int, body: bytes
) -> None:
    answer = raw_exchange(uploads.port, payload)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert body in answer
    if status == 413:
        assert b"connection: close" in answer.lower()


def test_an_aborted_upload_is_one_log_line(uploads: Server) -> None:
    with socket.create_connection(("127.0.0.1", uploads.port), timeout=5) as sock:
        sock.sendall(head("/unlimited", "Content-Length: 100000\r\n") + b"a" * 1000)
        time.sleep(0.2)
    assert uploads.get("/nothing-here").status == 404  # the server lives on
    deadline = time.monotonic() + 5
    while "disconnected" not in uploads.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = uploads.log()
    assert "POST /unlimited: the client disconnected before sending the whole request body" in log
    assert "Traceback" not in log and "ClientDisconnect" not in log


def test_a_malformed_trusted_origin_is_refused_at_startup(tmp_path: Path) -> None:
    from framework import create_app
    from framework.settings import Settings

    root = write_tree(tmp_path / "p", {"app/x/route.py": ROUTE.format(name="x")})
    with pytest.raises(ValueError, match=r"is not an origin; write an origin like https://app\.example"):
        create_app(root, settings=Settings(trusted_origins=("app.example/path",)))
    app = create_app(root, settings=Settings(trusted_origins=("HTTPS://App.Example/",)))
    assert app.router.trusted_origins == frozenset({"https://app.example"})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ("max_body_size = 0", "or None for no cap"),
        ("max_body_size = -5", "is not a size in bytes"),
        ("max_body_size = '10MiB'", "Write a whole number of bytes"),
        ("allow_cross_origin = 'yes'", "is not True or False"),
    ],
)
def test_bad_route_settings_are_load_problems_with_the_line(tmp_path: Path, line: str, fix: str) -> None:
    from framework import RouteTreeError, create_app

    root = write_tree(tmp_path / "p", {"app/x/route.py": "\n" + line + "\n" + ROUTE.format(name="x")})
    with pytest.raises(RouteTreeError) as info:
        create_app(root)
    [problem] = info.value.problems
    assert (problem.code, problem.files, problem.line) == ("bad-route-config", ("app/x/route.py",), 2)
    assert fix in str(problem)


def test_the_dev_server_caps_bodies_and_refuses_cross_origin_posts_too(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/small/route.py": UPLOAD.format(config="max_body_size = 1000")})
    with run_framework(root, "dev", "--trusted-origin", "https://app.example") as running:
        answer = raw_exchange(running.port, [head("/small", "Content-Length: 2000\r\n"), b"a" * 2000])
        assert answer.startswith(b"HTTP/1.1 413 ")
        evil = {"sec-fetch-site": "cross-site", "origin": "https://evil.example", "content-length": "0"}
        assert running.request("POST", "/small", headers=evil).status == 403
        trusted = {**evil, "origin": "https://app.example"}
        assert running.request("POST", "/small", headers=trusted).text == "0 bytes"
