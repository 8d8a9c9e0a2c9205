"""A new user's first hour, end to end: `framework init`, a CRUD JSON API (scaffolded, then written by hand),
CORS and a startup hook in instrumentation.py, a file in public/; then `framework check`, the project's own
pytest and `framework dev` are all green."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import run_cli, run_framework, subprocess_env, write_tree

CONTROLLER = '''
"""Todos, kept in memory: the work behind /api/todos."""

from framework.controllers import ControllerError, Result

TODOS: dict[int, dict] = {}
STARTED: list[str] = []


def list_todos() -> Result[list]:
    return Result(data=list(TODOS.values()))


def add_todo(title: str) -> Result[dict]:
    todo = {"id": len(TODOS) + 1, "title": title, "done": False}
    TODOS[todo["id"]] = todo
    return Result(data=todo)


def get_todo(todo_id: int) -> Result[dict]:
    if todo_id not in TODOS:
        return Result(error=ControllerError(404, "No such todo"))
    return Result(data=TODOS[todo_id])


def update_todo(todo_id: int, changes: dict) -> Result[dict]:
    found = get_todo(todo_id)
    if found.data is not None:
        found.data.update(changes)
    return found


def delete_todo(todo_id: int) -> Result[None]:
    return Result(data=None) if TODOS.pop(todo_id, None) else Result(error=ControllerError(404, "No such todo"))
'''

LIST_ROUTE = '''
"""GET /api/todos lists them; POST /api/todos adds one."""

from pydantic import BaseModel

from framework.navigation import not_found
from lib.controllers.todos import STARTED, add_todo, list_todos


class NewTodo(BaseModel):
    title: str


def GET(request):
    return {"todos": list_todos().data, "started": STARTED}


async def POST(request, body: NewTodo):
    return add_todo(body.title).data
'''

ITEM_ROUTE = '''
"""GET, PATCH and DELETE /api/todos/[id]."""

from dataclasses import dataclass

from starlette.responses import JSONResponse

from lib.controllers.todos import delete_todo, get_todo, update_todo


@dataclass
class Params:
    id: int


def answer(result):
    if result.error:
        return JSONResponse({"error": result.error.status_text}, status_code=result.error.status)
    return result.data


def GET(params: Params):
    return answer(get_todo(params.id))


async def PATCH(request, params: Params):
    return answer(update_todo(params.id, await request.json()))


def DELETE(params: Params):
    return answer(delete_todo(params.id))
'''

INSTRUMENTATION = """
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from lib.controllers.todos import STARTED

middleware = [Middleware(CORSMiddleware, allow_origins=["http://localhost:5173"], allow_methods=["*"])]


def register():
    STARTED.append("register ran")
"""

TEST = """
from pathlib import Path

from starlette.testclient import TestClient

from framework.app import create_app, project_root

ROOT = project_root(Path(__file__).resolve().parent.parent)

from lib.urls import get_todos_by_id_url, get_todos_url  # noqa: E402


def test_crud() -> None:
    with TestClient(create_app(ROOT)) as client:
        assert "register ran" in client.get(get_todos_url()).json()["started"]  # (each app of the session runs it)
        created = client.post(get_todos_url(), json={"title": "milk"}).json()
        assert client.get(get_todos_by_id_url(str(created["id"]))).json()["title"] == "milk"
        assert client.post(get_todos_url(), json={}).status_code == 422
"""


def test_from_an_empty_folder_to_a_green_json_api(tmp_path: Path) -> None:
    root = tmp_path / "todo-api"
    assert run_cli("init", str(root)).returncode == 0
    for path, methods in (("api/todos", "GET,POST"), ("api/todos/[id]", "GET,PATCH,DELETE")):
        assert run_cli("new", "route", path, "--methods", methods, "--root", str(root)).returncode == 0
    write_tree(
        root,
        {
            "lib/controllers/todos.py": CONTROLLER,
            "app/api/todos/route.py": LIST_ROUTE,
            "app/api/todos/[id]/route.py": ITEM_ROUTE,
            "instrumentation.py": INSTRUMENTATION,
            "public/robots.txt": "User-agent: *\nDisallow:\n",
            "tests/test_todos_route.py": TEST,  # replaces the scaffolded tests of the rewritten routes
            "tests/test_todos_by_id_route.py": "",
        },
    )
    checked = run_cli("check", "--root", str(root))
    assert checked.returncode == 0, checked.stdout + checked.stderr  # warnings may be printed; nothing fails
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    with run_framework(root, "dev") as dev:
        body = json.dumps({"title": "bread"}).encode()
        created = dev.request("POST", "/api/todos", body=body, headers={"content-type": "application/json"})
        assert created.status == 200 and json.loads(created.body)["title"] == "bread"
        listed = json.loads(dev.get("/api/todos").body)
        assert listed["started"] == ["register ran"] and [t["title"] for t in listed["todos"]] == ["bread"]
        patched = dev.request(
            "PATCH", "/api/todos/1", body=b'{"done": true}', headers={"content-type": "application/json"}
        )
        assert json.loads(patched.body)["done"] is True
        assert dev.request("DELETE", "/api/todos/1").status == 204
        assert dev.get("/api/todos/1").status == 404
        preflight = dev.request(
            "OPTIONS",
            "/api/todos",
            headers={"origin": "http://localhost:5173", "access-control-request-method": "POST"},
        )
        assert preflight.header("access-control-allow-origin") == "http://localhost:5173"
        robots = dev.get("/robots.txt")
        assert robots.status == 200 and robots.text.startswith("User-agent") and robots.header("etag")
