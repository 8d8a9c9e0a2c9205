"""`framework dev`'s line per request, read back from a real dev server's output on 127.0.0.1."""

from __future__ import annotations

import http.client
import io
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from framework.dev.terminal import Console
from tests.helpers import Server, run_framework, wait_for, write_tree

TREE = {
    "app/ok/route.py": """
        from starlette.responses import PlainTextResponse

        def GET(request):
            return PlainTextResponse("ok")
    """,
    "app/boom/route.py": """
        def GET(request):
            raise ValueError("boom")
    """,
    "app/admin/route.py": """
        def GET(request):
            return {"admin": True}
    """,
    "app/live/route.py": """
        async def WEBSOCKET(websocket):
            await websocket.accept()
            await websocket.send_text("hi")
            await websocket.close()
    """,
    "app/events/route.py": """
        import asyncio
        from pathlib import Path
        from starlette.responses import StreamingResponse

        ROOT = Path(__file__).resolve().parents[2]

        async def events(flag):
            yield "data: 0\\n\\n"
            for _ in range(2000):  # until the test creates the flag (at most 20 s)
                if (ROOT / flag).exists():
                    break
                await asyncio.sleep(0.01)
            yield "data: 1\\n\\n"

        async def GET(request):
            return StreamingResponse(events(request.query_params["flag"]), media_type="text/event-stream")
    """,
    "proxy.py": """
        from starlette.responses import PlainTextResponse

        config = {"matcher": ["/admin/:path*", "/admin"]}

        def proxy(request):
            if request.cookies.get("session") != "ok":
                return PlainTextResponse("sign in first", status_code=401)
            return None
    """,
}

TREE["app/left/route.py"] = TREE["app/events/route.py"]

LINE = re.compile(r"^(?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}|-) in (?P<ms>\d+) ms(?: \((?P<note>.*)\))?$")


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: str
    note: str | None


def logged(server: Server) -> list[Logged]:
    """Every request line the server printed so far, parsed (the other lines are not requests)."""
    lines = [LINE.match(text) for text in server.log().splitlines()]
    return [Logged(m["method"], m["path"], m["status"], m["note"]) for m in lines if m is not None]


def line_for(server: Server, method: str, path: str) -> Logged:
    return wait_for(
        lambda: next((x for x in logged(server) if (x.method, x.path) == (method, path)), None),
        what=f"the line for {method} {path}",
    )


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = write_tree(tmp_path_factory.mktemp("reqlog") / "p", TREE)
    with run_framework(root, "dev") as server:
        wait_for(lambda: "ready in" in server.log(), what="the banner")
        yield server


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "note"),
    [
        ("GET", "/ok", {}, "200", None),
        ("HEAD", "/ok", {}, "200", None),
        ("POST", "/ok", {"content-length": "0"}, "405", None),
        ("GET", "/nowhere", {}, "404", None),
        ("GET", "/boom", {}, "500", "app/boom/route.py"),
        ("GET", "/admin", {}, "401", "proxy.py"),  # the proxy answered; the route never ran
        ("GET", "/admin/x?y=1", {"cookie": "session=ok"}, "404", None),  # the proxy let it through
        ("GET", "/caf%C3%A9/%1b[2J", {}, "404", None),
    ],
)
def test_one_line_per_request(
    dev: Server, method: str, path: str, headers: dict[str, str], status: str, note: str | None
) -> None:
    reply = dev.request(method, path, headers=headers)
    assert str(reply.status) == status
    printed = path.split("?")[0].replace("%C3%A9", "é").replace("%1b", "\\x1b")  # decoded, then escaped
    line = line_for(dev, method, printed)
    assert (line.status, line.note) == (status, note)
    assert sum(1 for x in logged(dev) if (x.method, x.path) == (method, printed)) == 1


def test_a_5xx_line_follows_the_errors_own_line(dev: Server) -> None:
    dev.get("/boom")
    line_for(dev, "GET", "/boom")
    lines = dev.log().splitlines()
    at = lines.index(next(text for text in lines if text.startswith("GET /boom 500")))
    assert lines[at - 1].startswith("error app/boom/route.py:3 ValueError: boom (GET /boom)")


def test_websocket_handshakes_are_logged_when_answered(dev: Server) -> None:
    with connect(f"ws://127.0.0.1:{dev.port}/live", open_timeout=5) as conn:
        assert conn.recv(timeout=5) == "hi"
    assert line_for(dev, "WS", "/live").status == "101"
    with pytest.raises(InvalidStatus):
        connect(f"ws://127.0.0.1:{dev.port}/ok", open_timeout=5)  # a route without WEBSOCKET
    assert line_for(dev, "WS", "/ok").status == "403"


def test_a_stream_is_logged_when_it_ends(dev: Server, tmp_path: Path) -> None:
    flag = tmp_path.name  # unique per test run, created under the project root below
    root = Path(dev.log_path).parent / "p"
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=30)
    try:
        conn.request("GET", f"/events?flag={flag}")
        stream = conn.getresponse()
        assert stream.readline() == b"data: 0\n"  # the stream is running: its response is not finished
        assert not any(x.path == "/events" for x in logged(dev))
        (root / flag).write_text("")
        assert stream.read().endswith(b"data: 1\n\n")
    finally:
        conn.close()
    line = line_for(dev, "GET", "/events")
    assert (line.status, line.note) == ("200", None)


def test_a_client_leaving_mid_stream_is_logged_as_not_finished(dev: Server) -> None:
    with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as sock:
        sock.sendall(b"GET /left?flag=never HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    line = line_for(dev, "GET", "/left")  # Starlette stops the stream once the server reports the client gone
    assert line.status == "200" and line.note == "response not finished"


def test_quiet_prints_no_request_lines(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"app/ok/route.py": TREE["app/ok/route.py"]})
    with run_framework(root, "dev", "--quiet") as server:
        for path in ("/ok", "/nowhere"):
            server.get(path)
        write_tree(root, {"app/ok/route.py": TREE["app/ok/route.py"].replace('"ok"', '"ok 2"')})
        wait_for(lambda: "reloaded app/ok/route.py" in server.log(), what="a line printed after the requests")
        assert logged(server) == [] and "GET" not in server.log()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("status", "colour"), [(101, "32"), (204, "32"), (308, "36"), (404, "33"), (503, "31")])
def test_the_status_is_coloured_by_its_class_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, status: int, colour: str
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Tty()
    Console(out).request("GET", "/x\x1b", status, 3.4, " (app/x/route.py)")
    assert out.getvalue() == f"GET /x\\x1b \x1b[{colour}m{status}\x1b[0m in 3 ms (app/x/route.py)\n"
    plain = io.StringIO()
    Console(plain).request("GET", "/x", status, 3.4)
    assert plain.getvalue() == f"GET /x {status} in 3 ms\n"
