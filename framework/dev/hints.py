"""Dev pages for browsers (`Accept: text/html`): what a 404 or a 405 means in this project.

| answer                                             | a browser gets, under `framework dev`                       |
|----------------------------------------------------|-------------------------------------------------------------|
| 404 for a URL nothing answers, without `app/not_found.py` | the route table, the routes sharing the longest prefix with the URL first: pattern, methods, file |
| 405                                                | the methods the route exports; a lowercase `get`-style function in the module, named with its line |

The status and `Allow` stay as they are. Other clients, `not_found()` raised by a route, and
`framework start` get the plain answers. Everything from the request or the project is HTML-escaped.
"""

from __future__ import annotations

import html
import sys
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from ..application import answer_not_found
from ..endpoints import Endpoint
from ..errors import location
from ..loader import misspelled_method, module_name
from ..locations import line_of
from ..manifest import Route
from ..routing import MethodNotAllowed, NoRoute
from ..segments import Kind
from ..table import RouteTable
from .errorpage import _STYLE, exception_handler, wants_html

SHOWN = 20  # routes listed on the 404 page


def shared_prefix(parts: tuple[str, ...], route: Route) -> int:
    """How many leading segments of the URL `route` would match: `/api/users/x/y` and `/api/users/[id]` -> 3."""
    count = 0
    for part, segment in zip(parts, route.segments, strict=False):
        if segment.is_catch_all:
            return len(parts)
        if segment.kind is Kind.STATIC and segment.name != part:
            break
        count += 1
    return count


def closest(parts: tuple[str, ...], table: RouteTable) -> list[Endpoint]:
    """The table's endpoints, those sharing the longest prefix with the URL first (table order otherwise)."""
    order = {id(e): i for i, e in enumerate(table.endpoints)}
    return sorted(table.endpoints, key=lambda e: (-shared_prefix(parts, e.route), order[id(e)]))


def methods_text(endpoint: Endpoint) -> str:
    methods = [*endpoint.methods, *(("WEBSOCKET",) if endpoint.websocket is not None else ())]
    return ", ".join(methods) or "none (the module fails to import or exports no handler)"


def misspelled(endpoint: Endpoint) -> list[str]:
    """`get`, `Post` in the route's module, as sentences naming the file and line."""
    module = sys.modules.get(module_name(endpoint.route.file))
    if module is None:
        return []
    found = []
    for name, value in vars(module).items():
        suggestion = misspelled_method(name, value, module.__name__)
        if suggestion is not None:
            where = location(endpoint.route.file, line_of(module, name))
            found.append(f"{where}: `{name}` is not a handler, only uppercase names count: rename it `{suggestion}`.")
    return found


def page(title: str, subtitle: str, body: str) -> str:
    e = html.escape
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_STYLE}header{{background:#57606a}}td,th{{text-align:left;padding:2px 12px 2px 0}}</style></head>"
        f"<body><header><h1>{e(title)}</h1><p>{e(subtitle)}</p></header><main>{body}"
        "<p>framework dev shows this page to browsers only; other clients and framework start get the plain answer.</p>"
        "</main></body></html>"
    )


def render_404(path: str, table: RouteTable) -> str:
    e = html.escape
    parts = tuple(p for p in path.split("/") if p)
    endpoints = closest(parts, table)
    rows = "".join(  # `ready()`: a route the dev server has not imported yet is imported for its methods
        f"<tr><td><code>{e(x.route.pattern)}</code></td><td>{e(methods_text(x.ready()))}</td><td>{e(x.route.file)}</td></tr>"
        for x in endpoints[:SHOWN]
    )
    more = (
        f"<p>and {len(endpoints) - SHOWN} more (framework routes lists them all).</p>" if len(endpoints) > SHOWN else ""
    )
    body = (
        "<p>No route, no file in <code>public/</code> answers this URL. Add <code>app/&lt;path&gt;/route.py</code>, "
        "or <code>app/not_found.py</code> to answer every 404 yourself.</p>"
        + (
            f"<h2>Routes, closest first</h2><table><tr><th>pattern</th><th>methods</th><th>file</th></tr>{rows}</table>{more}"
            if rows
            else "<p>The project has no routes yet.</p>"
        )
    )
    return page("404: Not Found", path, body)


def render_405(method: str, endpoint: Endpoint) -> str:
    e = html.escape
    notes = "".join(f"<li>{e(note)}</li>" for note in misspelled(endpoint))
    body = (
        f"<p><code>{e(endpoint.route.file)}</code> exports {e(methods_text(endpoint))}, not {e(method)}. "
        f"Add <code>def {e(method)}(request): ...</code> to it to answer {e(method)}.</p>"
        + (f"<h2>Not handlers</h2><ul>{notes}</ul>" if notes else "")
    )
    return page(f"405: {method} is not allowed", endpoint.route.pattern, body)


async def dev_not_found(request: Request, exc: Exception) -> Response:
    """The 404 page for a browser asking for a URL nothing answers; otherwise the usual 404."""
    table: RouteTable = request.app.router.table
    if table.not_found is None and isinstance(exc, NoRoute) and wants_html(request.headers.get("accept")):
        return HTMLResponse(await run_in_threadpool(render_404, request.url.path, table), status_code=404)
    return await answer_not_found(request, exc)


async def dev_method_not_allowed(request: Request, exc: Exception) -> Response:
    """The 405 page for a browser; otherwise Starlette's plain 405, `Allow` kept either way."""
    headers = getattr(exc, "headers", None)
    if isinstance(exc, MethodNotAllowed) and wants_html(request.headers.get("accept")):
        return HTMLResponse(render_405(request.method, exc.endpoint), status_code=405, headers=headers)
    return PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)


def dev_exception_handlers() -> dict[Any, Any]:
    """The dev server's exception handlers: the error page for a 500, these pages for 404 and 405."""
    return {Exception: exception_handler, 404: dev_not_found, 405: dev_method_not_allowed}
