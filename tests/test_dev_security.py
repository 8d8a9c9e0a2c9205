"""`framework dev` is for this machine: the Host check (DNS rebinding), the warning for a reachable
bind address, and request data escaped before it reaches the terminal. Real dev servers on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.dev.hosts import allowed_names, is_loopback
from tests.helpers import Server, run_framework, wait_for, write_tree

ROUTES = {
    "app/api/ok/route.py": """
        from starlette.responses import PlainTextResponse

        def GET(request):
            return PlainTextResponse("ok")
    """,
    "app/api/boom/[...rest]/route.py": """
        def GET(request, context):
            raise ValueError("no such thing: " + "/".join(context.params["rest"]))
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("devsec") / "proj", ROUTES)


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[Server]:
    with run_framework(project, "dev", "--allowed-host", "mybox.local") as server:
        wait_for(lambda: "ready in" in server.log(), what="the banner")
        yield server


def raw(port: int, head: bytes) -> bytes:
    """Send one request head as given (any Host, or none) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        for _ in range(1000):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def get(port: int, path: str, *host_lines: bytes) -> tuple[int, bytes]:
    head = b"GET " + path.encode("ascii") + b" HTTP/1.1\r\n" + b"".join(h + b"\r\n" for h in host_lines)
    reply = raw(port, head + b"Connection: close\r\n\r\n")
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", reply)
    assert match, reply[:200]
    return int(match.group(1)), reply.partition(b"\r\n\r\n")[2]


# --- Host check -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST:{port}",
        "localhost.:{port}",
        "127.0.0.1:{port}",
        "[::1]:{port}",
        "mybox.local",
        "MyBox.Local:{port}",
    ],
)
def test_this_machines_names_are_served(dev: Server, host: str) -> None:
    assert get(dev.port, "/api/ok", b"Host: " + host.format(port=dev.port).encode()) == (200, b"ok")


@pytest.mark.parametrize(
    "host, says",
    [
        (
            "evil.example",
            b"refused a request for Host evil.example; this server answers only this machine's names. "
            b"To allow it: framework dev --allowed-host evil.example\n",
        ),
        ("evil.example:{port}", b"To allow it: framework dev --allowed-host evil.example\n"),
        ("localhost.evil.example", b"framework dev --allowed-host localhost.evil.example\n"),
        ("127.0.0.2:{port}", b"framework dev --allowed-host 127.0.0.2\n"),
        ("evil example", b"refused a request whose Host is not a host name; use http://localhost\n"),
    ],
)
def test_other_hosts_get_a_one_line_403_and_never_the_error_page(
    dev: Server, project: Path, host: str, says: bytes
) -> None:
    header = b"Host: " + host.format(port=dev.port).encode()
    for path in ("/api/ok", "/api/boom/x", "/nowhere"):
        status, body = get(dev.port, path, header)
        assert status == 403 and body.endswith(says) and body.count(b"\n") == 1, body
        assert str(project).encode() not in body and b"Traceback" not in body
    assert "no such thing" not in dev.log()  # the handler never ran


@pytest.mark.parametrize(
    "host_lines, says",
    [
        ((), b"without a Host header"),
        ((b"Host: localhost", b"Host: evil.example"), b"more than one Host header"),
    ],
)
def test_a_missing_or_repeated_host_is_refused(dev: Server, host_lines: tuple[bytes, ...], says: bytes) -> None:
    status, body = get(dev.port, "/api/ok", *host_lines)
    assert status == 403 and says in body


def websocket_handshake(port: int, host: bytes) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return raw(
        port,
        b"GET /api/ws HTTP/1.1\r\nHost: " + host + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )


def test_a_websocket_handshake_for_another_host_is_refused(dev: Server) -> None:
    reply = websocket_handshake(dev.port, b"evil.example")
    assert reply.startswith(b"HTTP/1.1 403 ")
    assert reply.endswith(b"framework dev --allowed-host evil.example\n")
    # this machine's name gets past the guard (no WebSocket route here, so the router refuses it without the hint)
    assert b"--allowed-host" not in websocket_handshake(dev.port, b"localhost")


def test_the_allowed_names() -> None:
    names = allowed_names(("0.0.0.0", "0.0.0.0"), ("mybox.local",))
    assert names == {"localhost", "127.0.0.1", "::1", "0.0.0.0", "mybox.local"}
    assert allowed_names(("::",), ()) == {"localhost", "127.0.0.1", "::1", "::"}


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("fe80::1%eth0", False),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


# --- bind address -----------------------------------------------------------------------------------

WARNING = "which other machines can reach: the dev error page shows source code and file paths"


def test_binding_every_interface_warns_that_the_error_page_is_exposed(project: Path) -> None:
    with run_framework(project, "dev", "--host", "0.0.0.0") as server:
        wait_for(lambda: "ready in" in server.log(), what="the banner")
        assert re.search(
            rf"warning listening on 0\.0\.0\.0, {WARNING} to anyone who can reach port {server.port}\.", server.log()
        )
        assert get(server.port, "/api/ok", b"Host: 0.0.0.0") == (200, b"ok")  # the bound address is a name too
        assert get(server.port, "/api/ok", b"Host: 192.168.1.20")[0] == 403


def test_the_default_loopback_bind_does_not_warn(dev: Server) -> None:
    assert "ready in" in dev.log() and WARNING not in dev.log()


# --- terminal injection -----------------------------------------------------------------------------


def test_request_data_reaches_the_terminal_escaped(dev: Server) -> None:
    """A path that would retitle the terminal (OSC ... BEL), clear it (CSI 2J) and forge a `reloaded` line,
    and an exception message carrying it: the captured output has the escapes, never the bytes."""
    path = "/api/boom/x%1b]0;owned%07%1b[2J%0areloaded%20app/api/ok/route.py%20in%201%20ms%e2%80%ae"
    status, _ = get(dev.port, path, b"Host: localhost")
    assert status == 500
    line = wait_for(
        lambda: next((text for text in dev.log().splitlines() if "no such thing" in text), None), what="the error line"
    )
    log = dev.log()
    assert not any(c in log for c in "\x1b\x07\u202e"), log
    assert not any(text.startswith("reloaded") for text in log.splitlines()), log
    escaped = "x\\x1b]0;owned\\x07\\x1b[2J\\x0areloaded app/api/ok/route.py in 1 ms\\u202e"
    assert (
        line
        == f"error app/api/boom/[...rest]/route.py:3 ValueError: no such thing: {escaped} (GET /api/boom/{escaped})"
    )
    request_line = wait_for(
        lambda: next((text for text in dev.log().splitlines() if text.startswith("GET /api/boom/x")), None),
        what="the request line",
    )
    assert re.fullmatch(
        rf"GET /api/boom/{re.escape(escaped)} 500 in \d+ ms \(app/api/boom/\[\.\.\.rest\]/route\.py\)", request_line
    )
