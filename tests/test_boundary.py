"""framework/boundary.py answers exactly as Starlette's ServerErrorMiddleware + ExceptionMiddleware do.

Each case builds the same project twice: without user middleware (the `Boundary` serves) and with a
pass-through user middleware (Starlette's own stack serves), and compares status, body, headers and
whether the exception reached the server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from framework.app import create_app
from framework.boundary import Boundary

ROUTES = {
    "teapot": "from starlette.exceptions import HTTPException\n"
    "async def GET(request):\n    raise HTTPException(418, 'short and stout', headers={'x-pot': '1'})\n",
    "empty": "from starlette.exceptions import HTTPException\nasync def GET(request):\n    raise HTTPException(304)\n",
    "custom": "class Custom(Exception):\n    pass\nasync def GET(request):\n    raise Custom('mine')\n",
    "crash": "async def GET(request):\n    raise ValueError('boom')\n",
    "missing": "from framework.navigation import not_found\nasync def GET(request):\n    not_found()\n",
    "late": "from starlette.responses import StreamingResponse\n"
    "async def chunks():\n    yield b'first'\n    raise ValueError('mid-stream')\n"
    "async def GET(request):\n    return StreamingResponse(chunks())\n",
    "late_handled": "from starlette.exceptions import HTTPException\nfrom starlette.responses import StreamingResponse\n"
    "async def chunks():\n    yield b'first'\n    raise HTTPException(409)\n"
    "async def GET(request):\n    return StreamingResponse(chunks())\n",
    "socket": "from starlette.exceptions import WebSocketException\n"
    "async def WEBSOCKET(websocket):\n    raise WebSocketException(4007, 'go away')\n",
}


class PassThrough:
    """A user middleware that changes nothing: its presence makes Starlette build its own stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def on_custom(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"custom: {exc}", status_code=422)


def on_custom_sync(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"sync custom: {exc}", status_code=423)


async def on_418(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("status handler", status_code=418)


async def on_500(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"our 500: {exc}", status_code=500)


async def raising_handler(request: Request, exc: Exception) -> Response:
    raise RuntimeError("the handler itself failed")


def custom_class(root: Path) -> type[Exception]:
    """The `Custom` class the route module defines (loaded by the app): handlers are keyed by class."""
    import sys

    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(str(root)) and file.endswith("custom/route.py"):
            return module.Custom  # type: ignore[no-any-return]
    raise AssertionError("the custom route was not loaded")


def write(root: Path) -> Path:
    for name, source in ROUTES.items():
        folder = root / "app" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "route.py").write_text(source, encoding="utf-8")
    return root


def build(root: Path, middleware: bool, **options: Any) -> Any:
    handlers: Callable[[Path], dict[Any, Any]] | None = options.pop("handlers", None)
    app = create_app(root, middleware=[Middleware(PassThrough)] if middleware else [], **options)
    if handlers is not None:  # keyed by the route module's own class, known once the app loaded it
        for key, handler in handlers(root).items():
            app.add_exception_handler(key, handler)
    return app


def outcome(app: Any, path: str) -> tuple[int, str, dict[str, str], str | None]:
    """(status, body, headers that matter, the exception the server saw) for GET `path`."""
    client = TestClient(app, raise_server_exceptions=True)
    try:
        response = client.get(path)
    except Exception as exc:  # re-raised to the server, as Starlette does after sending its 500
        client = TestClient(app, raise_server_exceptions=False)
        response = client.get(path)
        raised: str | None = f"{type(exc).__name__}: {exc}"
    else:
        raised = None
    kept = {k: v for k, v in response.headers.items() if k in ("x-pot", "content-type", "content-length")}
    return response.status_code, response.text, kept, raised


CASES: list[tuple[str, dict[str, Any]]] = [
    ("/teapot", {}),
    ("/empty", {}),
    ("/custom", {}),
    ("/crash", {}),
    ("/missing", {}),
    ("/nowhere", {}),
    ("/late", {}),
    ("/late_handled", {}),
    ("/crash", {"debug": True}),
    ("/crash", {"exception_handlers": {500: on_500}}),
    ("/crash", {"exception_handlers": {Exception: on_500}}),
    ("/teapot", {"exception_handlers": {418: on_418}}),
    ("/teapot", {"exception_handlers": {HTTPException: raising_handler}}),
    ("/custom", {"handlers": lambda root: {custom_class(root): on_custom}}),
    ("/custom", {"handlers": lambda root: {custom_class(root): on_custom_sync}}),
    ("/custom", {"handlers": lambda root: {Exception: on_500}}),
]


@pytest.mark.parametrize(("path", "options"), CASES, ids=[f"{p} {sorted(o)}" for p, o in CASES])
def test_the_boundary_answers_as_starlettes_stack(tmp_path: Path, path: str, options: dict[str, Any]) -> None:
    root = write(tmp_path / "p")
    ours = build(root, middleware=False, **dict(options))
    theirs = build(root, middleware=True, **dict(options))
    assert isinstance(ours.build_middleware_stack(), Boundary)
    assert isinstance(theirs.build_middleware_stack(), ServerErrorMiddleware)
    expected = outcome(theirs, path)
    got = outcome(ours, path)
    if options.get("debug"):  # the traceback page names this run's temp files: compare its shape
        assert got[0] == expected[0] == 500 and "ValueError" in got[1] and got[3] == expected[3]
        return
    assert got == expected


def test_a_websocket_exception_closes_with_its_code_as_starlette_does(tmp_path: Path) -> None:
    root = write(tmp_path / "p")
    codes = []
    for middleware in (False, True):
        client = TestClient(build(root, middleware=middleware))
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/socket") as socket:
            socket.receive_text()
        codes.append((closed.value.code, closed.value.reason))
    assert codes == [(4007, "go away"), (4007, "go away")]
