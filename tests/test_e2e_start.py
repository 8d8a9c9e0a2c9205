"""`framework start` as a real process on 127.0.0.1: every Core behaviour over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from tests.helpers import Server, run_framework, wait_for, write_tree

ECHO = """
from starlette.responses import JSONResponse

def GET(request, context):
    return JSONResponse({"route": ROUTE, "params": context.params, "path_params": request.path_params})
"""


def echo(route: str) -> str:
    return f"ROUTE = {route!r}\n" + ECHO


PROJECT = {
    "app/route.py": echo("/"),
    "app/api/health/route.py": """
        from starlette.responses import PlainTextResponse
        def GET(request):
            return PlainTextResponse("ok", headers={"x-handler": "GET"})
    """,
    "app/api/users/me/route.py": echo("/api/users/me"),
    "app/api/users/[id]/route.py": echo("/api/users/[id]")
    + """
async def POST(request, context):
    body = await request.body()
    return JSONResponse({"created": context.params["id"], "body": body.decode()}, status_code=201)

def DELETE(request):
    from starlette.responses import Response
    return Response(status_code=204, headers={"x-deleted": request.path_params["id"]})
""",
    "app/api/files/[...path]/route.py": echo("/api/files/[...path]"),
    "app/api/docs/[[...slug]]/route.py": echo("/api/docs/[[...slug]]"),
    "app/(admin)/api/stats/route.py": echo("/api/stats"),
    "app/api/_lib/secret/route.py": echo("/api/_lib/secret"),
    "app/api/%5Fliteral/route.py": echo("/api/_literal"),
    "app/api/café/route.py": echo("/api/café"),
    "app/shop/[category]/route.py": echo("/shop/[category]"),
    "app/shop/[category]/[...rest]/route.py": echo("/shop/[category]/[...rest]"),
    "app/api/postonly/route.py": """
        from starlette.responses import PlainTextResponse
        def POST(request):
            return PlainTextResponse("posted", status_code=201)
    """,
    "app/api/opts/route.py": """
        from starlette.responses import PlainTextResponse, Response
        def GET(request):
            return PlainTextResponse("get")
        def OPTIONS(request):
            return Response(status_code=200, headers={"access-control-allow-origin": "*", "x-custom-options": "1"})
    """,
    "app/api/headx/route.py": """
        from starlette.responses import PlainTextResponse, Response
        def GET(request):
            return PlainTextResponse("get-body", headers={"x-from": "GET"})
        def HEAD(request):
            return Response(headers={"x-from": "HEAD"})
    """,
    "app/api/all/route.py": "\n".join(
        f"def {m}(request):\n    from starlette.responses import Response\n    return Response()\n"
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
    ),
    "app/api/lower/route.py": """
        from starlette.responses import PlainTextResponse
        def get(request):
            return PlainTextResponse("lower")
        def POST(request):
            return PlainTextResponse("post")
    """,
    "app/api/boom/route.py": """
        def GET(request):
            raise ValueError("secret detail that must not leak")
    """,
    "app/api/noresp/route.py": """
        from starlette.responses import PlainTextResponse
        def GET(request):
            if request.query_params.get("ok"):
                return PlainTextResponse("fine")
            return "not a response", 200
    """,
    "app/api/blocking/route.py": """
        from starlette.responses import PlainTextResponse
        from lib.gate import GATE
        def GET(request):
            return PlainTextResponse("released" if GATE.wait(timeout=10) else "timed out")
    """,
    "app/api/release/route.py": """
        from starlette.responses import PlainTextResponse
        from lib.gate import GATE
        async def GET(request):
            GATE.set()
            return PlainTextResponse("set")
    """,
    "lib/__init__.py": "",
    "lib/gate.py": "import threading\nGATE = threading.Event()\n",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = write_tree(tmp_path_factory.mktemp("e2e") / "project", PROJECT)
    with run_framework(root, "start") as srv:
        yield srv


def body(reply) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(reply.body)


ROUTED = [
    ("/", "/", {}),
    ("/api/users/me", "/api/users/me", {}),
    ("/api/users/ME", "/api/users/[id]", {"id": "ME"}),
    ("/api/users/42", "/api/users/[id]", {"id": "42"}),
    ("/api/users/a%2Fb", "/api/users/[id]", {"id": "a/b"}),
    ("/api/users/a%252Fb", "/api/users/[id]", {"id": "a%2Fb"}),
    ("/api/users/a+b", "/api/users/[id]", {"id": "a+b"}),
    ("/api/users/%E2%9C%93", "/api/users/[id]", {"id": "✓"}),
    ("/api/files/a/b.txt", "/api/files/[...path]", {"path": ["a", "b.txt"]}),
    ("/api/files/a%2Fb/c%20d", "/api/files/[...path]", {"path": ["a/b", "c d"]}),
    ("/api/docs", "/api/docs/[[...slug]]", {}),
    ("/api/docs/x/y", "/api/docs/[[...slug]]", {"slug": ["x", "y"]}),
    ("/api/stats", "/api/stats", {}),
    ("/api/_literal", "/api/_literal", {}),
    ("/api/%5Fliteral", "/api/_literal", {}),
    ("/api/caf%C3%A9", "/api/café", {}),
    ("/shop/shoes", "/shop/[category]", {"category": "shoes"}),
    ("/shop/shoes/a/b", "/shop/[category]/[...rest]", {"category": "shoes", "rest": ["a", "b"]}),
    ("/api/./users/me", "/api/users/me", {}),
    ("/api/x/../users/me", "/api/users/me", {}),
    ("/api/%2e%2e/api/users/%2E/me", "/api/users/me", {}),
    ("/../../api/users/7", "/api/users/[id]", {"id": "7"}),
]


@pytest.mark.parametrize(("path", "route", "params"), ROUTED)
def test_routes_and_params_over_http(server: Server, path: str, route: str, params: dict) -> None:
    reply = server.get(path)
    assert reply.status == 200, reply.body
    assert body(reply) == {"route": route, "params": params, "path_params": params}


@pytest.mark.parametrize(
    "path",
    [
        "/api/files",
        "/api/_lib/secret",
        "/api/(admin)/stats",
        "/API/health",
        "/api/users/me/extra",
        "/nope",
        "/api/%5Flib/secret",
    ],
)
def test_unmatched_paths_are_404(server: Server, path: str) -> None:
    reply = server.get(path)
    assert reply.status == 404 and reply.text == "Not Found"


@pytest.mark.parametrize("path", ["/api/users/%ZZ", "/api/users/%", "/api/users/%E2%9C", "/api/%ZZ/x", "/%C3"])
def test_malformed_escapes_are_400(server: Server, path: str) -> None:
    reply = server.get(path)
    assert reply.status == 400
    assert b"percent-escape" in reply.body or b"UTF-8" in reply.body


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/health/", "/api/health"),
        ("/api/health/?a=1&b=%20", "/api/health?a=1&b=%20"),
        ("/api//health", "/api/health"),
        ("/api/users/", "/api/users"),
        ("/api/files/a//b", "/api/files/a/b"),
        ("//evil.example/", "/evil.example"),
    ],
)
def test_trailing_and_repeated_slashes_redirect_308(server: Server, path: str, location: str) -> None:
    for method in ("GET", "POST"):
        reply = server.request(method, path)
        assert reply.status == 308
        assert reply.header("location") == location


def test_head_is_served_from_get_without_body(server: Server) -> None:
    get, head = server.get("/api/health"), server.request("HEAD", "/api/health")
    assert head.status == 200 and head.body == b""
    assert head.header("x-handler") == "GET" and head.header("content-type") == get.header("content-type")
    assert head.header("content-length") == "2"


def test_exported_head_wins(server: Server) -> None:
    assert server.request("HEAD", "/api/headx").header("x-from") == "HEAD"
    assert server.get("/api/headx").header("x-from") == "GET"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/health", "GET, HEAD, OPTIONS"),
        ("/api/users/1", "DELETE, GET, HEAD, OPTIONS, POST"),
        ("/api/postonly", "OPTIONS, POST"),
        ("/api/all", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
        ("/api/lower", "OPTIONS, POST"),
    ],
)
def test_automatic_options_lists_allow(server: Server, path: str, allow: str) -> None:
    reply = server.request("OPTIONS", path)
    assert reply.status == 204 and reply.body == b""
    assert reply.header("allow") == allow


def test_exported_options_replaces_the_automatic_one(server: Server) -> None:
    reply = server.request("OPTIONS", "/api/opts")
    assert reply.status == 200 and reply.header("x-custom-options") == "1"
    assert reply.header("allow") is None


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/health", "GET, HEAD, OPTIONS"),
        ("PUT", "/api/users/1", "DELETE, GET, HEAD, OPTIONS, POST"),
        ("GET", "/api/postonly", "OPTIONS, POST"),
        ("HEAD", "/api/postonly", "OPTIONS, POST"),
        ("GET", "/api/lower", "OPTIONS, POST"),
        ("PROPFIND", "/api/health", "GET, HEAD, OPTIONS"),
    ],
)
def test_unexported_methods_are_405_with_allow(server: Server, method: str, path: str, allow: str) -> None:
    reply = server.request(method, path)
    assert reply.status == 405
    assert reply.header("allow") == allow


def test_other_methods_reach_their_handlers(server: Server) -> None:
    created = server.request("POST", "/api/users/9", body=b"hello")
    assert created.status == 201 and body(created) == {"created": "9", "body": "hello"}
    deleted = server.request("DELETE", "/api/users/9")
    assert deleted.status == 204 and deleted.header("x-deleted") == "9"


def test_handler_exception_is_a_plain_500_and_the_log_names_the_file(server: Server) -> None:
    reply = server.get("/api/boom")
    assert reply.status == 500 and reply.text == "Internal Server Error"
    assert b"secret detail" not in reply.body
    # uvicorn logs the traceback just after the 500 is sent
    wait_for(lambda: "raised by GET() in app/api/boom/route.py" in server.log(), what="the error log line")
    assert server.get("/api/health").status == 200  # the server lives on


def test_non_response_result_is_a_500_naming_file_function_line_and_value(server: Server) -> None:
    reply = server.get("/api/noresp")
    assert reply.status == 500 and reply.text == "Internal Server Error"
    wait_for(
        lambda: "app/api/noresp/route.py:6: GET() returned tuple ('not a response', 200)" in server.log(),
        what="the error log line",
    )
    assert "a (body, status) tuple is not an answer here" in server.log()
    assert "not a response" not in reply.text


def test_misspelled_export_is_warned_at_startup(server: Server) -> None:
    assert "app/api/lower/route.py:3: `get` is not a handler" in server.log()
    assert "Did you mean `GET`?" in server.log()


def test_sync_handlers_run_off_the_event_loop(server: Server) -> None:
    """A sync handler blocks on an event that only an async route sets: only the thread pool lets both run."""
    result: dict[str, str] = {}
    blocked = threading.Thread(target=lambda: result.setdefault("text", server.get("/api/blocking").text))
    blocked.start()
    assert server.get("/api/release").text == "set"
    blocked.join(timeout=15)
    assert result.get("text") == "released"
