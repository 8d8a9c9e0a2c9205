"""`framework openapi`: the OpenAPI 3.1 document of a tree with every input kind, checked by
openapi-spec-validator and row by row: paths, parameters, bodies, responses, tags, operationIds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from framework.loader import METHODS
from framework.route_config import _METHODS
from tests.helpers import run_cli, write_tree
from tests.test_typed_e2e import MODELS, TREE

DOCUMENTED = {
    **TREE,
    "pyproject.toml": '[project]\nname = "shop"\nversion = "1.2.3"\n',
    "app/api/docs/[[...slug]]/route.py": """
        def GET(request, context):
            '''A page of the docs.'''
    """,
    "app/api/files/[...path]/route.py": """
        from starlette.responses import FileResponse

        def GET(request, context) -> FileResponse: ...
    """,
    "app/api/search/route.py": """
        from starlette.responses import PlainTextResponse
        from lib.models import New

        tags = ["find", "beta"]
        responses = {"QUERY": {200: "The matches, one a line", 404: "Nothing found"}, 503: "The index is rebuilding"}

        async def QUERY(body: New) -> PlainTextResponse: ...
    """,
    "app/api/go/route.py": """
        from starlette.responses import HTMLResponse, RedirectResponse

        def GET() -> RedirectResponse | HTMLResponse: ...
    """,
    "app/api/out/route.py": """
        from starlette.responses import RedirectResponse

        responses = {"POST": {303: "Signed out"}}
        openapi_extra = {"POST": {"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}}}

        async def POST(request) -> RedirectResponse: ...
    """,
    "app/api/a-b/route.py": "def GET(request): ...",
    "app/api/a_b/route.py": "def GET(request): ...",
    "app/route.py": "def GET(request): ...",
    "app/chat/route.py": "async def WEBSOCKET(websocket): ...",
}


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = write_tree(tmp_path_factory.mktemp("openapi") / "p", DOCUMENTED)
    out = root / "openapi.json"
    result = run_cli("openapi", "--root", str(root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return dict(json.loads(out.read_text(encoding="utf-8")))


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def test_the_document_is_valid_openapi_3_1_named_after_the_project(doc: dict[str, Any]) -> None:
    validate(doc)
    assert (doc["openapi"], doc["info"]["title"], doc["info"]["version"]) == ("3.1.0", "shop", "1.2.3")
    assert "405 with `Allow`" in doc["info"]["description"]


def test_one_path_per_route_and_both_paths_of_an_optional_catch_all(doc: dict[str, Any]) -> None:
    assert sorted(doc["paths"]) == [
        "/",
        "/api/a-b",
        "/api/a_b",
        "/api/bad-output",
        "/api/docs",
        "/api/docs/{slug}",
        "/api/files/{path}",
        "/api/go",
        "/api/login",
        "/api/out",
        "/api/search",
        "/api/todos",
        "/api/todos/{id}",
        "/api/whoami",
    ]  # /chat serves only WebSockets: no operation to document
    assert doc["paths"]["/api/todos/{id}"]["description"] == (
        "Other methods answer 405 with `Allow: DELETE, GET, HEAD, OPTIONS, PATCH`."
    )


@pytest.mark.parametrize(
    ("path", "operations"),
    [
        ("/api/todos", ["get", "post"]),  # no automatic head or options
        ("/api/todos/{id}", ["get", "patch", "delete"]),
        ("/api/search", ["x-query"]),  # QUERY has no field in OpenAPI 3.1
    ],
)
def test_one_operation_per_exported_method(doc: dict[str, Any], path: str, operations: list[str]) -> None:
    assert [k for k in doc["paths"][path] if k != "description"] == operations


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [
        ("/", "get", "get_index"),
        ("/api/todos/{id}", "patch", "patch_api_todos_id"),
        ("/api/a-b", "get", "get_api_a_b"),
        ("/api/a_b", "get", "get_api_a_b_2"),  # spelled alike: numbered in route order
        ("/api/docs", "get", "get_api_docs"),
        ("/api/docs/{slug}", "get", "get_api_docs_slug"),
        ("/api/search", "x-query", "query_api_search"),
    ],
)
def test_operation_ids_are_the_method_and_the_url(
    doc: dict[str, Any], path: str, method: str, operation_id: str
) -> None:
    assert doc["paths"][path][method]["operationId"] == operation_id
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("path", "method", "tags"),
    [("/api/todos/{id}", "get", ["todos"]), ("/api/search", "x-query", ["find", "beta"]), ("/", "get", None)],
)
def test_tags_from_the_first_folder_under_api_or_the_route(
    doc: dict[str, Any], path: str, method: str, tags: Any
) -> None:
    assert doc["paths"][path][method].get("tags") == tags


def test_summary_and_description_from_the_docstring(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/todos"]["get"]
    assert (op["summary"], op["description"]) == (
        "List todos.",
        "As many as `limit` asks for, tagged with every `tag`.",
    )
    assert "summary" not in doc["paths"]["/api/todos"]["post"]


def params(doc: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    return {f"{p['in']}:{p['name']}": p for p in doc["paths"][path][method].get("parameters", [])}


@pytest.mark.parametrize(
    ("path", "method", "key", "expected"),
    [
        ("/api/todos/{id}", "get", "path:id", {"required": True, "schema": {"title": "Id", "type": "integer"}}),
        ("/api/todos", "get", "query:limit", {"required": False, "schema": {"maximum": 50, "minimum": 1}}),
        ("/api/todos", "get", "query:tag", {"style": "form", "explode": True, "schema": {"type": "array"}}),
        ("/api/whoami", "get", "header:user-agent", {"required": True}),
        ("/api/whoami", "get", "header:x-token", {"required": True}),
        ("/api/whoami", "get", "cookie:session", {"required": True}),
        ("/api/a-b", "get", "query:x", None),  # untyped: no query parameters known
        ("/api/files/{path}", "get", "path:path", {"schema": {"type": "string"}}),
        ("/api/docs/{slug}", "get", "path:slug", {"required": True, "schema": {"type": "string"}}),
    ],
)
def test_parameters(doc: dict[str, Any], path: str, method: str, key: str, expected: dict[str, Any] | None) -> None:
    found = params(doc, path, method).get(key)
    if expected is None:
        assert found is None
        return
    assert found is not None, params(doc, path, method)
    for name, value in expected.items():
        assert found[name] == value or (isinstance(value, dict) and value.items() <= found[name].items())


def test_catch_all_params_say_they_span_several_segments(doc: dict[str, Any]) -> None:
    assert "One or more path segments" in params(doc, "/api/files/{path}", "get")["path:path"]["description"]
    assert "documented on its own" in params(doc, "/api/docs/{slug}", "get")["path:slug"]["description"]
    assert "parameters" not in doc["paths"]["/api/docs"]["get"]


@pytest.mark.parametrize(
    ("path", "method", "media", "schema", "required"),
    [
        ("/api/todos", "post", ["application/json"], {"$ref": "#/components/schemas/New"}, True),
        ("/api/todos/{id}", "patch", ["application/json"], {"$ref": "#/components/schemas/Patch"}, True),
        (
            "/api/login",
            "post",
            ["application/x-www-form-urlencoded", "multipart/form-data"],
            {"$ref": "#/components/schemas/Login"},
            True,
        ),
        ("/api/search", "x-query", ["application/json"], {"$ref": "#/components/schemas/New"}, True),
    ],
)
def test_request_bodies(
    doc: dict[str, Any], path: str, method: str, media: list[str], schema: Any, required: bool
) -> None:
    body = doc["paths"][path][method]["requestBody"]
    assert list(body["content"]) == media
    assert all(c["schema"] == schema for c in body["content"].values())
    assert body["required"] is required


def test_openapi_extra_is_merged_into_its_operation(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/out"]["post"]
    assert op["requestBody"] == {"content": {"text/plain": {"schema": {"type": "string"}}}}
    assert op["operationId"] == "post_api_out"  # the rest is the framework's


def test_models_are_components_with_their_own_names(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert sorted(schemas) == ["Login", "New", "Patch", "ProblemDetails", "Todo"]  # Query, Params...: parameters
    assert schemas["Todo"]["required"] == ["id", "title"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    assert all(r["content"] == problem for r in doc["components"]["responses"].values())


TODO = {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Todo"}}}}
TEXT = {"text/plain": {"schema": {"type": "string"}}}
LOCATION = {"Location": {"required": True, "schema": {"type": "string"}}}


@pytest.mark.parametrize(
    ("path", "method", "responses"),
    [
        ("/api/todos/{id}", "get", {"200": TODO, "422": ref("UnprocessableContent")}),
        (
            "/api/todos",
            "post",
            {
                "200": TODO,
                "400": ref("BadRequest"),
                "415": ref("UnsupportedMediaType"),
                "422": ref("UnprocessableContent"),
            },
        ),
        ("/api/todos/{id}", "delete", {"204": {"description": "No Content"}, "422": ref("UnprocessableContent")}),
        (
            "/api/login",
            "post",
            {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
                },
                "415": ref("UnsupportedMediaType"),  # a form is never "not JSON": no 400
                "422": ref("UnprocessableContent"),
            },
        ),
        ("/api/bad-output", "get", {"200": TODO}),  # no input: nothing to refuse
        ("/api/files/{path}", "get", {"200": {"description": "OK", "content": {"*/*": {"schema": {}}}}}),
        (
            "/api/go",
            "get",
            {
                "200": {"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}},
                "3XX": {"description": "A redirect to `Location`", "headers": LOCATION},
            },
        ),
        (
            "/api/search",
            "x-query",
            {
                "200": {"description": "The matches, one a line", "content": TEXT},
                "400": ref("BadRequest"),
                "404": {"description": "Nothing found", "content": TEXT},
                "415": ref("UnsupportedMediaType"),
                "422": ref("UnprocessableContent"),
                "503": {"description": "The index is rebuilding", "content": TEXT},
            },
        ),
        ("/api/out", "post", {"303": {"description": "Signed out", "headers": LOCATION}}),  # replaces 3XX
        ("/api/a-b", "get", {"default": {}}),
    ],
)
def test_responses(doc: dict[str, Any], path: str, method: str, responses: dict[str, Any]) -> None:
    found = doc["paths"][path][method]["responses"]
    if "default" in responses:
        assert list(found) == ["default"] and "annotate the handler's result" in found["default"]["description"]
        return
    assert found == responses


def test_queries_that_take_any_string_are_never_refused(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "lib/__init__.py": "",
            "lib/models.py": MODELS
            + "\nclass Back(BaseModel):\n    returnTo: str | None = None\n    tag: list[str] = []\n",
            "app/api/back/route.py": "from lib.models import Back\n\ndef GET(query: Back) -> None: ...\n",
        },
    )
    result = run_cli("openapi", "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["paths"]["/api/back"]["get"]["responses"]) == ["204"]


def test_base_path_is_the_server_url(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {"app/route.py": "def GET(request): ...", "pyproject.toml": '[tool.framework]\nbase_path = "/shop"\n'},
    )
    doc = json.loads(run_cli("openapi", "--root", str(root)).stdout)
    assert doc["servers"] == [{"url": "/shop"}]
    assert doc["info"]["title"] == "p"  # no [project]: the folder's name


def test_a_tree_that_does_not_load_is_exit_1_with_the_problems(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "app/(a)/x/route.py": "def GET(request): ...",
            "app/(b)/x/route.py": "def GET(request): ...",
            "app/y/route.py": "GET = 1",
        },
    )
    result = run_cli("openapi", "--root", str(root))
    assert result.returncode == 1
    assert "app/(a)/x/route.py" in result.stderr and "same URL" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("tags = 'todos'", "`tags = 'todos'` is not a list of strings"),
        ("tags = ['ok', '']", "is not a list of strings"),
        ("responses = {404: ''}", "is not a map of statuses to descriptions"),
        ("responses = {99: 'x'}", "is not a map of statuses"),
        ("responses = {'GETT': {404: 'x'}}", "is not a map of statuses"),
        ("openapi_extra = {'GET': []}", "is not a map of methods to OpenAPI operation fields"),
    ],
)
def test_bad_tags_and_responses_are_load_problems(tmp_path: Path, source: str, message: str) -> None:
    root = write_tree(tmp_path / "p", {"app/x/route.py": f"{source}\n\ndef GET(request): ...\n"})
    result = run_cli("openapi", "--root", str(root))
    assert result.returncode == 1
    assert "app/x/route.py:1" in result.stderr and message in result.stderr


def test_route_config_knows_every_method_the_loader_does() -> None:
    assert _METHODS == METHODS
