"""Route segment config over a real `framework start`: `max_duration`, and the load-time warnings in
the server's log. Handlers count their runs in `lib/runs.py`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.helpers import Server, run_framework, wait_for, write_tree

TREE = {
    "lib/__init__.py": "",
    "lib/runs.py": """
        import asyncio
        import threading

        counts = {}
        held = False
        release = asyncio.Event()
        release_sync = threading.Event()

        def count(name):
            counts[name] = counts.get(name, 0) + 1
            return counts[name]
    """,
    "app/runs/route.py": """
        from lib import runs

        def GET(request):
            return runs.counts

        def POST(request):  # ?hold=1 holds every run of /slow, ?hold=0 lets them go; ?sync=go frees /limit/sync
            if request.query_params.get("sync") == "go":
                runs.release_sync.set()
                return None
            runs.held = request.query_params["hold"] == "1"
            runs.release.clear() if runs.held else runs.release.set()
            return None
    """,
    "app/slow/route.py": """
        import asyncio
        from starlette.responses import PlainTextResponse
        from lib import runs

        revalidate = 1

        async def GET(request):
            run = runs.count("slow")
            if runs.held:
                await runs.release.wait()
            await asyncio.sleep(0.05)  # a slow handler
            runs.count("slow-finished")
            return PlainTextResponse(f"run {run} {request.url.query}")
    """,
    "app/cached/route.py": """
        from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
        from lib import runs

        revalidate = 60

        def GET(request):
            run = runs.count("cached")
            kind = request.query_params.get("kind", "ok")
            if kind == "404":
                return PlainTextResponse(f"run {run}", status_code=404)
            if kind == "stream":
                return StreamingResponse(iter([f"run {run}".encode(), b"!"]))
            if kind == "cookie":
                response = PlainTextResponse(f"run {run}")
                response.set_cookie("seen", "1")
                return response
            if kind == "vary":
                return PlainTextResponse(f"run {run}", headers={"vary": "accept-language"})
            if kind == "private":
                return PlainTextResponse(f"run {run}", headers={"cache-control": "private, max-age=5"})
            if kind == "own":
                return PlainTextResponse(f"run {run}", headers={"cache-control": "public, max-age=7"})
            if kind == "raise":
                raise RuntimeError("boom")
            return PlainTextResponse(f"run {run}")

        def POST(request):
            return {"run": runs.count("cached-post")}

        def QUERY(request):
            return {"run": runs.count("cached-query")}
    """,
    "app/shared/route.py": """
        from lib import runs

        revalidate = 60
        cache_private = True

        async def GET(request):
            return {"run": runs.count("shared")}
    """,
    "app/static/route.py": """
        from lib import runs

        dynamic = "force-static"

        def GET(request):
            return {"run": runs.count("static"), "query": str(request.url.query)}
    """,
    "app/plain/route.py": """
        from lib import runs

        dynamic = "force-dynamic"

        def GET(request):
            return {"run": runs.count("plain")}
    """,
    "app/limit/async/route.py": """
        import asyncio

        max_duration = 0.5

        async def GET(request):
            await asyncio.sleep(30)
            return {"late": True}

        async def POST(request):
            await asyncio.sleep(30)
    """,
    "app/limit/sync/route.py": """
        from lib import runs

        max_duration = 0.5

        def GET(request):
            runs.release_sync.wait(30)  # the thread cannot be stopped: it finishes later, its result is discarded
            runs.count("sync-finished")
            return {"late": True}
    """,
    "app/limit/stream/route.py": """
        import asyncio
        from starlette.responses import StreamingResponse

        max_duration = 0.5

        async def chunks():
            yield b"first\\n"
            await asyncio.sleep(30)
            yield b"never\\n"

        def GET(request):
            return StreamingResponse(chunks())
    """,
    "app/limit/fast/route.py": """
        max_duration = 5

        async def GET(request):
            return {"fast": True}
    """,
    "app/typo/route.py": """
        revalidte = 10
        maxDuration = 5
        cache_privat = True

        def GET(request):
            return None
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = write_tree(tmp_path_factory.mktemp("config") / "p", TREE)
    with run_framework(root) as running:
        yield running


def runs(server: Server) -> dict[str, int]:
    counts: dict[str, int] = json.loads(server.get("/runs").body)
    return counts


def test_max_duration_answers_504_and_logs_the_route_file_and_limit(server: Server) -> None:
    for method in ("GET", "POST"):
        reply = server.request(method, "/limit/async")
        assert (reply.status, reply.text) == (504, "Gateway Timeout")
        line = f"{method} /limit/async: app/limit/async/route.py ran longer than max_duration = 0.5 s; answered 504"
        wait_for(lambda: line in server.log(), what=line)
    assert server.get("/limit/fast").text == '{"fast":true}'


def test_max_duration_on_a_sync_handler_answers_504_and_discards_its_result(server: Server) -> None:
    reply = server.get("/limit/sync")
    assert (reply.status, reply.text) == (504, "Gateway Timeout")
    assert runs(server).get("sync-finished") is None  # answered while the thread still waits
    server.request("POST", "/runs?sync=go")
    wait_for(lambda: runs(server).get("sync-finished") == 1, what="the sync handler's thread to finish")
    assert "app/limit/sync/route.py ran longer than max_duration = 0.5 s; answered 504" in server.log()
    assert server.get("/limit/fast").status == 200  # the connection and the server are fine


def test_max_duration_closes_the_connection_when_the_response_had_started(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /limit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # until the server closes the connection (bounded by the timeout)
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ") and b"first\n" in data
    assert b"never" not in data and not data.endswith(b"0\r\n\r\n")  # no terminating chunk: visibly cut
    line = "GET /limit/stream: app/limit/stream/route.py ran longer than max_duration = 0.5 s after its response"
    wait_for(lambda: line in server.log(), what=line)


def test_misspelled_config_names_are_warned_about_at_startup(server: Server) -> None:
    log = server.log()
    for line, name, meant in (
        (2, "revalidte", "revalidate"),
        (3, "maxDuration", "max_duration"),
        (4, "cache_privat", "cache_private"),
    ):
        assert (
            f"app/typo/route.py:{line}: `{name}` is not route config, so it changes nothing. Did you mean `{meant}`?"
            in log
        )
