"""`/_framework/openapi.json` and `/_framework/docs`: always under `framework dev` (following hot reloads),
under `framework start` only with `[tool.framework] openapi = true`; real servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from framework import apidocs
from framework.app import create_app
from framework.settings import Settings
from tests.helpers import run_cli, run_framework, wait_for, write_tree

TREE = {
    "pyproject.toml": '[project]\nname = "notes"\nversion = "2.0.0"\n',
    "app/api/notes/route.py": '''
        def GET(request) -> None:
            """All the notes."""
    ''',
}


def paths(reply_body: bytes) -> list[str]:
    return sorted(json.loads(reply_body)["paths"])


def test_dev_serves_the_document_and_the_page_and_follows_reloads(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", TREE)
    with run_framework(root, "dev") as server:
        reply = server.get("/_framework/openapi.json")
        assert (reply.status, reply.header("content-type")) == (200, "application/json")
        doc = json.loads(reply.body)
        assert (doc["info"]["title"], paths(reply.body)) == ("notes", ["/api/notes"])
        page = server.get("/_framework/docs")
        assert page.status == 200 and "/_framework/docs/assets/swagger-ui-bundle.js" in page.text
        assert 'data-url="/_framework/openapi.json"' in page.text
        for asset, media in apidocs.ASSETS.items():
            reply = server.get(f"/_framework/docs/assets/{asset}")
            assert (reply.status, reply.header("content-type").split(";")[0]) == (200, media)
        assert server.get("/_framework/docs/assets/swagger-editor-bundle.js").status == 404
        assert "validatorUrl: null" in server.get("/_framework/docs/init.js").text

        write_tree(root, {"app/api/tags/route.py": "def GET(request) -> None: ..."})
        wait_for(
            lambda: paths(server.get("/_framework/openapi.json").body) == ["/api/notes", "/api/tags"],
            what="the new route in the document",
        )


def test_start_serves_neither_without_the_config_key(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", TREE)
    with run_framework(root) as server:
        assert server.get("/_framework/openapi.json").status == 404
        assert server.get("/_framework/docs").status == 404


def test_start_serves_both_with_openapi_true(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p", {**TREE, "pyproject.toml": TREE["pyproject.toml"] + "\n[tool.framework]\nopenapi = true\n"}
    )
    with run_framework(root) as server:
        assert paths(server.get("/_framework/openapi.json").body) == ["/api/notes"]
        assert server.get("/_framework/docs").status == 200


def test_framework_config_shows_the_key(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**TREE, "pyproject.toml": "[tool.framework]\nopenapi = true\n"})
    rows = json.loads(run_cli("config", "--root", str(root), "--json").stdout)
    assert rows["openapi"] == {"value": True, "source": "pyproject.toml"}
    bad = write_tree(tmp_path / "q", {**TREE, "pyproject.toml": '[tool.framework]\nopenapi = "yes"\n'})
    result = run_cli("config", "--root", str(bad))
    assert result.returncode == 2 and "`openapi`: expected true or false" in result.stderr


def test_under_a_base_path_the_links_and_the_server_url_carry_it(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", TREE)
    client = TestClient(create_app(root, settings=Settings(base_path="/shop", openapi=True)))
    assert client.get("/shop/_framework/openapi.json").json()["servers"] == [{"url": "/shop"}]
    assert 'src="/shop/_framework/docs/assets/swagger-ui-bundle.js"' in client.get("/shop/_framework/docs").text
    assert client.get("/_framework/docs").status_code == 404


def test_without_swagger_ui_the_page_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "p", TREE)
    monkeypatch.setattr(apidocs, "swagger_ui_folder", lambda: None)
    client = TestClient(create_app(root, dev=True))
    page = client.get("/_framework/docs")
    assert page.status_code == 503 and "pip install &#x27;framework[docs]&#x27;" in page.text
    assert client.get("/_framework/docs/assets/swagger-ui.css").status_code == 404
    assert client.get("/_framework/openapi.json").status_code == 200  # the document needs nothing more
