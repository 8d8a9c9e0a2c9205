"""`framework start --server uvicorn|granian`: the same options meaning the same things on both, against real
processes on 127.0.0.1: graceful shutdown on SIGTERM, worker processes, proxy headers, and the usage errors.

The limits on granian are in tests/test_limits.py; every wait is bounded and nothing asserts how fast.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.helpers import Server, run_cli, run_framework, wait_for, write_tree

SERVERS = ["uvicorn", "granian"]

PROJECT = {
    "app/api/pid/route.py": """
        import os

        def GET(request):
            return {"pid": os.getpid()}
    """,
    # waits until the test writes `release` beside app/ (at most 30 s), after saying it started
    "app/api/slow/route.py": """
        import asyncio
        from pathlib import Path

        ROOT = Path(__file__).resolve().parents[3]

        async def GET(request):
            (ROOT / "started").write_text("1")
            for _ in range(1500):
                if (ROOT / "release").exists():
                    return {"released": True}
                await asyncio.sleep(0.02)
            return {"released": False}
    """,
    "app/api/client/route.py": """
        def GET(request):
            return {"host": request.client.host, "scheme": request.url.scheme}

        def POST(request):
            return {"posted": True}
    """,
    # one line per hook and process: "register 1234", "shutdown 1234"
    "instrumentation.py": """
        import os
        from pathlib import Path

        EVENTS = Path(__file__).with_name("events.txt")

        def event(hook):
            with EVENTS.open("a") as out:
                out.write(f"{hook} {os.getpid()}\\n")

        def register():
            event("register")

        async def shutdown():
            event("shutdown")
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "p", PROJECT)


def events(root: Path, hook: str) -> list[int]:
    """The PIDs that ran `hook`, in order."""
    path = root / "events.txt"
    lines = path.read_text().split("\n") if path.is_file() else []
    return [int(line.split()[1]) for line in lines if line.startswith(f"{hook} ")]


def serve(root: Path, server: str, *args: str) -> AbstractContextManager[Server]:
    return run_framework(root, "start", "--server", server, *args)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def send_slow_request(running: Server, root: Path) -> socket.socket:
    """A connection whose GET /api/slow is running in the handler."""
    sock = socket.create_connection(("127.0.0.1", running.port), timeout=30)
    sock.sendall(b"GET /api/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    wait_for(lambda: (root / "started").is_file(), what="the slow handler to start")
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


# --- graceful shutdown ------------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_sigterm_refuses_new_connections_lets_the_request_in_flight_finish_and_exits_0(
    project: Path, server: str
) -> None:
    with serve(project, server, "--shutdown-timeout", "20") as running, send_slow_request(running, project) as slow:
        running.process.send_signal(signal.SIGTERM)
        wait_for(lambda: refused(running.port), what="new connections refused after SIGTERM")
        assert running.process.poll() is None, "the server left before the request in flight finished"
        (project / "release").write_text("1")
        reply = read_all(slow)
        assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b'{"released":true}'), reply
        assert running.process.wait(timeout=20) == 0, running.log()
    assert events(project, "shutdown") == events(project, "register")  # shutdown() ran in the serving process


@pytest.mark.parametrize("server", SERVERS)
def test_a_request_past_the_shutdown_timeout_is_cut_and_the_process_exits_0(project: Path, server: str) -> None:
    with serve(project, server, "--shutdown-timeout", "1") as running, send_slow_request(running, project) as slow:
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=20) == 0, running.log()
        assert not read_all(slow).startswith(b"HTTP/1.1 200 ")
    # uvicorn cancels the request and runs shutdown(); granian kills the worker, so shutdown() does not run
    assert events(project, "shutdown") == (events(project, "register") if server == "uvicorn" else [])


# --- worker processes --------------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_each_worker_builds_the_app_registers_once_and_answers(project: Path, server: str) -> None:
    with serve(project, server, "--workers", "2") as running:
        registered = wait_for(lambda: len(events(project, "register")) == 2 and events(project, "register"))
        answered: set[int] = set()
        for _ in range(300):  # a new connection each time: the kernel spreads them over the workers
            answered.add(json.loads(running.get("/api/pid").body)["pid"])
            if len(answered) == 2:
                break
        assert answered == set(registered) and running.process.pid not in answered
    assert len(set(registered)) == 2 and events(project, "register") == registered


# --- proxy headers ---------------------------------------------------------------------------------

FORWARDED = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}


@pytest.mark.parametrize("server", SERVERS)
def test_proxy_headers_are_read_from_127_0_0_1_only_with_the_option(project: Path, server: str) -> None:
    with serve(project, server, "--proxy-headers") as running:
        assert json.loads(running.get("/api/client", headers=FORWARDED).body) == {
            "host": "203.0.113.7",
            "scheme": "https",
        }
        # the app's own checks are the same on both servers: a cross-site POST is refused
        evil = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
        assert running.request("POST", "/api/client", headers=evil).status == 403
    with serve(project, server) as running:
        assert json.loads(running.get("/api/client", headers=FORWARDED).body) == {"host": "127.0.0.1", "scheme": "http"}


# --- usage errors ----------------------------------------------------------------------------------


def test_granian_without_granian_installed_is_a_usage_error_naming_the_install(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "granian", None)  # `import granian` now raises ImportError
    result = run_cli("start", "--root", str(project), "--server", "granian")
    assert result.returncode == 2, result.stderr
    assert "pip install 'framework[granian]'" in result.stderr and "Traceback" not in result.stderr


def test_granian_refuses_a_head_limit_it_cannot_hold(project: Path) -> None:
    result = run_cli("start", "--root", str(project), "--server", "granian", "--max-head-size", "4KiB")
    assert result.returncode == 2, result.stderr
    assert "set --max-head-size 8KiB or more, or serve with --server uvicorn" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "nginx"], "'nginx' is not one of 'uvicorn', 'granian'"),
        (["--shutdown-timeout", "0"], "0 is not in the range x>=1"),
        (["--shutdown-timeout", "soon"], "'soon' is not a valid integer"),
    ],
)
def test_bad_server_options_are_usage_errors(project: Path, args: list[str], message: str) -> None:
    result = run_cli("start", "--root", str(project), *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_help_lists_the_server_options() -> None:
    out = run_cli("start", "--help").stdout
    assert "--server [uvicorn|granian]" in out and "--shutdown-timeout SECONDS" in out
