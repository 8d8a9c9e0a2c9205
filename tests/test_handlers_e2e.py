"""What a handler can return and raise, over a real `framework start`: results, the navigation
helpers (also from a controller and from the proxy), after(), forms, a streamed echo, QUERY."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Server, request, run_framework, wait_for, write_tree

TREE = {
    "app/results/route.py": """
        def GET(request):
            return {"a": 1, "text": "caf\\u00e9"}

        def POST(request):
            return [1, 2, 3]

        def DELETE(request):
            return None
    """,
    "app/results/bad-json/route.py": """
        from datetime import datetime

        def GET(request):
            return {"when": datetime(2026, 1, 1)}
    """,
    "app/results/sync-body/route.py": """
        def POST(request):
            return request.json()
    """,
    "app/nav/route.py": """
        from framework.headers import cookies
        from framework.navigation import forbidden, not_found, permanent_redirect, redirect, unauthorized
        from lib.controller import deep_not_found

        def GET(request):
            do = request.query_params.get("do")
            if do == "missing":
                not_found()
            if do == "forbidden":
                forbidden()
            if do == "unauthorized":
                unauthorized()
            if do == "redirect":
                cookies().set("flash", "moved")
                redirect("/results?from=nav")
            if do == "see-other":
                redirect("/results", 303)
            if do == "permanent":
                permanent_redirect("/results")
            if do == "external":
                redirect("https://evil.example/")
            if do == "external-ok":
                redirect("https://docs.example/x", allow_external=True)
            if do == "controller":
                deep_not_found()
            return {"did": "nothing"}
    """,
    "lib/__init__.py": "",
    "lib/controller.py": """
        from framework.navigation import not_found

        def deep_not_found():
            not_found()
    """,
    "lib/handlers.py": """
        def GET(request):
            return {"imported": True}
    """,
    "app/lower/route.py": """
        from lib.handlers import GET as get

        def POST(request):
            return None
    """,
    "proxy.py": """
        from framework.navigation import not_found, redirect

        config = {"matcher": ["/guarded/:path*"]}

        def proxy(request):
            if request.query_params.get("go") == "away":
                redirect("/results")
            if request.query_params.get("hide"):
                not_found()
            return None
    """,
    "app/guarded/route.py": """
        def GET(request):
            return {"guarded": True}
    """,
    "app/after/route.py": """
        import asyncio
        from pathlib import Path
        from framework.server import after

        LOG = Path(__file__).resolve().parents[2] / "after.log"

        def write(text):
            with LOG.open("a") as f:
                f.write(text + "\\n")

        async def write_later(text):
            await asyncio.sleep(0.05)
            write(text)

        def boom():
            raise RuntimeError("after boom")

        def GET(request):
            after(write, "sync " + request.query_params.get("n", ""))
            after(boom)
            after(write_later, "async " + request.query_params.get("n", ""))
            write("handler " + request.query_params.get("n", ""))
            return {"ok": True}
    """,
    "app/forms/route.py": """
        async def POST(request):
            form = await request.form()
            fields, files = {}, {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    fields.setdefault(key, []).append(value)
                else:
                    files[key] = [value.filename, len(await value.read()), value.content_type]
            return {"fields": fields, "files": files}
    """,
    "app/echo/route.py": """
        from starlette.responses import StreamingResponse

        async def POST(request):
            return StreamingResponse(request.stream(), media_type="application/octet-stream")
    """,
    "app/search/route.py": """
        async def QUERY(request):
            return {"query": (await request.body()).decode()}

        def GET(request):
            return {"get": True}
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("handlers") / "p", TREE)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Server]:
    with run_framework(project) as running:
        yield running


def test_a_dict_or_list_is_json_and_none_is_204(server: Server) -> None:
    reply = server.get("/results")
    assert (reply.status, reply.header("content-type")) == (200, "application/json")
    assert json.loads(reply.body) == {"a": 1, "text": "café"}
    assert json.loads(server.request("POST", "/results").body) == [1, 2, 3]
    deleted = server.request("DELETE", "/results")
    assert (deleted.status, deleted.body, deleted.header("content-type")) == (204, b"", None)
    head = server.request("HEAD", "/results")
    assert (head.status, head.body, head.header("content-type")) == (200, b"", "application/json")


def test_a_dict_that_is_not_json_names_the_file_and_line(server: Server) -> None:
    reply = server.get("/results/bad-json")
    assert (reply.status, reply.text) == (500, "Internal Server Error")
    wait_for(
        lambda: "app/results/bad-json/route.py:5: GET() returned a dict that is not JSON" in server.log(),
        what="the log line",
    )
    assert "Object of type datetime is not JSON serializable" in server.log()


def test_a_sync_handler_reading_the_body_is_told_to_be_async(server: Server) -> None:
    reply = server.request("POST", "/results/sync-body", body=b'{"x": 1}', headers={"content-type": "application/json"})
    assert reply.status == 500
    wait_for(
        lambda: "app/results/sync-body/route.py:3: POST() returned a coroutine" in server.log(), what="the log line"
    )
    assert "make the handler `async def POST(...)` and await the call" in server.log()
    assert "was never awaited" not in server.log()


@pytest.mark.parametrize(
    ("do", "status", "location"),
    [
        ("missing", 404, None),
        ("forbidden", 403, None),
        ("unauthorized", 401, None),
        ("controller", 404, None),
        ("redirect", 307, "/results?from=nav"),
        ("see-other", 303, "/results"),
        ("permanent", 308, "/results"),
        ("external-ok", 307, "https://docs.example/x"),
        ("external", 500, None),
        (None, 200, None),
    ],
)
def test_navigation_helpers(server: Server, do: str | None, status: int, location: str | None) -> None:
    reply = server.get("/nav" + (f"?do={do}" if do else ""))
    assert (reply.status, reply.header("location")) == (status, location)
    if do == "redirect":
        assert "flash=moved" in (reply.header("set-cookie") or "")  # cookies set before redirect() are kept
    if do == "external":
        wait_for(lambda: "redirect('https://evil.example/'): not a local path" in server.log(), what="the log line")


def test_navigation_helpers_from_the_proxy(server: Server) -> None:
    away = server.get("/guarded?go=away")
    assert (away.status, away.header("location")) == (307, "/results")
    assert server.get("/guarded?hide=1").status == 404
    assert json.loads(server.get("/guarded").body) == {"guarded": True}


def test_after_runs_once_the_response_is_sent_and_its_errors_stay_in_the_log(server: Server, project: Path) -> None:
    log = project / "after.log"
    reply = server.get("/after?n=1")
    assert (reply.status, json.loads(reply.body)) == (200, {"ok": True})
    wait_for(lambda: log.exists() and "async 1" in log.read_text(), what="the async callback")
    assert log.read_text().splitlines() == ["handler 1", "sync 1", "async 1"]
    wait_for(lambda: "after(boom) from app/after/route.py raised" in server.log(), what="the failure in the log")
    assert "after boom" in server.log() and "after boom" not in reply.text


def test_url_encoded_and_multipart_forms(server: Server) -> None:
    encoded = server.request(
        "POST",
        "/forms",
        body=b"name=Ada&tag=a&tag=b%20c",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert json.loads(encoded.body) == {"fields": {"name": ["Ada"], "tag": ["a", "b c"]}, "files": {}}
    boundary = "----frameworktest"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nReport\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="notes.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n" + "x" * 5000 + f"\r\n--{boundary}--\r\n"
    ).encode()
    multipart = server.request(
        "POST", "/forms", body=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert json.loads(multipart.body) == {
        "fields": {"title": ["Report"]},
        "files": {"upload": ["notes.txt", 5000, "text/plain"]},
    }


def test_a_streamed_echo_of_a_chunked_upload_keeps_every_chunk(server: Server) -> None:
    chunks = [bytes([65 + i]) * (1000 + i) for i in range(8)]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for chunk in chunks:  # one at a time, so the disconnect listener is reading while they arrive
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            time.sleep(0.02)
        sock.sendall(b"0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert _dechunk(body) == b"".join(chunks)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2 :]
    return out


def test_query_is_a_method(server: Server) -> None:
    reply = server.request("QUERY", "/search", body=b"q=ada", headers={"content-type": "text/plain"})
    assert json.loads(reply.body) == {"query": "q=ada"}
    assert server.request("OPTIONS", "/search").header("allow") == "GET, HEAD, OPTIONS, QUERY"
    refused = server.request("QUERY", "/results")
    assert (refused.status, refused.header("allow")) == (405, "DELETE, GET, HEAD, OPTIONS, POST")


def test_an_imported_lowercase_handler_is_warned_about(server: Server) -> None:
    assert "app/lower/route.py:2: `get` is not a handler" in server.log() and "Did you mean `GET`?" in server.log()
    assert server.get("/lower").status == 405


def test_the_dev_page_shows_the_return_that_gave_a_bad_result(project: Path) -> None:
    with run_framework(project, "dev") as dev:
        page = request(dev.port, "GET", "/results/bad-json", headers={"accept": "text/html"})
        assert page.status == 500 and "app/results/bad-json/route.py:5" in page.text
        assert "return {&quot;when&quot;: datetime(2026, 1, 1)}" in page.text  # the source line, escaped
