"""instrumentation.py end to end: register(), shutdown(), on_request_error and middleware under real
`framework start` and `framework dev` processes on 127.0.0.1, and its problems refused with file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.helpers import free_port, run_framework, stop, subprocess_env, wait_for, write_tree

ROUTES = {
    "app/api/ok/route.py": """
        def GET(request):
            return {"ok": True}
    """,
    "app/api/boom/[id]/route.py": """
        def GET(request):
            raise RuntimeError("boom " + request.path_params["id"])

        async def WEBSOCKET(websocket):
            await websocket.accept()
            raise ValueError("socket boom")
    """,
}

# Writes one JSON line per event to events.jsonl beside it: what ran, in which process.
INSTRUMENTATION = """
    import json, os
    from pathlib import Path
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    EVENTS = Path(__file__).with_name("events.jsonl")
    TAG = {tag!r}

    def event(**data):
        with EVENTS.open("a") as out:
            out.write(json.dumps({{"pid": os.getpid(), "tag": TAG, **data}}) + "\\n")

    async def register():
        event(hook="register")

    def shutdown():
        event(hook="shutdown")

    async def on_request_error(error, request, context):
        event(hook="error", error=repr(error), path=request.url.path, route=context.route, file=context.file,
              method=context.method, route_type=context.route_type)
        if "fail" in request.query_params:
            raise KeyError("the reporter itself failed")

    middleware = [Middleware(CORSMiddleware, allow_origins=[{origin!r}], allow_methods=["*"])]
"""


def instrumentation(tag: str = "v1", origin: str = "https://app.example") -> str:
    return INSTRUMENTATION.format(tag=tag, origin=origin)


def events(root: Path) -> list[dict[str, object]]:
    path = root / "events.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def hooks(root: Path) -> list[tuple[object, object]]:
    return [(e["hook"], e["tag"]) for e in events(root)]


def start_failure(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework", "start", "--root", str(root), "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
    )


def test_start_runs_every_hook_and_applies_the_middleware(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "instrumentation.py": instrumentation()})
    with run_framework(root) as server:
        assert hooks(root) == [("register", "v1")]  # before the first request was answered
        reply = server.get("/api/boom/7")
        assert (reply.status, reply.text) == (500, "Internal Server Error")
        error = wait_for(lambda: [e for e in events(root) if e["hook"] == "error"], what="on_request_error")[0]
        assert error["error"] == "RuntimeError('boom 7')" and error["path"] == "/api/boom/7"
        assert (error["route"], error["file"], error["method"], error["route_type"]) == (
            "/api/boom/[id]",
            "app/api/boom/[id]/route.py",
            "GET",
            "route",
        )
        # the reporter's own failure is logged with the file, and the client still gets the original 500
        assert server.get("/api/boom/8?fail=1").status == 500
        wait_for(lambda: "instrumentation.py: on_request_error() raised" in server.log(), what="the logged failure")
        assert "the reporter itself failed" not in server.get("/api/boom/9?fail=1").text
        # CORS from instrumentation.py: a preflight, a 200 and a 404 all carry it
        preflight = server.request(
            "OPTIONS",
            "/api/ok",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        assert preflight.status == 200 and preflight.header("access-control-allow-origin") == "https://app.example"
        for path, status in (("/api/ok", 200), ("/nothing/here", 404)):
            reply = server.get(path, headers={"origin": "https://app.example"})
            assert reply.status == status and reply.header("access-control-allow-origin") == "https://app.example"
        assert (
            server.get("/api/ok", headers={"origin": "https://evil.example"}).header("access-control-allow-origin")
            is None
        )
        stop(server.process)
    assert hooks(root) == [("register", "v1"), ("error", "v1"), ("error", "v1"), ("error", "v1"), ("shutdown", "v1")]


def test_websocket_handler_errors_are_reported(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "instrumentation.py": instrumentation()})
    with run_framework(root) as server, connect(f"ws://127.0.0.1:{server.port}/api/boom/3", open_timeout=5) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        error = wait_for(lambda: [e for e in events(root) if e["hook"] == "error"], what="the WebSocket error")[0]
        assert (error["error"], error["method"], error["route"]) == (
            "ValueError('socket boom')",
            "WEBSOCKET",
            "/api/boom/[id]",
        )


def test_each_worker_registers_once(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "instrumentation.py": instrumentation()})
    with run_framework(root, "start", "--workers", "2") as server:
        wait_for(lambda: len(events(root)) >= 2, what="both workers' register()")
        for _ in range(20):
            assert server.get("/api/ok").status == 200
        registered = [e["pid"] for e in events(root) if e["hook"] == "register"]
        assert len(registered) == 2 and len(set(registered)) == 2


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_a_failing_register_stops_start_with_file_and_line(tmp_path: Path, server: str) -> None:
    root = write_tree(
        tmp_path / "p",
        {**ROUTES, "instrumentation.py": "def register():\n    raise RuntimeError('no database')\n"},
    )
    for args in ((), ("--workers", "2")):
        result = start_failure(root, "--server", server, *args)
        assert result.returncode == 1, result.stderr
        assert "instrumentation.py:2" in result.stderr and "RuntimeError: no database" in result.stderr
        assert "Traceback" not in result.stderr


def test_problems_with_the_file_stop_start(tmp_path: Path) -> None:
    cases = {
        "from starlette.middleware.cors import CORSMiddleware\nmiddleware = CORSMiddleware\n": "instrumentation.py:2: `middleware` holds type",
        "x = 1\nmiddleware = ['cors']\n": "instrumentation.py:2: `middleware` holds str 'cors', not a list of Middleware",
        "register = 3\n": "instrumentation.py:1: `register` is a int, not a function",
        "import nope_not_installed\n": "instrumentation.py:1: cannot import",
    }
    for number, (source, where) in enumerate(cases.items()):
        root = write_tree(tmp_path / f"p{number}", {**ROUTES, "instrumentation.py": source})
        result = start_failure(root)
        assert result.returncode == 1 and where in result.stderr, (source, result.stderr)
        assert "Traceback" not in result.stderr


def test_dev_reloads_hooks_and_middleware_and_shows_a_failing_register(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "instrumentation.py": instrumentation("v1", "https://one.example")})
    with run_framework(root, "dev") as server:
        wait_for(lambda: hooks(root) == [("register", "v1")], what="register() at startup")

        def cors(origin: str) -> str | None:
            return server.get("/api/ok", headers={"origin": origin}).header("access-control-allow-origin")

        assert cors("https://one.example") == "https://one.example"
        write_tree(root, {"instrumentation.py": instrumentation("v2", "https://two.example")})
        wait_for(lambda: cors("https://two.example") == "https://two.example", what="the new middleware")
        assert cors("https://one.example") is None
        assert hooks(root) == [("register", "v1"), ("shutdown", "v1"), ("register", "v2")]
        assert server.get("/api/boom/1").status == 500
        wait_for(lambda: ("error", "v2") in hooks(root), what="the new on_request_error")

        write_tree(root, {"instrumentation.py": "def register():\n    raise RuntimeError('no database')\n"})

        def broken() -> bool:
            page = server.get("/api/ok", headers={"accept": "text/html"})
            return page.status == 500 and "no database" in page.text and "instrumentation.py" in page.text

        wait_for(broken, what="the error page for every request")
        assert server.get("/nothing").status == 500
        wait_for(lambda: "instrumentation.py:2" in server.log(), what="the terminal line")
        assert ("shutdown", "v2") in hooks(root)

        write_tree(root, {"instrumentation.py": instrumentation("v3")})
        wait_for(lambda: server.get("/api/ok").status == 200, what="served again once fixed")
        assert hooks(root)[-1] == ("register", "v3") and server.process.poll() is None
        stop(server.process)
    assert hooks(root)[-1] == ("shutdown", "v3")


def test_dev_starts_with_a_failing_register_and_recovers(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p", {**ROUTES, "instrumentation.py": "async def register():\n    raise OSError('down')\n"}
    )
    with run_framework(root, "dev") as server:
        reply = server.get("/api/ok")
        assert reply.status == 500 and "OSError: down" in reply.text
        write_tree(root, {"instrumentation.py": instrumentation("ok")})
        wait_for(lambda: server.get("/api/ok").status == 200, what="served once register() succeeds")
        assert hooks(root) == [("register", "ok")]
