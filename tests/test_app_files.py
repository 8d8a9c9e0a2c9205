"""App-level files in process (create_app + TestClient): the lifespan's order, create_app(dev=True), the
loader's warnings and the dev 404 page's ordering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from framework.app import create_app
from framework.dev.hints import shared_prefix
from framework.instrumentation import load_instrumentation
from framework.manifest import Route
from framework.segments import parse_segment
from tests.helpers import write_tree

ROUTE = {"app/api/x/route.py": "def GET(request):\n    return {'x': 1}\n"}
HOOKS = """
    import sys
    calls = sys.modules["tests.test_app_files"].CALLS

    def register():
        calls.append("register")

    async def shutdown():
        calls.append("shutdown")
"""
CALLS: list[str] = []


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


def test_register_and_shutdown_wrap_the_projects_own_lifespan(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTE, "instrumentation.py": HOOKS})

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        CALLS.append("app startup")
        yield
        CALLS.append("app shutdown")

    with TestClient(create_app(root, lifespan=lifespan)) as client:
        assert client.get("/api/x").json() == {"x": 1}
        assert CALLS == ["register", "app startup"]
    assert CALLS == ["register", "app startup", "app shutdown", "shutdown"]


def test_create_app_dev_shows_a_failing_register_and_skips_its_shutdown(tmp_path: Path) -> None:
    source = HOOKS.replace('calls.append("register")', "raise LookupError('no config')")
    root = write_tree(tmp_path / "p", {**ROUTE, "instrumentation.py": source})
    with TestClient(create_app(root, dev=True)) as client:
        reply = client.get("/api/x")
        assert reply.status_code == 500 and "LookupError: no config" in reply.text
    assert CALLS == []


def test_loader_warns_about_names_it_does_not_read(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p", {"instrumentation.py": "def onRequestError(e, r, c): ...\n\n\ndef registr(): ...\n"}
    )
    loaded, warnings = load_instrumentation(root)
    assert loaded is not None and not isinstance(loaded, Exception)
    assert warnings == (
        "instrumentation.py:1: `onRequestError` is not read; did you mean `on_request_error`?",
        "instrumentation.py:4: `registr` is not read; did you mean `register`?",
    )


def route(pattern: str) -> Route:
    segments = tuple(parse_segment(p) for p in pattern.strip("/").split("/") if p)
    return Route(pattern, "app" + pattern + "/route.py", segments)


@pytest.mark.parametrize(
    ("path", "pattern", "shared"),
    [
        (("api", "users", "7", "x"), "/api/users/[id]", 3),
        (("api", "users", "7", "x"), "/api/orders", 1),
        (("api", "users"), "/api/users/[id]/posts", 2),
        (("docs", "a", "b"), "/docs/[...slug]", 3),
        (("about",), "/api/users", 0),
    ],
)
def test_shared_prefix(path: tuple[str, ...], pattern: str, shared: int) -> None:
    assert shared_prefix(path, route(pattern)) == shared
