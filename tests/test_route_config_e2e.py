"""Route segment config over a real `framework start` (and `framework dev`): `revalidate`, `force-static`,
`cache_private`, `max_duration`, and the load-time warnings in the server's log.

Handlers count their runs in `lib/runs.py`; `/gate` holds every run of `/slow` until released, so a
stale response can be seen leaving while its background refresh is provably still running.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Reply, Server, run_framework, wait_for, write_tree

TREE = {
    "lib/__init__.py": "",
    "lib/runs.py": """
        import asyncio
        import threading

        counts = {}
        flaky = "ok"  # what /flaky does: ok, raise or 503
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
            if "flaky" in request.query_params:
                runs.flaky = request.query_params["flaky"]
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
    "app/flaky/route.py": """
        from starlette.responses import PlainTextResponse
        from framework.server import after
        from lib import runs

        revalidate = 1

        def GET(request):
            run = runs.count("flaky")
            after(runs.count, "flaky-after")
            if runs.flaky == "raise":
                raise RuntimeError("backend down")
            if runs.flaky == "503":
                return PlainTextResponse("busy", status_code=503)
            return PlainTextResponse(f"run {run}")
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
    "app/limit/own-timeout/route.py": """
        max_duration = 5

        async def GET(request):
            raise TimeoutError("the backend's socket timed out")
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


def cache_of(reply: Reply) -> str | None:
    return reply.header("x-framework-cache")


def test_revalidate_serves_a_hit_then_stale_at_once_with_one_background_refresh(server: Server) -> None:
    first = server.get("/slow?x=1")
    assert (first.status, first.text, cache_of(first)) == (200, "run 1 x=1", "MISS")
    assert first.header("cache-control") == "s-maxage=1, stale-while-revalidate=31535999"

    server.request("POST", "/runs?hold=1")  # from here every run of /slow waits for the release
    stale = wait_for(lambda: (r := server.get("/slow?x=1")).header("x-framework-cache") == "STALE" and r, what="STALE")
    assert stale.text == "run 1 x=1"  # served while the refresh it started is still held
    assert stale.header("cache-control") == "s-maxage=1, stale-while-revalidate=31535999"
    assert int(stale.header("age") or "0") >= 1
    wait_for(lambda: runs(server)["slow"] == 2, what="the background refresh to start")
    assert runs(server)["slow-finished"] == 1

    again = server.get("/slow?x=1")
    assert (again.text, cache_of(again)) == ("run 1 x=1", "STALE")
    assert runs(server)["slow"] == 2  # one background refresh per URL, not one per stale request

    server.request("POST", "/runs?hold=0")
    fresh = wait_for(lambda: (r := server.get("/slow?x=1")).text == "run 2 x=1" and r, what="the refreshed entry")
    assert cache_of(fresh) in ("HIT", "STALE")  # STALE only if this machine took over a second to ask
    assert runs(server)["slow-finished"] == 2


def test_a_failed_background_refresh_keeps_the_stale_entry_and_is_logged(server: Server) -> None:
    assert server.get("/flaky").text == "run 1"
    seen: list[str] = []

    def served_until(line: str) -> bool:
        seen.append(server.get("/flaky").text)  # each stale request starts a refresh if none is running
        return line in server.log()

    server.request("POST", "/runs?flaky=raise")
    failed = "background refresh of GET /flaky (app/flaky/route.py) failed; the stale response stays"
    wait_for(lambda: served_until(failed), what=failed)
    assert "RuntimeError: backend down" in server.log()
    server.request("POST", "/runs?flaky=503")
    not_kept = "background refresh of GET /flaky (app/flaky/route.py) gave a response that is not kept"
    wait_for(lambda: served_until(not_kept), what=not_kept)
    assert set(seen) == {"run 1"}  # the stale entry, all along
    server.request("POST", "/runs?flaky=ok")
    wait_for(lambda: server.get("/flaky").text not in ("run 1", "busy"), what="a refresh that succeeds")
    wait_for(lambda: (c := runs(server))["flaky-after"] == c["flaky"], what="after() in every run, background ones too")


def test_each_query_string_is_its_own_entry_and_head_reads_the_same_entry(server: Server) -> None:
    a = server.get("/cached?kind=ok&page=1")
    b = server.get("/cached?kind=ok&page=2")
    assert (cache_of(a), cache_of(b)) == ("MISS", "MISS") and a.text != b.text
    hit = server.get("/cached?kind=ok&page=1")
    assert (hit.text, cache_of(hit)) == (a.text, "HIT")
    assert hit.header("cache-control") == "s-maxage=60, stale-while-revalidate=31535940"
    head = server.request("HEAD", "/cached?kind=ok&page=2")
    assert (head.status, head.body, cache_of(head)) == (200, b"", "HIT")
    assert head.header("content-length") == str(len(b.body))
    assert server.get("/cached?page=1&kind=ok").text != a.text  # another raw query, another entry


def test_cookies_and_authorization_bypass_the_cache_unless_cache_private(server: Server) -> None:
    kept = server.get("/cached?kind=ok&who=anyone")
    for headers in ({"cookie": "session=abc"}, {"authorization": "Bearer abc"}):
        bypass = server.get("/cached?kind=ok&who=anyone", headers=headers)
        assert cache_of(bypass) == "BYPASS" and bypass.text != kept.text
        assert bypass.header("cache-control") is None
    assert server.get("/cached?kind=ok&who=anyone").text == kept.text  # the bypasses were not stored

    first = server.get("/shared", headers={"cookie": "session=abc"})
    assert cache_of(first) == "MISS"
    for headers in ({"authorization": "Bearer other"}, {}):
        hit = server.get("/shared", headers=headers)
        assert (hit.text, cache_of(hit)) == (first.text, "HIT")
    assert runs(server)["shared"] == 1


@pytest.mark.parametrize("kind", ["404", "stream", "cookie", "vary", "private"])
def test_responses_that_are_not_a_plain_200_in_one_piece_are_passed_on_and_not_kept(server: Server, kind: str) -> None:
    first = server.get(f"/cached?kind={kind}")
    second = server.get(f"/cached?kind={kind}")
    assert (cache_of(first), cache_of(second)) == ("MISS", "MISS")
    assert first.text.rstrip("!") != second.text.rstrip("!")  # the handler ran both times
    assert "s-maxage" not in (second.header("cache-control") or "")


def test_a_handler_cache_control_is_kept_as_it_wrote_it(server: Server) -> None:
    first = server.get("/cached?kind=own")
    hit = server.get("/cached?kind=own")
    assert (cache_of(first), cache_of(hit), hit.text) == ("MISS", "HIT", first.text)
    assert hit.header("cache-control") == "public, max-age=7"


def test_a_handler_error_is_a_500_and_is_not_kept(server: Server) -> None:
    for _ in range(2):
        reply = server.get("/cached?kind=raise")
        assert (reply.status, reply.text) == (500, "Internal Server Error")


def test_force_static_computes_each_url_once_for_the_life_of_the_process(server: Server) -> None:
    first = server.get("/static")
    assert cache_of(first) == "MISS"
    assert first.header("cache-control") == "s-maxage=31536000"
    for _ in range(3):
        assert server.get("/static").body == first.body
    other = server.get("/static?q=1")
    assert cache_of(other) == "MISS" and json.loads(other.body)["query"] == "q=1"
    assert runs(server)["static"] == 2


def test_force_dynamic_and_other_methods_are_never_cached(server: Server) -> None:
    replies = [server.get("/plain"), server.get("/plain")]
    replies += [server.request(method, "/cached?kind=ok") for method in ("POST", "POST", "QUERY", "QUERY")]
    assert [json.loads(r.body)["run"] for r in replies] == [1, 2, 1, 2, 1, 2]
    assert all(cache_of(r) is None and r.header("cache-control") is None for r in replies)


def test_max_duration_answers_504_and_logs_the_route_file_and_limit(server: Server) -> None:
    for method in ("GET", "POST"):
        reply = server.request(method, "/limit/async")
        assert (reply.status, reply.text) == (504, "Gateway Timeout")
        line = f"{method} /limit/async: app/limit/async/route.py ran longer than max_duration = 0.5 s; answered 504"
        wait_for(lambda: line in server.log(), what=line)
    assert server.get("/limit/fast").text == '{"fast":true}'
    own = server.get("/limit/own-timeout")  # the handler's own TimeoutError is an error, not the limit
    assert (own.status, own.text) == (500, "Internal Server Error")


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


def test_framework_dev_never_caches(tmp_path: Path) -> None:
    files = {k: v for k, v in TREE.items() if k in ("lib/__init__.py", "lib/runs.py", "app/runs/route.py")}
    files["app/static/route.py"] = TREE["app/static/route.py"]
    files["app/cached/route.py"] = TREE["app/cached/route.py"]
    root = write_tree(tmp_path / "p", files)
    with run_framework(root, "dev") as running:
        replies = [running.get("/cached?kind=ok"), running.get("/cached?kind=ok")]
        assert [r.text for r in replies] == ["run 1", "run 2"]
        statics = [json.loads(running.get("/static").body)["run"] for _ in range(2)]
        assert statics == [1, 2]
        assert all(cache_of(r) is None and r.header("cache-control") is None for r in replies)
