"""`framework dev` end to end: a real process on 127.0.0.1, real file writes in a temp project, polled with deadlines."""

from __future__ import annotations

import contextlib
import gc
import http.client
import io
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchfiles._rust_notify import RustNotify

from framework.dev import runner, watch
from framework.dev.terminal import Console
from tests.helpers import (
    REPO,
    Server,
    free_port,
    request,
    run_framework,
    stop,
    subprocess_env,
    wait_for,
    wait_until_serving,
    write_tree,
)

ROUTE = """
from starlette.responses import PlainTextResponse

def GET(request):
    return PlainTextResponse({text!r})
"""

PARAM_ROUTE = """
from starlette.responses import PlainTextResponse

def GET(request, context):
    return PlainTextResponse(repr(dict(context.params)))
"""

LIB_ROUTE = """
from starlette.responses import PlainTextResponse
from lib.greeting import greet

def GET(request):
    return PlainTextResponse(greet())
"""


def route(text: str) -> str:
    return ROUTE.format(text=text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "proj",
        {
            "app/stable/route.py": route("stable"),
            "app/api/hello/route.py": route("hello v1"),
            "app/api/greet/route.py": LIB_ROUTE,
            "lib/__init__.py": "",
            "lib/greeting.py": "def greet():\n    return 'hi v1'\n",
        },
    )


@pytest.fixture
def dev(project: Path) -> Iterator[Server]:
    with run_framework(project, "dev") as server:
        wait_for(lambda: "ready in" in server.log(), what="the banner")
        yield server


def serves(server: Server, path: str, text: str, status: int = 200, headers: dict[str, str] | None = None) -> bool:
    reply = server.get(path, headers=headers)
    return reply.status == status and reply.text == text


def serves_error(server: Server, path: str, *parts: str) -> bool:
    reply = server.get(path)
    return reply.status == 500 and all(part in reply.text for part in parts)


def status_of(server: Server, path: str, status: int) -> bool:
    return server.get(path).status == status


def test_banner_names_url_and_route_count(dev: Server) -> None:
    log = dev.log()
    assert f"http://127.0.0.1:{dev.port}" in log
    assert "3 routes" in log
    assert "\x1b[" not in log  # stdout is a file here: no colour


def test_add_edit_delete_a_route(dev: Server, project: Path) -> None:
    assert dev.get("/api/new").status == 404
    write_tree(project, {"app/api/new/route.py": route("new")})
    wait_for(lambda: serves(dev, "/api/new", "new"), what="the new route")

    # Same size, same second: the cached bytecode must not win over the new source.
    for text in ("new 2", "new 3", "new 4"):
        write_tree(project, {"app/api/new/route.py": route(text)})
        wait_for(lambda: serves(dev, "/api/new", text), what=f"the edit {text}")

    (project / "app/api/new/route.py").unlink()
    wait_for(lambda: status_of(dev, "/api/new", 404), what="404 after delete")
    assert serves(dev, "/api/hello", "hello v1")
    wait_for(lambda: "reloaded app/api/new/route.py in" in dev.log(), what="the reload line")


def test_keep_alive_connection_survives_reloads(dev: Server, project: Path) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    try:
        for version in range(3):
            write_tree(project, {"app/api/hello/route.py": route(f"hello k{version}")})
            wait_for(lambda: serves(dev, "/api/hello", f"hello k{version}"), what=f"version {version}")
            conn.request("GET", "/api/hello")  # the same connection every time
            reply = conn.getresponse()
            assert (reply.status, reply.read()) == (200, f"hello k{version}".encode())
    finally:
        conn.close()


def test_rename_folder_and_add_group(dev: Server, project: Path) -> None:
    write_tree(project, {"app/users/[id]/route.py": PARAM_ROUTE})
    wait_for(lambda: serves(dev, "/users/7", "{'id': '7'}"), what="the [id] route")

    (project / "app/users/[id]").rename(project / "app/users/[slug]")
    wait_for(lambda: serves(dev, "/users/7", "{'slug': '7'}"), what="the renamed [slug] route")

    (project / "app/(shop)").mkdir()
    (project / "app/users").rename(project / "app/(shop)/users")
    wait_for(lambda: "app/(shop)/users/[slug]/route.py" in dev.log(), what="the grouped route reloaded")
    assert serves(dev, "/users/8", "{'slug': '8'}")


def test_new_folder_and_file_written_at_once_every_time(dev: Server, project: Path) -> None:
    for i in range(8):
        folder = project / "app" / "burst" / f"n{i}" / "deep"
        folder.mkdir(parents=True)  # mkdir -p, then the file at once
        (folder / "route.py").write_text(route(f"burst {i}"), encoding="utf-8")
        wait_for(lambda: serves(dev, f"/burst/n{i}/deep", f"burst {i}"), timeout=5, what=f"burst route {i}")


def test_break_and_fix_a_route(dev: Server, project: Path) -> None:
    write_tree(project, {"app/api/hello/route.py": "def GET(request)\n    return <b>\n"})
    wait_for(lambda: status_of(dev, "/api/hello", 500), what="500 for the broken route")

    page = dev.get("/api/hello", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.header("content-type").startswith("text/html")
    assert "app/api/hello/route.py:1" in page.text
    assert "SyntaxError" in page.text
    assert "return &lt;b&gt;" in page.text and "<b>" not in page.text  # source lines, escaped

    text = dev.get("/api/hello")
    assert text.header("content-type").startswith("text/plain")
    assert "app/api/hello/route.py:1" in text.text and "> 1 | def GET(request)" in text.text

    assert serves(dev, "/stable", "stable")  # the others keep working
    wait_for(lambda: "error app/api/hello/route.py:1" in dev.log(), what="the error line")

    write_tree(project, {"app/api/hello/route.py": route("hello v2")})
    wait_for(lambda: serves(dev, "/api/hello", "hello v2"), what="the fixed route")


def test_a_save_that_fails_to_import_is_not_reported_as_reloaded(dev: Server, project: Path) -> None:
    broken = "def GET(request)\n    pass\n"
    for _ in range(2):  # saved twice with the same error: printed for each save
        count = dev.log().count("error app/api/hello/route.py:1")
        write_tree(project, {"app/api/hello/route.py": broken})
        wait_for(lambda: dev.log().count("error app/api/hello/route.py:1") > count, what="the error line")
    write_tree(project, {"app/api/hello/route.py": route("hello v2")})
    wait_for(lambda: serves(dev, "/api/hello", "hello v2"), what="the fixed route")
    wait_for(lambda: "reloaded app/api/hello/route.py" in dev.log(), what="the reload line of the fix")
    lines = [line for line in dev.log().splitlines() if line.startswith(("error", "reloaded"))]
    assert [line.split()[0] for line in lines] == ["error", "error", "reloaded"], lines


def test_break_and_fix_a_lib_module(dev: Server, project: Path) -> None:
    assert serves(dev, "/api/greet", "hi v1")
    write_tree(project, {"lib/greeting.py": "def greet():\n    return 'hi v2'\n"})
    wait_for(lambda: serves(dev, "/api/greet", "hi v2"), what="the lib edit")

    write_tree(project, {"lib/greeting.py": "raise RuntimeError('lib is broken')\n"})
    # Waited for as a whole: a save is a truncate then a write, and a busy machine can reload in between
    # (an empty lib/greeting.py: "cannot import name 'greet'"), then again once the write lands.
    wait_for(
        lambda: serves_error(dev, "/api/greet", "lib/greeting.py:1", "lib is broken"),
        what="500 naming the broken lib's line",
    )
    assert serves(dev, "/api/hello", "hello v1")

    write_tree(project, {"lib/greeting.py": "def greet():\n    return 'hi v3'\n"})
    wait_for(lambda: serves(dev, "/api/greet", "hi v3"), what="the fixed lib")

    (project / "lib/greeting.py").rename(project / "lib/welcome.py")  # the module the route imports is gone
    wait_for(lambda: status_of(dev, "/api/greet", 500), what="500 once lib/greeting.py is gone")
    assert "No module named 'lib.greeting'" in dev.get("/api/greet").text
    write_tree(project, {"app/api/greet/route.py": LIB_ROUTE.replace("lib.greeting", "lib.welcome")})
    wait_for(lambda: serves(dev, "/api/greet", "hi v3"), what="the route importing the renamed module")
    log = dev.log()
    assert "reloaded lib/greeting.py in" in log
    assert "error lib/greeting.py:1" in log


def test_invalid_tree_keeps_the_last_good_table(dev: Server, project: Path) -> None:
    write_tree(project, {"app/(a)/dup/route.py": route("a")})
    wait_for(lambda: serves(dev, "/dup", "a"), what="the first dup route")
    assert serves(dev, "/api/hello", "hello v1")  # imported now (a route's first import reads the file as it is)

    write_tree(project, {"app/(b)/dup/route.py": route("b"), "app/api/hello/route.py": route("hello v2")})
    wait_for(lambda: "the route tree is invalid" in dev.log(), what="the tree error")
    log = dev.log()
    assert "app/(a)/dup/route.py" in log and "app/(b)/dup/route.py" in log
    assert serves(dev, "/dup", "a")  # still the last good table
    assert serves(dev, "/api/hello", "hello v1")  # an edit made meanwhile waits for a valid tree

    shutil.rmtree(project / "app/(b)")
    wait_for(lambda: serves(dev, "/api/hello", "hello v2"), what="the pending edit applied after the fix")
    assert serves(dev, "/dup", "a")


def test_invalid_tree_shows_browsers_the_problem_and_serves_other_clients_the_last_good_table(
    dev: Server, project: Path
) -> None:
    write_tree(project, {"app/(g)/stable/route.py": route("second stable")})
    wait_for(lambda: "the route tree is invalid" in dev.log(), what="the tree error")
    for path in ("/stable", "/api/hello", "/nowhere"):
        page = dev.get(path, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status == 500 and page.header("content-type").startswith("text/html")
        assert "app/(g)/stable/route.py" in page.text and "app/stable/route.py" in page.text
        assert "define the same URL" in page.text and "Keep one of them" in page.text
    assert serves(dev, "/stable", "stable")  # curl, fetch(), test clients: the last good table
    assert serves(dev, "/stable", "stable", headers={"accept": "application/json"})

    shutil.rmtree(project / "app/(g)")
    wait_for(
        lambda: dev.get("/stable", headers={"accept": "text/html"}).text == "stable", what="the page after the fix"
    )
    assert dev.log().count("the route tree is invalid") == 1, dev.log()


def test_invalid_tree_at_startup_shows_the_problem_until_fixed(project: Path) -> None:
    write_tree(project, {"app/(a)/dup/route.py": route("a"), "app/(b)/dup/route.py": route("b")})
    with run_framework(project, "dev") as server:
        reply = server.get("/api/hello")
        assert reply.status == 500 and "app/(a)/dup/route.py" in reply.text and "same URL" in reply.text
        shutil.rmtree(project / "app/(b)")
        wait_for(lambda: serves(server, "/api/hello", "hello v1"), what="the fixed tree")
        assert serves(server, "/dup", "a")


def test_handler_exception_shows_the_dev_page_but_not_in_start(project: Path) -> None:
    write_tree(
        project,
        {
            "app/boom/route.py": """
        def GET(request):
            secret = "<script>alert(1)</script>"
            raise ValueError(secret)
    """
        },
    )
    with run_framework(project, "dev") as server:
        page = server.get("/boom", headers={"accept": "text/html"})
        assert page.status == 500
        assert "ValueError" in page.text and "app/boom/route.py:4" in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
        text = server.get("/boom")
        assert text.header("content-type").startswith("text/plain") and "Traceback" in text.text
        wait_for(lambda: "error app/boom/route.py:4 ValueError" in server.log(), what="the error line")
        assert "Traceback" not in server.log()  # one line in the terminal, not a traceback
    with run_framework(project, "start") as server:
        reply = server.get("/boom", headers={"accept": "text/html"})
        assert reply.status == 500
        assert "ValueError" not in reply.text and "route.py" not in reply.text


SLOW_ROUTE = """
import pathlib
import time
from starlette.responses import PlainTextResponse

ROOT = pathlib.Path(__file__).resolve().parents[2]

def GET(request):
    (ROOT / "started.flag").write_text("")
    deadline = time.monotonic() + 20
    while not (ROOT / "go.flag").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return PlainTextResponse("slow v1")
"""


def test_request_in_flight_finishes_on_the_old_handler(dev: Server, project: Path) -> None:
    write_tree(project, {"app/slow/route.py": SLOW_ROUTE})
    wait_for(lambda: "reloaded app/slow/route.py" in dev.log(), what="the slow route loaded")
    replies: list[object] = []
    thread = threading.Thread(target=lambda: replies.append(dev.get("/slow", timeout=30)))
    thread.start()
    wait_for(lambda: (project / "started.flag").exists(), what="the request in flight")
    write_tree(project, {"app/slow/route.py": route("slow v2")})
    # (a GET before the swap would wait on the old handler too, so wait for the reload line first)
    wait_for(lambda: dev.log().count("reloaded app/slow/route.py") == 2, what="the second reload")
    assert serves(dev, "/slow", "slow v2")  # new requests: the new handler
    (project / "go.flag").write_text("")
    thread.join(timeout=30)
    assert [(r.status, r.text) for r in replies] == [(200, "slow v1")]  # type: ignore[attr-defined]


class Hammer:
    """A client thread requesting one URL in a loop, recording every failure."""

    def __init__(self, port: int, path: str, expect: str) -> None:
        self.port, self.path, self.expect = port, path, expect
        self.count = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                reply = request(self.port, "GET", self.path, timeout=10)
                if reply.status != 200 or reply.text != self.expect:
                    self.failures.append(f"{reply.status} {reply.text[:200]!r}")
            except OSError as exc:
                self.failures.append(repr(exc))
            self.count += 1

    def __enter__(self) -> Hammer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


ATTR_ROUTE = """
import lib.greeting
from starlette.responses import PlainTextResponse

def GET(request):
    return PlainTextResponse(lib.greeting.steady())  # reads the module attribute on every request
"""


def greeting(version: int) -> str:
    return f"def greet():\n    return 'hi {version}'\n\ndef steady():\n    return 'steady'\n"


def test_stable_routes_never_fail_while_routes_and_lib_are_rewritten(dev: Server, project: Path) -> None:
    files = {f"app/churn/r{i}/route.py": route(f"churn {i} v0") for i in range(30)}
    write_tree(project, {**files, "app/api/attr/route.py": ATTR_ROUTE, "lib/greeting.py": greeting(0)})
    wait_for(
        lambda: serves(dev, "/churn/r29", "churn 29 v0") and serves(dev, "/api/attr", "steady"), what="the churn routes"
    )
    with Hammer(dev.port, "/stable", "stable") as hammer, Hammer(dev.port, "/api/attr", "steady") as attr:
        for version in range(1, 6):
            write_tree(project, {f"app/churn/r{i}/route.py": route(f"churn {i} v{version}") for i in range(30)})
            write_tree(project, {"lib/greeting.py": greeting(version)})
            wait_for(
                lambda: (
                    serves(dev, "/churn/r29", f"churn 29 v{version}")
                    and serves(dev, "/churn/r0", f"churn 0 v{version}")
                    and serves(dev, "/api/greet", f"hi {version}")
                ),
                what=f"version {version}",
            )
        wait_for(lambda: hammer.count > 50 and attr.count > 50, what="enough requests")
    assert hammer.failures == [] and attr.failures == []
    assert hammer.count > 50 and attr.count > 50


def test_pyproject_change_restarts_without_refusing_a_connection(dev: Server, project: Path) -> None:
    pid = dev.process.pid
    with Hammer(dev.port, "/stable", "stable") as hammer:
        wait_for(lambda: hammer.count > 5, what="requests before the restart")
        (project / "pyproject.toml").write_text("[project]\nname = 'proj'\n", encoding="utf-8")
        wait_for(lambda: dev.log().count("ready in") == 2, what="the restarted banner")
        before = hammer.count
        wait_for(lambda: hammer.count > before + 5, what="requests after the restart")
    assert hammer.failures == []
    assert "restarting: pyproject.toml changed" in dev.log()
    assert "after pyproject.toml changed" in dev.log()
    assert dev.process.pid == pid and dev.process.poll() is None  # the same process, exec'd in place
    write_tree(project, {"app/api/hello/route.py": route("after restart")})
    wait_for(lambda: serves(dev, "/api/hello", "after restart"), what="reload still works after the restart")


def test_ctrl_c_stops_cleanly(dev: Server) -> None:
    dev.process.send_signal(signal.SIGINT)
    assert dev.process.wait(timeout=15) == 0
    log = dev.log()
    assert "framework dev stopped" in log and "Traceback" not in log


def test_framework_source_change_restarts_and_a_broken_framework_keeps_the_old_code(
    project: Path, tmp_path: Path
) -> None:
    """The framework as an editable checkout (a copy here, so the test can edit it)."""
    source = tmp_path / "checkout"
    shutil.copytree(REPO / "framework", source / "framework", ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    log = tmp_path / "fw.log"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "framework", "dev", "--root", str(project), "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env(PYTHONPATH=str(source)),
        )
    server = Server(process, port, log)
    try:
        wait_until_serving(server, 30)
        wait_for(lambda: "ready in" in server.log(), what="the banner")
        errors = source / "framework/errors.py"
        original = errors.read_text(encoding="utf-8")
        errors.write_text(original + "\n# edited\n", encoding="utf-8")
        wait_for(lambda: server.log().count("ready in") == 2, what="the restart")
        assert "ready in" in server.log().split("restarting: framework/errors.py changed")[1]
        assert serves(server, "/stable", "stable")

        errors.write_text(original + "\nthis is not python\n", encoding="utf-8")
        wait_for(lambda: "cannot restart after framework/errors.py changed" in server.log(), what="the refusal")
        assert serves(server, "/stable", "stable") and process.poll() is None  # the old code keeps serving

        errors.write_text(original, encoding="utf-8")
        wait_for(lambda: server.log().count("ready in") == 3, what="the restart after the fix")
        assert serves(server, "/stable", "stable")
    finally:
        stop(process)


PROXY = """
from framework.server import next
from lib.greeting import greet

def proxy(request):
    return next(headers={{"x-proxy": greet() + " {tag}"}})
"""


def test_proxy_hot_reloads_and_a_broken_proxy_shows_the_dev_page(dev: Server, project: Path) -> None:
    write_tree(project, {"proxy.py": PROXY.format(tag="v1")})
    wait_for(lambda: dev.get("/stable").header("x-proxy") == "hi v1 v1", what="the new proxy")
    write_tree(project, {"proxy.py": PROXY.format(tag="v2")})
    wait_for(lambda: dev.get("/stable").header("x-proxy") == "hi v1 v2", what="the edited proxy")
    write_tree(project, {"lib/greeting.py": "def greet():\n    return 'hi v2'\n"})
    wait_for(lambda: dev.get("/stable").header("x-proxy") == "hi v2 v2", what="the proxy seeing the edited lib")

    write_tree(project, {"proxy.py": "def proxy(request:\n    pass\n"})
    page = wait_for(
        lambda: (r := dev.get("/stable", headers={"accept": "text/html"})).status == 500 and r,
        what="the dev error page for the broken proxy",
    )
    assert "proxy.py" in page.text and "SyntaxError" in page.text and "<html" in page.text.lower()
    assert dev.process.poll() is None
    wait_for(lambda: "proxy.py:1" in dev.log(), what="the terminal line naming the proxy")

    (project / "proxy.py").unlink()
    wait_for(
        lambda: serves(dev, "/stable", "stable") and dev.get("/stable").header("x-proxy") is None,
        what="routes served without a proxy",
    )


def test_proxy_and_middleware_together_keep_the_last_good_table(dev: Server, project: Path) -> None:
    write_tree(
        project,
        {
            "proxy.py": "def proxy(request):\n    return None\n",
            "middleware.py": "def middleware(request):\n    return None\n",
        },
    )
    wait_for(
        lambda: "proxy-and-middleware" in dev.log() or "both proxy.py and middleware.py" in dev.log(),
        what="the error naming both files",
    )
    assert serves(dev, "/stable", "stable")
    (project / "middleware.py").unlink()
    write_tree(project, {"app/api/after/route.py": route("after")})
    wait_for(lambda: serves(dev, "/api/after", "after"), what="recovery after removing middleware.py")


SSE_ROUTE = """
import asyncio
from pathlib import Path
from starlette.responses import StreamingResponse

ROOT = Path(__file__).resolve().parents[2]
VERSION = {version!r}

async def events():
    yield f"data: {{VERSION}} 0\\n\\n"
    for _ in range(2000):  # until the test says go (at most 20 s)
        if (ROOT / "go.flag").exists():
            break
        await asyncio.sleep(0.01)
    for i in range(1, 4):
        yield f"data: {{VERSION}} {{i}}\\n\\n"

async def GET(request):
    return StreamingResponse(events(), media_type="text/event-stream")
"""


def read_event(response: http.client.HTTPResponse) -> str:
    """One server-sent event's data line (the stream is chunked; read line by line)."""
    while True:
        line = response.fp.readline().decode()
        if line.startswith("data: "):
            return line[len("data: ") :].strip()


def test_a_stream_keeps_its_old_handler_across_a_reload(dev: Server, project: Path) -> None:
    write_tree(project, {"app/events/route.py": SSE_ROUTE.format(version="v1")})
    wait_for(lambda: "reloaded app/events/route.py" in dev.log(), what="the stream route loaded")
    old = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=30)
    old.request("GET", "/events")
    stream = old.getresponse()
    assert stream.getheader("content-type", "").startswith("text/event-stream")
    assert read_event(stream) == "v1 0"
    write_tree(project, {"app/events/route.py": SSE_ROUTE.format(version="v2")})
    wait_for(lambda: dev.log().count("reloaded app/events/route.py") == 2, what="the second reload")
    new = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=30)
    new.request("GET", "/events")
    fresh = new.getresponse()
    assert read_event(fresh) == "v2 0"  # a new stream: the new code
    (project / "go.flag").write_text("")
    assert [read_event(stream) for _ in range(3)] == ["v1 1", "v1 2", "v1 3"]  # the old one finishes on the old code
    assert [read_event(fresh) for _ in range(3)] == ["v2 1", "v2 2", "v2 3"]
    old.close()
    new.close()


def test_routes_import_on_demand_and_a_broken_one_still_reports_once(tmp_path: Path) -> None:
    """The first table imports no route (next dev compiles on demand); the warm-up imports the rest."""
    root = write_tree(
        tmp_path / "lazy",
        {
            "app/ok/route.py": route("ok"),
            "app/broken/route.py": "from starlette.responses import PlainTextResponse\n\nvalue = 1 / 0\n",
            "app/other/route.py": route("other"),
        },
    )
    with run_framework(root, "dev") as dev:
        assert serves(dev, "/ok", "ok")
        page = dev.get("/broken", headers={"accept": "text/html"})
        assert page.status == 500 and "ZeroDivisionError" in page.text
        wait_for(lambda: "app/broken/route.py:3" in dev.log(), what="the terminal line for the broken route")
        assert serves(dev, "/other", "other")
        wait_for(
            lambda: "reloaded" not in dev.log() and dev.log().count("app/broken/route.py:3") == 1,
            what="one line for the broken route, whether a request or the warm-up imported it",
        )


@contextlib.contextmanager
def dev_in_process(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, io.StringIO]]:
    """`DevServer` in a thread of this process (its port, its terminal), for tests that replace a part of it."""
    # run() records its socket's number in the environment, for its restarts: the empty value makes it bind
    # a new one, and is undone after the test (a number left behind would be taken by the next dev server).
    monkeypatch.setenv(runner.ENV_FD, "")
    port, terminal = free_port(), io.StringIO()
    server = runner.DevServer(root, "127.0.0.1", port, Console(stream=terminal), log_requests=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield port, terminal
    finally:
        wait_for(lambda: server.server is not None, what="the uvicorn server")
        assert server.server is not None
        server.server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()


def test_what_is_saved_before_the_watches_are_in_place_is_reloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watches go in after the first answer (`DevServer._watch`); a save in between is found by its mtime.

    In process, so that the saves land exactly in that window: the watcher is the real one, built a
    moment late."""
    root = write_tree(tmp_path / "late", {"app/hello/route.py": route("v1"), "app/other/route.py": route("other")})
    real = watch.watcher

    def late(paths: list[str]) -> RustNotify:
        write_tree(root, {"app/hello/route.py": route("v2"), "app/new/route.py": route("new")})
        (root / "app/other/route.py").unlink()
        return real(paths)

    monkeypatch.setattr(runner, "watcher", late)
    with dev_in_process(root, monkeypatch) as (port, _):
        assert wait_for(lambda: request(port, "GET", "/hello").text == "v1", what="the first answer")
        wait_for(lambda: request(port, "GET", "/hello").text == "v2", what="the edit saved before the watches")
        wait_for(lambda: request(port, "GET", "/new").text == "new", what="the route added before the watches")
        wait_for(lambda: request(port, "GET", "/other").status == 404, what="the route deleted before the watches")
        write_tree(root, {"app/hello/route.py": route("v3")})  # and the watches work from then on
        wait_for(lambda: request(port, "GET", "/hello").text == "v3", what="an edit after the watches")


def test_a_save_made_while_the_watches_go_in_is_reloaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save landing after the watches are in but before the catch-up looked is seen twice: by its mtime and
    by its event. It is reloaded once (a second reload would run instrumentation.py's shutdown() and
    register() again for nothing); the next save is reloaded as usual. Batches are handled in order, so once
    the next save's line is out, a second reload of the first would have been printed before it."""
    root = write_tree(tmp_path / "twice", {"app/hello/route.py": route("v1")})
    real = watch.watcher

    def then_save(paths: list[str]) -> RustNotify:
        notify = real(paths)  # the watches are in: this save also makes an event
        write_tree(root, {"app/hello/route.py": route("v2")})
        return notify

    monkeypatch.setattr(runner, "watcher", then_save)
    with dev_in_process(root, monkeypatch) as (port, terminal):
        assert wait_for(lambda: request(port, "GET", "/hello").text == "v1", what="the first answer")
        wait_for(lambda: request(port, "GET", "/hello").text == "v2", what="the save made as the watches went in")
        write_tree(root, {"app/next/route.py": route("next")})  # handled after that save's own event, if any
        wait_for(lambda: request(port, "GET", "/next").text == "next", what="the next save")
        wait_for(lambda: "app/next/route.py" in terminal.getvalue(), what="the next save's line")
        assert terminal.getvalue().count("app/hello/route.py") == 1, terminal.getvalue()


def test_watches_that_cannot_be_installed_are_reported_and_serving_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(paths: list[str]) -> RustNotify:
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr(runner, "watcher", refused)
    root = write_tree(tmp_path / "nowatch", {"app/hello/route.py": route("v1")})
    with dev_in_process(root, monkeypatch) as (port, terminal):
        assert wait_for(lambda: request(port, "GET", "/hello").text == "v1", what="the first answer")
        wait_for(lambda: "fs.inotify.max_user_watches" in terminal.getvalue(), what="the line saying why")
        line = terminal.getvalue()
        assert "cannot watch" in line and "OS file watch limit reached" in line and "WATCHFILES_FORCE_POLLING" in line
        assert request(port, "GET", "/hello").text == "v1"


def test_the_first_table_is_frozen_until_a_reload_replaces_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen, the first collection does not walk the first table before the first answer; thawed once
    replaced, the old table can be collected."""
    root = write_tree(tmp_path / "frozen", {"app/hello/route.py": route("v1")})
    with dev_in_process(root, monkeypatch) as (port, _):
        assert wait_for(lambda: request(port, "GET", "/hello").text == "v1", what="the first answer")
        assert gc.get_freeze_count() > 0
        write_tree(root, {"app/hello/route.py": route("v2")})
        wait_for(lambda: request(port, "GET", "/hello").text == "v2", what="the reload")
        assert gc.get_freeze_count() == 0
