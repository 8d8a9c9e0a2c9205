"""`/_framework/openapi.json` and `/_framework/docs`: the OpenAPI document of the routes being served, and
Swagger UI for it, served from this machine (no CDN).

| served by                                   | when                                         |
|---------------------------------------------|----------------------------------------------|
| `framework dev`, `create_app(dev=True)`     | always                                       |
| `framework start`, `create_app()`           | only with `[tool.framework] openapi = true`  |

The document is built from the table in force, once per table: a dev reload swaps the table, so the
next request sees the new routes. `_framework` is a private folder name, so no file route can take
these URLs. Swagger UI's files come from the `swagger-ui-py` package (the `docs` extra: Swagger UI 5,
which reads OpenAPI 3.1); without it the page says what to install and the JSON is still served.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .openapi import table_document
from .settings import Settings

PREFIX = "/_framework"
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript", "favicon-32x32.png": "image/png"}
INSTALL = "pip install 'framework[docs]'"  # swagger-ui-py: Swagger UI 5
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}: API</title>
<link rel="stylesheet" href="{base}/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-url="{base}/openapi.json"></div>
<script src="{base}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{base}/docs/init.js"></script>
</body>
</html>
"""
# validatorUrl: null, or Swagger UI sends the document to validator.swagger.io for its badge.
INIT = """window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.url,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def docs_routes(settings: Settings) -> list[BaseRoute]:
    """The Starlette routes to add after the file routes: none unless in dev or `openapi = true`."""
    if not (settings.dev or settings.openapi):
        return []
    return [
        Route(f"{PREFIX}/openapi.json", openapi_json, methods=["GET"]),
        Route(f"{PREFIX}/docs", docs_page, methods=["GET"]),
        Route(f"{PREFIX}/docs/", docs_page, methods=["GET"]),  # where `trailing_slash = true` sends it
        Route(f"{PREFIX}/docs/init.js", _init, methods=["GET"]),
        Route(f"{PREFIX}/docs/assets/{{name}}", _asset, methods=["GET"]),
    ]


def swagger_ui_folder() -> Path | None:
    """Where `swagger-ui-py` keeps Swagger UI's files, or None when it is not installed."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def current_document(request: Request) -> bytes:
    """The document of the table serving now, kept until the table is replaced (a dev reload)."""
    app: Any = request.app
    table = app.router.table
    cached = getattr(app.state, "openapi_document", None)
    if cached is not None and cached[0] is table:
        return bytes(cached[1])
    base = request.scope.get("root_path", "")
    endpoints = [e.ready() for e in table.endpoints]  # routes dev has not imported yet are imported for their types
    body = json.dumps(table_document(app.state.framework_root, endpoints, base), ensure_ascii=False).encode()
    app.state.openapi_document = (table, body)
    return body


async def openapi_json(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    body = await run_in_threadpool(current_document, request)  # pydantic's schemas: off the event loop
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})


async def docs_page(request: Request) -> Response:
    from html import escape

    from .openapi import project_info

    title = escape(project_info(request.app.state.framework_root)[0])
    base = escape(request.scope.get("root_path", "") + PREFIX)
    if swagger_ui_folder() is None:
        message = (
            f"<p>Swagger UI is not installed in this Python. Install it with <code>{escape(INSTALL)}</code> "
            "(the <code>swagger-ui-py</code> package), then reload. The document itself: "
            f'<a href="{base}/openapi.json">openapi.json</a>.</p>'
        )
        return HTMLResponse(f"<!doctype html><title>{title}: API</title>{message}", status_code=503)
    return HTMLResponse(PAGE.format(title=title, base=base), headers={"cache-control": "no-store"})


async def _init(request: Request) -> Response:
    return Response(INIT, media_type="text/javascript")


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    folder = swagger_ui_folder()
    if name not in ASSETS or folder is None:
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(folder / name, media_type=ASSETS[name], headers={"cache-control": "max-age=3600"})
