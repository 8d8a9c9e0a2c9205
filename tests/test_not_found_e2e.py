"""app/not_found.py end to end: every 404 (unmatched URLs, not_found(), HTTPException(404)) under real
`framework start` and `framework dev` processes, its status rules, and a broken one in each mode."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, run_framework, wait_for, write_tree

ROUTES = {
    "app/api/items/[id]/route.py": """
        from starlette.exceptions import HTTPException
        from framework.navigation import not_found

        def GET(request, context):
            if context.params["id"] == "gone":
                not_found()
            if context.params["id"] == "raised":
                raise HTTPException(404, headers={"x-reason": "raised"})
            return {"id": context.params["id"]}
    """,
}

NOT_FOUND = """
    from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse
    from framework.headers import cookies

    def GET(request):
        path = request.url.path
        if path == "/old":
            return RedirectResponse("/api/items/1", status_code=308)
        if path == "/gone-for-good":
            return PlainTextResponse("gone", status_code=410)
        if path == "/as-json":
            return {"missing": path}
        if path == "/empty":
            return None
        cookies().set("seen", "1")
        return HTMLResponse(f"<h1>custom {request.method} {path}</h1>")
"""


def test_start_answers_every_404_with_not_found_py(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "app/not_found.py": NOT_FOUND})
    with run_framework(root) as server:
        for method in ("GET", "POST", "DELETE"):
            reply = server.request(method, "/no/such/page")
            assert reply.status == 404 and reply.text == f"<h1>custom {method} /no/such/page</h1>"
            assert "seen=1" in (reply.header("set-cookie") or "")
        head = server.request("HEAD", "/no/such/page")
        assert head.status == 404 and head.body == b""
        assert server.get("/not_found").text == "<h1>custom GET /not_found</h1>"  # not a route
        assert server.get("/api/items/1").text == '{"id":"1"}'
        assert server.get("/api/items/gone").text == "<h1>custom GET /api/items/gone</h1>"
        raised = server.get("/api/items/raised")
        assert raised.status == 404 and raised.text.startswith("<h1>custom")
        assert [server.get(p).status for p in ("/old", "/gone-for-good")] == [308, 410]
        assert server.get("/old").header("location") == "/api/items/1"
        as_json = server.get("/as-json")
        assert (as_json.status, as_json.text) == (404, '{"missing":"/as-json"}')
        empty = server.get("/empty")
        assert (empty.status, empty.body, empty.header("content-length")) == (404, b"", "0")


def test_without_not_found_py_the_404_stays_plain(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", ROUTES)
    with run_framework(root) as server:
        for path in ("/nothing", "/api/items/gone"):
            reply = server.get(path, headers={"accept": "text/html"})
            assert (reply.status, reply.text) == (404, "Not Found")
        assert server.get("/api/items/raised").header("x-reason") == "raised"


def test_a_broken_not_found_py_stops_start(tmp_path: Path) -> None:
    for source, where in (
        ("def GET(request):\n    return (\n", "app/not_found.py:2"),
        ("def get(request):\n    return None\n", "app/not_found.py: `GET` is missing"),
        ("GET = 'page'\n", "app/not_found.py:1: `GET` is a str"),
    ):
        root = write_tree(tmp_path / f"p{len(source)}", {**ROUTES, "app/not_found.py": source})
        result = run_cli("start", "--root", str(root), "--port", "1")
        assert result.returncode == 1 and where in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_dev_reloads_not_found_py_and_shows_a_broken_one(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", ROUTES)
    with run_framework(root, "dev") as server:
        assert server.get("/nothing").text == "Not Found"
        write_tree(root, {"app/not_found.py": NOT_FOUND})
        wait_for(lambda: server.get("/nothing").text == "<h1>custom GET /nothing</h1>", what="the new not_found.py")
        write_tree(root, {"app/not_found.py": "def GET(request):\n    return (\n"})

        def broken() -> bool:
            reply = server.get("/nothing", headers={"accept": "text/html"})
            return reply.status == 500 and "not_found.py" in reply.text and "SyntaxError" in reply.text

        wait_for(broken, what="the error page on 404s")
        assert server.get("/api/items/1").status == 200  # routes keep working
        write_tree(root, {"app/not_found.py": "def GET(request):\n    return {'fixed': True}\n"})
        wait_for(lambda: server.get("/nothing").text == '{"fixed":true}', what="the fixed not_found.py")
        (root / "app/not_found.py").unlink()
        wait_for(lambda: server.get("/nothing").text == "Not Found", what="the plain 404 again")
