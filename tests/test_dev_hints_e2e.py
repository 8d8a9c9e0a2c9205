"""The dev 404 and 405 pages for browsers: a real `framework dev` against `framework start` and non-browser
clients, which keep the plain answers; request text HTML-escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_framework, write_tree

ROUTES = {
    "app/api/users/route.py": "def GET(request):\n    return []\n",
    "app/api/users/[id]/route.py": "def GET(request):\n    return {}\n\n\ndef post(request):\n    return None\n",
    "app/api/orders/route.py": "def POST(request):\n    return None\n",
    "app/about/route.py": "def GET(request):\n    return None\n",
}
HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "p", ROUTES)


def test_dev_404_lists_the_closest_routes_first(project: Path) -> None:
    with run_framework(project, "dev") as server:
        page = server.get("/api/users/7/<script>alert(1)</script>", headers=HTML)
        assert page.status == 404 and (page.header("content-type") or "").startswith("text/html")
        text = page.text
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        order = [text.index(p) for p in ("/api/users/[id]", "/api/users<", "/api/orders", "/about")]
        assert order == sorted(order), text
        assert "GET, HEAD, OPTIONS" in text and "app/api/users/[id]/route.py" in text
        plain = server.get("/api/users/7/x")
        assert (plain.status, plain.text) == (404, "Not Found")


def test_dev_405_names_the_methods_and_a_lowercase_handler(project: Path) -> None:
    with run_framework(project, "dev") as server:
        same_origin = {"origin": f"http://127.0.0.1:{server.port}"}
        page = server.request("POST", "/api/users/7", headers={**HTML, **same_origin})
        assert page.status == 405 and page.header("allow") == "GET, HEAD, OPTIONS"
        assert "exports GET, HEAD, OPTIONS, not POST" in page.text
        assert "app/api/users/[id]/route.py:5: `post` is not a handler" in page.text and "`POST`" in page.text
        plain = server.request("POST", "/api/users/7", headers=same_origin)
        assert (plain.status, plain.text, plain.header("allow")) == (405, "Method Not Allowed", "GET, HEAD, OPTIONS")


def test_start_and_not_found_py_keep_the_plain_answers(project: Path) -> None:
    with run_framework(project) as server:
        assert server.get("/nothing", headers=HTML).text == "Not Found"
        reply = server.request("PUT", "/about", headers={**HTML, "origin": f"http://127.0.0.1:{server.port}"})
        assert (reply.status, reply.text) == (405, "Method Not Allowed")
    write_tree(project, {"app/not_found.py": "def GET(request):\n    return {'mine': True}\n"})
    with run_framework(project, "dev") as server:
        assert server.get("/nothing", headers=HTML).text == '{"mine":true}'
