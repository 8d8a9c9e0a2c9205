"""Typed handlers over a real `framework start`: params, query, body (JSON and form), headers, cookies and
results validated, 422 / 400 / 415 problem documents, load problems, and no pydantic for a plain project."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Server, run_cli, run_framework, subprocess_env, wait_for, write_tree

MODELS = """
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic wants it before Python 3.12


class Query(BaseModel):
    limit: Annotated[int, Field(ge=1, le=50)] = 3
    tag: list[str] = []
    order: Literal["asc", "desc"] = "asc"


class New(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=100)]
    done: bool = False


class Todo(BaseModel):
    id: int
    title: str
    done: bool = False


@dataclass
class Params:
    id: int


class Patch(TypedDict, total=False):
    title: str
    done: bool


class Login(BaseModel):
    username: str
    password: str
    remember: list[str] = []


class Client(BaseModel):
    user_agent: str
    x_token: str


class Session(BaseModel):
    session: str
"""

TREE = {
    "lib/__init__.py": "",
    "lib/models.py": MODELS,
    "app/api/todos/route.py": '''
        from lib.models import New, Query, Todo

        def GET(query: Query) -> list[Todo]:
            """List todos.

            As many as `limit` asks for, tagged with every `tag`."""
            return [Todo(id=i, title=f"{query.order} {'+'.join(query.tag)} {i}") for i in range(query.limit)]

        async def POST(request, body: New) -> Todo:
            return Todo(id=7, title=body.title, done=body.done)
    ''',
    "app/api/todos/[id]/route.py": """
        from dataclasses import asdict
        from lib.models import Params, Patch, Todo

        def GET(request, context, params: Params) -> Todo:
            return Todo(id=params.id, title=f"raw {context.params['id']} from {request.url.path}")

        async def PATCH(params: Params, body: Patch) -> dict:
            return {"id": params.id, **body}

        def DELETE(params: Params) -> None:
            return None
    """,
    "app/api/login/route.py": """
        from typing import Annotated
        from framework.signatures import Form
        from lib.models import Login

        async def POST(body: Annotated[Login, Form]) -> dict:
            return {"user": body.username, "remember": body.remember}
    """,
    "app/api/whoami/route.py": """
        from lib.models import Client, Session

        def GET(headers: Client, cookies: Session) -> dict:
            return {"agent": headers.user_agent, "session": cookies.session}
    """,
    "app/api/bad-output/route.py": """
        from lib.models import Todo

        def GET() -> Todo:
            return {"id": "not a number", "title": "x"}
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = write_tree(tmp_path_factory.mktemp("typed") / "p", TREE)
    with run_framework(root) as running:
        yield running


def problem(reply) -> dict:  # type: ignore[no-untyped-def]
    assert reply.header("content-type") == "application/problem+json", reply.text
    return json.loads(reply.body)


def test_query_is_validated_and_repeated_keys_are_lists(server: Server) -> None:
    reply = server.get("/api/todos?limit=2&tag=a&tag=b&order=desc")
    assert (reply.status, reply.header("content-type")) == (200, "application/json")
    assert json.loads(reply.body) == [
        {"id": 0, "title": "desc a+b 0", "done": False},
        {"id": 1, "title": "desc a+b 1", "done": False},
    ]
    assert len(json.loads(server.get("/api/todos").body)) == 3  # defaults


@pytest.mark.parametrize(
    ("query", "location", "kind"),
    [
        ("limit=abc", "query.limit", "int_parsing"),
        ("limit=99", "query.limit", "less_than_equal"),
        ("order=sideways", "query.order", "literal_error"),
    ],
)
def test_bad_query_values_are_422_problems(server: Server, query: str, location: str, kind: str) -> None:
    reply = server.get(f"/api/todos?{query}")
    assert reply.status == 422
    doc = problem(reply)
    assert (doc["type"], doc["status"], doc["title"]) == ("about:blank", 422, "Unprocessable Content")
    assert [(e["location"], e["type"]) for e in doc["errors"]] == [(location, kind)]
    assert doc["errors"][0]["message"] and "input" in doc["errors"][0]


def test_json_bodies(server: Server) -> None:
    created = server.request(
        "POST", "/api/todos", body=b'{"title": "milk"}', headers={"content-type": "application/json"}
    )
    assert (created.status, json.loads(created.body)) == (200, {"id": 7, "title": "milk", "done": False})
    empty = server.request("POST", "/api/todos", body=b'{"title": ""}', headers={"content-type": "application/json"})
    assert [e["location"] for e in problem(empty)["errors"]] == ["body.title"]
    missing = server.request("POST", "/api/todos", body=b"{}", headers={"content-type": "application/json"})
    assert [(e["location"], e["type"]) for e in problem(missing)["errors"]] == [("body.title", "missing")]
    broken = server.request("POST", "/api/todos", body=b'{"title": ', headers={"content-type": "application/json"})
    assert broken.status == 400 and "not valid JSON" in problem(broken)["detail"]
    wrong = server.request("POST", "/api/todos", body=b"title=milk", headers={"content-type": "text/plain"})
    assert wrong.status == 415 and "application/json" in problem(wrong)["detail"]


def test_params_dataclass_and_typeddict_body(server: Server) -> None:
    reply = server.get("/api/todos/42")
    assert json.loads(reply.body) == {"id": 42, "title": "raw 42 from /api/todos/42", "done": False}
    bad = server.get("/api/todos/forty-two")
    assert [(e["location"], e["type"]) for e in problem(bad)["errors"]] == [("params.id", "int_parsing")]
    patched = server.request(
        "PATCH", "/api/todos/5", body=b'{"done": true}', headers={"content-type": "application/json"}
    )
    assert json.loads(patched.body) == {"id": 5, "done": True}
    wrong = server.request(
        "PATCH", "/api/todos/5", body=b'{"done": "maybe"}', headers={"content-type": "application/json"}
    )
    assert [e["location"] for e in problem(wrong)["errors"]] == ["body.done"]
    deleted = server.request("DELETE", "/api/todos/5")
    assert (deleted.status, deleted.body) == (204, b"")


def test_form_bodies(server: Server) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    reply = server.request("POST", "/api/login", body=b"username=ada&password=pw&remember=a&remember=b", headers=form)
    assert json.loads(reply.body) == {"user": "ada", "remember": ["a", "b"]}
    missing = server.request("POST", "/api/login", body=b"username=ada", headers=form)
    assert [e["location"] for e in problem(missing)["errors"]] == ["body.password"]
    as_json = server.request("POST", "/api/login", body=b"{}", headers={"content-type": "application/json"})
    assert as_json.status == 415


def test_headers_and_cookies_never_echo_their_values(server: Server) -> None:
    ok = server.get("/api/whoami", headers={"user-agent": "probe/1", "x-token": "t", "cookie": "session=abc"})
    assert json.loads(ok.body) == {"agent": "probe/1", "session": "abc"}
    bad = server.get("/api/whoami", headers={"user-agent": "probe/1", "cookie": "other=secret-value"})
    errors = problem(bad)["errors"]
    assert sorted(e["location"] for e in errors) == ["cookies.session", "headers.x_token"]
    assert "secret-value" not in bad.text and all("input" not in e for e in errors)


def test_a_result_its_annotation_refuses_is_a_500_naming_the_field(server: Server) -> None:
    reply = server.get("/api/bad-output")
    assert (reply.status, reply.text) == (500, "Internal Server Error")
    expected = "app/api/bad-output/route.py:5: GET() returned a value its annotation `-> Todo` does not allow: id:"
    wait_for(lambda: expected in server.log(), what="the log line naming the field")


def test_a_params_field_that_is_no_folder_name_is_a_load_problem(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "app/api/todos/[id]/route.py": """
            from dataclasses import dataclass

            @dataclass
            class Params:
                todoId: int

            def GET(params: Params) -> dict:
                return {"id": params.todoId}
        """,
        },
    )
    started = run_cli("start", "--root", str(root), "--port", "1")
    assert started.returncode == 1
    assert "app/api/todos/[id]/route.py:8: GET(): `params: Params` has the field `todoId`" in started.stderr
    assert "folders name [id]" in started.stderr and "Rename the field" in started.stderr
    checked = run_cli("check", "--root", str(root))
    assert checked.returncode == 1 and "has the field `todoId`" in checked.stdout


def test_a_project_without_annotations_never_imports_pydantic(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "app/x/route.py": "def GET(request) -> dict:\n    return {}\n",
            "app/y/route.py": "from starlette.responses import Response\n\n"
            "def GET(request) -> Response:\n    return Response()\n",
        },
    )
    code = f"import sys; from framework import create_app; create_app({str(root)!r}); print('pydantic' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert result.stdout.strip() == "True", result.stderr  # `-> dict` is a result type: validated, pydantic loaded
    (root / "app/x/route.py").write_text("def GET(request):\n    return {}\n")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr
