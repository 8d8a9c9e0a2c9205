"""public/ end to end: files served at `/` by real `framework start` and `framework dev` processes, with
caching headers, ranges and HEAD; nothing outside the folder reachable; a route and a file at one URL refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_cli, run_framework, wait_for, write_tree

FILES = {
    "app/api/health/route.py": """
        def GET(request):
            return {"ok": True}
    """,
    "app/blog/[slug]/route.py": """
        def GET(request, context):
            return {"slug": context.params["slug"]}
    """,
    "app/not_found.py": """
        from starlette.responses import PlainTextResponse

        def GET(request):
            return PlainTextResponse("custom 404")
    """,
    "public/robots.txt": "User-agent: *\nDisallow:\n",
    "public/img/logo.svg": "<svg/>",
    "public/a b.txt": "spaced",
    "public/blog/first.txt": "shadowed by app/blog/[slug]/route.py",
    "secret.txt": "top secret",
    "app/x/secret.txt": "app secret",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_tree(tmp_path / "p", FILES)
    os.symlink(root / "secret.txt", root / "public" / "leak.txt")  # leaves public/: refused
    os.symlink(root / "public" / "robots.txt", root / "public" / "robots-link.txt")  # stays inside: served
    os.symlink("/etc", root / "public" / "etc")
    return root


def test_start_serves_public_files_with_caching_headers(project: Path) -> None:
    with run_framework(project) as server:
        robots = server.get("/robots.txt")
        assert (robots.status, robots.text) == (200, "User-agent: *\nDisallow:\n")
        assert robots.header("content-type") == "text/plain; charset=utf-8"
        etag, modified = robots.header("etag"), robots.header("last-modified")
        assert etag and modified and robots.header("accept-ranges") == "bytes"
        assert server.get("/robots.txt", headers={"if-none-match": etag}).status == 304
        assert server.get("/robots.txt", headers={"if-modified-since": modified}).status == 304
        part = server.get("/robots.txt", headers={"range": "bytes=0-9"})
        assert (part.status, part.text) == (206, "User-agent")
        head = server.request("HEAD", "/robots.txt")
        assert head.status == 200 and head.body == b"" and head.header("content-length") == str(len(robots.body))
        assert server.get("/img/logo.svg").text == "<svg/>"
        assert server.get("/a%20b.txt").text == "spaced"
        assert server.get("/robots-link.txt").text == robots.text
        post = server.request("POST", "/robots.txt", headers={"origin": f"http://127.0.0.1:{server.port}"})
        assert (post.status, post.header("allow")) == (405, "GET, HEAD")
        # routes win: a dynamic route matching a file's URL answers it; the 404 comes after public/
        assert server.get("/api/health").text == '{"ok":true}'
        assert server.get("/blog/first.txt").text == '{"slug":"first.txt"}'
        assert (server.get("/img/nope.png").status, server.get("/img/nope.png").text) == (404, "custom 404")
        assert server.get("/img").text == "custom 404"  # a folder is no file


TRAVERSALS = [
    "/../secret.txt",
    "/img/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/img/%2E%2E/%2e%2e/secret.txt",
    "/..%2Fsecret.txt",
    "/img/..%2F..%2Fsecret.txt",
    "/%2Fetc%2Fpasswd",
    "/..%5Csecret.txt",
    "/img/..\\..\\secret.txt",
    "/leak.txt",
    "/etc/passwd",
    "/etc/hostname",
    "//etc/passwd",
    "/img/%00/robots.txt",
    "/app/x/secret.txt",
    "/public/robots.txt",
]


def test_nothing_outside_public_is_reachable(project: Path) -> None:
    with run_framework(project) as server:
        for path in TRAVERSALS:
            reply = server.get(path)
            assert b"secret" not in reply.body and b"root:" not in reply.body, (path, reply.status, reply.body)
            assert reply.status in (400, 404, 308), (path, reply.status)
        assert server.get("/img/../robots.txt").text.startswith("User-agent")  # resolved inside: fine


def test_base_path_applies_to_public_files(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**FILES, "pyproject.toml": '[tool.framework]\nbase_path = "/shop"\n'})
    with run_framework(root) as server:
        assert server.get("/shop/robots.txt").text.startswith("User-agent")
        assert server.get("/robots.txt").status == 404


def test_a_route_and_a_public_file_at_one_url_are_refused(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "app/(seo)/robots.txt/route.py": "def GET(request):\n    return None\n",
            "app/api/health/route.py": "def GET(request):\n    return None\n",
            "public/robots.txt": "x",
            "public/api/other.txt": "x",
        },
    )
    result = run_cli("start", "--root", str(root), "--port", "1")
    assert result.returncode == 1
    assert "app/(seo)/robots.txt/route.py" in result.stderr and "public/robots.txt" in result.stderr
    assert "public/api" not in result.stderr


def test_dev_serves_added_files_and_refuses_a_colliding_one(project: Path) -> None:
    with run_framework(project, "dev") as server:
        assert server.get("/new.txt").text == "custom 404"
        write_tree(project, {"public/new.txt": "new"})
        assert server.get("/new.txt").text == "new"  # read from disk at each request
        (project / "public" / "new.txt").unlink()
        assert server.get("/new.txt").status == 404
        write_tree(project, {"public/api/health": "a file where a route is"})
        wait_for(lambda: "public/api/health" in server.log(), what="the refused tree in the terminal")
        assert "app/api/health/route.py" in server.log()
        assert server.get("/api/health").text == '{"ok":true}'  # the last good table keeps serving
        (project / "public" / "api" / "health").unlink()
        write_tree(project, {"app/api/health/route.py": "def GET(request):\n    return {'ok': 2}\n"})
        wait_for(lambda: server.get("/api/health").text == '{"ok":2}', what="the tree valid again")
