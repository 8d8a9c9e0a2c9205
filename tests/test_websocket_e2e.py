"""`WEBSOCKET` in route files, against real servers on 127.0.0.1 (`framework start` and `framework dev`)
with a real client: params, the proxy, the cross-origin check, close codes, refusals, hot reload."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.helpers import Server, run_framework, run_uvicorn, wait_for, write_tree

TRUSTED = "https://app.example"

ROOM = """
async def WEBSOCKET(websocket, context):
    await websocket.accept()
    same = dict(context.params) == websocket.path_params
    await websocket.send_text(f"room={context.params['room']} same={same}")
    while True:
        await websocket.send_text("echo " + await websocket.receive_text())
"""

GUARDED = """
async def WEBSOCKET(websocket):
    await websocket.accept()
    await websocket.send_text("hello " + websocket.headers.get("x-user", "-"))
"""

PROXY = """
from starlette.responses import PlainTextResponse
from framework.server import next

config = {"matcher": ["/admin/:path*"]}

def proxy(request):
    if request.cookies.get("session") != "ok":
        return PlainTextResponse("sign in first", status_code=401)
    return next(request_headers={"x-user": "proxy-checked"})
"""

CLOSES = """
async def WEBSOCKET(websocket):
    await websocket.accept()
    await websocket.close(4001, "go away")
"""

RAISES = """
async def WEBSOCKET(websocket):
    if websocket.query_params.get("when") == "before":
        raise ValueError("refused before accept")
    await websocket.accept()
    raise ValueError("broke after accept")
"""

RETURNS = """
async def WEBSOCKET(websocket):
    await websocket.accept()
    await websocket.send_text("bye")
"""

SILENT = """
async def WEBSOCKET(websocket):
    return
"""

PAGE = """
def GET(request):
    return {"page": True}
"""

BOTH = """
def GET(request):
    return {"http": True}

async def WEBSOCKET(websocket):
    await websocket.accept()
    await websocket.send_text("socket")
"""

TREE = {
    "app/chat/[room]/route.py": ROOM,
    "app/admin/live/route.py": GUARDED,
    "app/closes/route.py": CLOSES,
    "app/raises/route.py": RAISES,
    "app/returns/route.py": RETURNS,
    "app/page/route.py": PAGE,
    "app/both/route.py": BOTH,
    "proxy.py": PROXY,
}


@pytest.fixture(scope="module", params=["start", "dev"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = write_tree(tmp_path_factory.mktemp(f"ws-{request.param}") / "p", TREE)
    with run_framework(root, request.param, "--trusted-origin", TRUSTED) as running:
        yield running


def ws(server: Server, path: str, **kwargs: object) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=5, close_timeout=5, **kwargs)  # type: ignore[arg-type]


def refused(server: Server, path: str, **kwargs: object) -> tuple[int, str]:
    """The status and body of a refused handshake."""
    with pytest.raises(InvalidStatus) as info:
        ws(server, path, **kwargs).close()
    return info.value.response.status_code, bytes(info.value.response.body or b"").decode()


def closed_with(conn: ClientConnection) -> tuple[int | None, str | None]:
    """Read until the server closes: the close code and reason it sent."""
    with conn, pytest.raises(ConnectionClosed) as info:
        while True:
            conn.recv(timeout=5)
    frame = info.value.rcvd
    return (frame.code, frame.reason) if frame is not None else (None, None)


@pytest.mark.parametrize(
    ("path", "room"),
    [("/chat/lobby", "lobby"), ("/chat/a%2Fb", "a/b"), ("/chat/caf%C3%A9", "café"), ("/chat/x/../lobby", "lobby")],
)
def test_echo_with_params_decoded_as_for_http(server: Server, path: str, room: str) -> None:
    with ws(server, path) as conn:
        assert conn.recv(timeout=5) == f"room={room} same=True"
        conn.send("ping")
        assert conn.recv(timeout=5) == "echo ping"


def test_the_proxy_guards_the_handshake(server: Server) -> None:
    assert refused(server, "/admin/live") == (401, "sign in first")
    assert refused(server, "/x/%2e%2e/admin/live") == (401, "sign in first")
    with ws(server, "/admin/live", additional_headers={"cookie": "session=ok"}) as conn:
        assert conn.recv(timeout=5) == "hello proxy-checked"  # next(request_headers=...) reaches the handler


def test_cross_origin_handshakes_are_refused_unless_trusted(server: Server) -> None:
    assert refused(server, "/chat/lobby", origin="https://evil.example")[0] == 403
    with ws(server, "/chat/lobby", origin=TRUSTED) as conn:
        assert conn.recv(timeout=5).startswith("room=lobby")


def test_close_codes(server: Server) -> None:
    assert closed_with(ws(server, "/closes")) == (4001, "go away")
    assert closed_with(ws(server, "/returns")) == (1000, "")  # the handler returned: a normal close
    assert closed_with(ws(server, "/raises")) == (1011, "")
    assert refused(server, "/raises?when=before")[0] == 500
    assert server.get("/page").status == 200  # the server lives on


def test_a_route_without_websocket_refuses_the_upgrade(server: Server) -> None:
    assert refused(server, "/page") == (403, "Forbidden: no WebSocket at this URL")
    assert refused(server, "/nothing-here")[0] == 403


def test_a_route_with_get_and_websocket_serves_both(server: Server) -> None:
    assert server.get("/both").text == '{"http":true}'
    assert server.request("OPTIONS", "/both").header("allow") == "GET, HEAD, OPTIONS"
    with ws(server, "/both") as conn:
        assert conn.recv(timeout=5) == "socket"


def test_websocket_only_routes_answer_http_with_405_and_no_websocket_in_allow(server: Server) -> None:
    for method in ["GET", "HEAD"]:  # the handshake is a GET: say what to upgrade to rather than deny GET
        reply = server.request(method, "/closes")
        assert (reply.status, reply.header("upgrade"), reply.header("allow")) == (426, "websocket", None)
    assert server.get("/closes").text == "Upgrade Required: connect with a WebSocket client"
    reply = server.request("POST", "/closes")
    assert (reply.status, reply.header("allow")) == (405, "OPTIONS")
    options = server.request("OPTIONS", "/closes")
    assert (options.status, options.header("allow")) == (204, "OPTIONS")


def test_start_logs_why_a_handshake_was_refused_and_what_raised(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**TREE, "app/silent/route.py": SILENT})
    with run_framework(root) as running:
        refused(running, "/page")
        refused(running, "/admin/live")
        assert refused(running, "/silent")[0] == 403
        closed_with(ws(running, "/raises"))
        with ws(running, "/chat/lobby") as conn:  # the client leaves while the handler awaits receive_text()
            conn.recv(timeout=5)
        assert running.get("/page").status == 200
    log = running.log()  # the server has stopped: everything it had to say is written
    assert "refused a WebSocket to /page: app/page/route.py exports no WEBSOCKET" in log
    assert "WEBSOCKET() in app/silent/route.py returned without accepting the WebSocket" in log
    assert "raised by WEBSOCKET() in app/raises/route.py" in log
    assert log.count("Traceback") == 1, log  # the client leaving (WebSocketDisconnect) is no error
    assert "without completing handshake" not in log  # a refusal is not an error (uvicorn's slip, see limits.py)


SERVE = """
from starlette.routing import WebSocketRoute
from framework import create_app

async def legacy(websocket):
    await websocket.accept()
    await websocket.send_text("starlette " + websocket.url.path)
    await websocket.close()

app = create_app(".", routes=[WebSocketRoute("/page", legacy), WebSocketRoute("/elsewhere", legacy)])
"""


def test_routes_added_the_starlette_way_still_serve_websockets(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/page/route.py": PAGE, "app/closes/route.py": CLOSES, "serve.py": SERVE})
    with run_uvicorn(root, "serve:app") as running:
        for path in ["/elsewhere", "/page"]:  # no file route; a file route without WEBSOCKET
            with ws(running, path) as conn:
                assert conn.recv(timeout=5) == f"starlette {path}"
        assert closed_with(ws(running, "/closes")) == (4001, "go away")  # a WEBSOCKET route wins
        assert refused(running, "/nothing")[0] == 403


LIVE = """
VERSION = {version!r}

async def WEBSOCKET(websocket):
    await websocket.accept()
    await websocket.send_text(VERSION)
    while True:
        await websocket.send_text(VERSION + " " + await websocket.receive_text())
"""


def greeting(server: Server, path: str) -> str:
    """The first message on a new socket."""
    with ws(server, path) as conn:
        return str(conn.recv(timeout=5))


def test_dev_serves_new_sockets_the_edited_code_while_open_ones_keep_theirs(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/live/route.py": LIVE.format(version="v1")})
    with run_framework(root, "dev") as running, ExitStack() as sockets:
        first = sockets.enter_context(ws(running, "/live"))
        assert first.recv(timeout=5) == "v1"
        (root / "app/live/route.py").write_text(LIVE.format(version="v2"), encoding="utf-8")

        def edited() -> ClientConnection | None:
            conn = sockets.enter_context(ws(running, "/live"))
            return conn if conn.recv(timeout=5) == "v2" else None

        second = wait_for(edited, what="a socket served by the edited file")
        first.send("a")
        second.send("b")
        assert (first.recv(timeout=5), second.recv(timeout=5)) == ("v1 a", "v2 b")


def test_dev_refuses_handshakes_to_a_route_that_fails_to_load_and_says_so_once(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/live/route.py": LIVE.format(version="v1")})
    with run_framework(root, "dev") as running:
        (root / "app/live/route.py").write_text("\ndef WEBSOCKET(websocket):\n    pass\n", encoding="utf-8")
        wait_for(lambda: "app/live/route.py:2" in running.log(), what="the reload's error line")
        for _ in range(2):
            status, body = refused(running, "/live")
            assert status == 500 and "`WEBSOCKET` is a plain `def`" in body and "app/live/route.py:2" in body
        (root / "app/live/route.py").write_text(LIVE.format(version="v3"), encoding="utf-8")
        wait_for(lambda: greeting(running, "/live") == "v3", what="the fixed route")
        log = running.log()
    assert log.count("app/live/route.py:2") == 1, log
    assert "ERROR" not in log, log


def test_dev_prints_one_line_per_websocket_handler_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/raises/route.py": RAISES})
    with run_framework(root, "dev") as running:
        assert closed_with(ws(running, "/raises")) == (1011, "")
        status, body = refused(running, "/raises?when=before")
        assert status == 500 and "ValueError: refused before accept" in body and "app/raises/route.py:4" in body
        log = wait_for(lambda: running.log() if "refused before" in running.log() else None, what="the error lines")
    assert "error app/raises/route.py:6 ValueError: broke after accept (WebSocket /raises)" in log
    assert "error app/raises/route.py:4 ValueError: refused before accept (WebSocket /raises)" in log
    assert "Traceback" not in log and "ERROR" not in log, log
