"""The OpenAPI 3.1 document of the loaded routes: one path per route, one operation per exported method.

| from the route                                   | in the document                                          |
|--------------------------------------------------|----------------------------------------------------------|
| `app/api/todos/[id]/route.py`                    | `/api/todos/{id}`; `[...slug]`: `{slug}`, one or more segments |
| `app/api/docs/[[...slug]]/route.py`              | `/api/docs` and `/api/docs/{slug}`                       |
| `def GET`, `async def POST`, ...                 | `get`, `post`, ...; QUERY as `x-query` (3.1 has no slot for it) |
| the handler's docstring                          | `summary` (first line) and `description` (the rest)      |
| `params`, `query`, `headers`, `cookies`          | path, query (arrays exploded), header (`user_agent`: `user-agent`), cookie parameters |
| `body: M` / `body: Annotated[M, Form]`           | `requestBody`: application/json / url-encoded and multipart |
| `-> T`, `-> None`, `-> PlainTextResponse`, ...   | 200 with T's schema, 204, 200 text/plain, ...; no annotation: `default` |
| typed input that can be refused, a body          | 422 (and 400, 415 for a body) problem documents          |
| `tags = [...]`, `responses = {...}` (route config) | the tags (default: the first folder under app/api), more statuses |
| `openapi_extra = {"POST": {...}}` (route config) | merged into that operation: a body the handler reads by hand |

Models go to `components/schemas` through pydantic, imported only when a handler is typed.
"""

from __future__ import annotations

import inspect
import re
import tomllib
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .loader import Handler, LoadedRoute
from .openapi_schemas import LOCATION, PROBLEM, Schemas, annotation_parts, may_refuse, properties
from .segments import Kind, Segment

VERSION = "3.1.0"
OPERATIONS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")  # Path Item fields; QUERY: `x-query`
PLACES = {"params": "path", "query": "query", "headers": "header", "cookies": "cookie"}
ANY = "Any response: annotate the handler's result (`-> Model`, `-> None`, `-> PlainTextResponse`) to say which."
ABOUT = (
    "Typed inputs that do not validate answer 422 with an RFC 9457 problem document (`application/problem+json`); "
    "a JSON body that is not JSON 400, a body of another media type 415. A method a path does not list answers "
    "405 with `Allow` naming the ones it does; an unsafe request from another origin 403; a body over the cap 413."
)


def project_info(root: Path) -> tuple[str, str]:
    """`[project]` name and version from `root/pyproject.toml`, else the folder's name and 0.0.0."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        project = {}
    return str(project.get("name") or root.name), str(project.get("version") or "0.0.0")


def document(routes: Iterable[LoadedRoute], title: str, version: str, base_path: str = "") -> dict[str, Any]:
    """The OpenAPI document of `routes` (in the order given: the manifest's, most specific first).

    >>> doc = document([], "shop", "1.0")
    >>> doc["openapi"], doc["info"]["title"], doc["paths"]
    ('3.1.0', 'shop', {})
    """
    routes = [r for r in routes if any(m in r.handlers for m in (*OPERATIONS, "QUERY"))]
    schemas = Schemas(
        (r.route.file, h.method, h.signature) for r in routes for h in r.handlers.values() if h.signature is not None
    )
    paths: dict[str, Any] = {}
    ids: set[str] = set()
    for loaded in routes:
        for path, segments in _paths(loaded.route.segments):
            item: dict[str, Any] = {"description": f"Other methods answer 405 with `Allow: {_allow(loaded)}`."}
            for handler in loaded.handlers.values():
                if handler.method in OPERATIONS or handler.method == "QUERY":
                    key = "x-query" if handler.method == "QUERY" else handler.method.lower()
                    item[key] = _operation(loaded, handler, segments, schemas, _unique(handler.method, segments, ids))
            paths[path] = item
    doc: dict[str, Any] = {
        "openapi": VERSION,
        "info": {"title": title, "version": version, "description": ABOUT},
        "paths": paths,
        "components": schemas.components(paths),
    }
    if base_path:
        doc["servers"] = [{"url": base_path}]
    return doc


def table_document(root: Path, endpoints: Iterable[Any], base_path: str = "") -> dict[str, Any]:
    """The document of a route table's endpoints (those that loaded: a dev error page has no handlers)."""
    title, version = project_info(root)
    return document((e.loaded for e in endpoints if e.loaded is not None), title, version, base_path)


def _paths(segments: tuple[Segment, ...]) -> Iterator[tuple[str, tuple[Segment, ...]]]:
    """`[[...slug]]` answers with and without its segments: two paths, the first without the param."""
    if segments and segments[-1].kind is Kind.OPTIONAL_CATCH_ALL:
        yield _template(segments[:-1]), segments[:-1]
    yield _template(segments), segments


def _template(segments: tuple[Segment, ...]) -> str:
    parts = [f"{{{s.name}}}" if s.is_param else _literal(s.name) for s in segments]
    return "/" + "/".join(parts)


def _literal(name: str) -> str:
    """A static segment as it is sent: `café` -> `caf%C3%A9`; braces escaped, they mean a param here."""
    from urllib.parse import quote

    return quote(name, safe="!$&'()*+,;=:@-._~")


def _allow(loaded: LoadedRoute) -> str:
    methods = {m for m in loaded.handlers if m != "WEBSOCKET"} | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _unique(method: str, segments: tuple[Segment, ...], taken: set[str]) -> str:
    """`get_api_todos_id`: the method and the URL's words; `_2`, `_3` when two routes spell alike."""
    words = [re.sub(r"\W+", "_", s.name, flags=re.ASCII).strip("_") or "x" for s in segments]
    base = "_".join([method.lower(), *words]) if words else f"{method.lower()}_index"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _tags(loaded: LoadedRoute) -> list[str]:
    """The route's `tags`, else the first folder under app/api (`todos`), else the first folder of the URL."""
    if loaded.config.tags is not None:
        return list(loaded.config.tags)
    segments = loaded.route.segments
    if segments and segments[0].kind is Kind.STATIC and segments[0].name == "api":
        segments = segments[1:]
    return [segments[0].name] if segments and segments[0].kind is Kind.STATIC else []


def _docs(func: Callable[..., Any]) -> dict[str, str]:
    text = inspect.getdoc(func) or ""
    first, _, rest = text.strip().partition("\n")
    found = {"summary": first.strip(), "description": rest.strip()}
    return {k: v for k, v in found.items() if v}


def _operation(
    loaded: LoadedRoute, handler: Handler, segments: tuple[Segment, ...], schemas: Schemas, operation_id: str
) -> dict[str, Any]:
    file, method, signature = loaded.route.file, handler.method, handler.signature
    typed = {i.source: i for i in signature.inputs} if signature is not None else {}
    op: dict[str, Any] = {"operationId": operation_id, **_docs(handler.func)}
    tags = _tags(loaded)
    if tags:
        op["tags"] = tags
    parameters = [_path_param(s, typed, schemas, file, method) for s in segments if s.is_param]
    refusable = any(
        may_refuse(schemas.of(file, method, s), schemas, present=s == "params") for s in typed if s != "body"
    )
    for source, place in PLACES.items():
        if source in typed and source != "params":
            parameters += _parameters(schemas.of(file, method, source), place, schemas)
    if parameters:
        op["parameters"] = parameters
    responses: dict[str, Any] = {}
    if "body" in typed:
        op["requestBody"] = _body(schemas.of(file, method, "body"), typed["body"].form, typed["body"].adapter)
        refusable = True
        if not typed["body"].form:
            responses["400"] = {"$ref": "#/components/responses/BadRequest"}
        responses["415"] = {"$ref": "#/components/responses/UnsupportedMediaType"}
    if refusable:
        responses["422"] = {"$ref": "#/components/responses/UnprocessableContent"}
    declared = [(status, text) for only, status, text in loaded.config.responses if only in ("", method)]
    if signature is not None and signature.output is not None:
        schema = schemas.of(file, method, "result")
        responses["200"] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    for status, entry in _declared(_returns(handler.func), declared, "200" in responses).items():
        responses[status] = {**responses.get(status, {}), **entry}
    if not any(k[0] in "123" or k == "default" for k in responses):  # nothing says what a success looks like
        responses["default"] = {"description": ANY}
    op["responses"] = dict(sorted(responses.items()))
    for only, fields in loaded.config.openapi_extra:
        if only == method:
            op = merged(op, fields)
    return op


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`, tables merged key by key, anything else replaced.

    >>> merged({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]})
    {'a': {'b': 1, 'c': 3}, 'd': [2]}
    """
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _declared(annotation: Any, declared: list[tuple[int, str]], typed: bool) -> dict[str, Any]:
    """The responses of a result annotation and of the route's `responses`: the annotation's media types
    describe a 200, or, when `responses` names statuses with a body, those statuses instead; a declared
    3xx replaces the annotation's `3XX` and carries `Location`."""
    parts = annotation_parts(annotation) if not typed else None
    found, content = parts if parts is not None else ({}, {})
    with_body = [s for s, _ in declared if not (300 <= s < 400 or s == 204)]
    if content and not with_body:
        found["200"] = {"description": "OK", "content": content}
    if any(300 <= s < 400 for s, _ in declared):
        found.pop("3XX", None)
    for status, text in declared:
        entry = {**found.get(str(status), {}), "description": text}
        if 300 <= status < 400 and status != 304:
            entry["headers"] = LOCATION
        elif content and status in with_body:
            entry["content"] = content
        found[str(status)] = entry
    return found


def _returns(func: Callable[..., Any]) -> Any:
    """The return annotation, resolved; `inspect.Signature.empty` when there is none or it cannot be resolved."""
    try:
        return typing.get_type_hints(inspect.unwrap(func)).get("return", inspect.Signature.empty)
    except Exception:  # a string annotation naming something not imported: documented as unannotated
        return inspect.Signature.empty


def _path_param(segment: Segment, typed: dict[str, Any], schemas: Schemas, file: str, method: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if "params" in typed and not segment.is_catch_all:
        schema = properties(schemas.of(file, method, "params"), schemas)[0].get(segment.name, schema)
    param = {"name": segment.name, "in": "path", "required": True, "schema": schema}
    if segment.kind is Kind.CATCH_ALL:
        param["description"] = (
            f"One or more path segments (`{segment.notation()}`): `a/b` reaches the handler as a list."
        )
    elif segment.kind is Kind.OPTIONAL_CATCH_ALL:
        param["description"] = (
            f"One or more path segments (`{segment.notation()}`): `a/b` reaches the handler as a list; "
            "the path without them is documented on its own."
        )
    return param


def _parameters(schema: dict[str, Any], place: str, schemas: Schemas) -> list[dict[str, Any]]:
    props, required = properties(schema, schemas)
    params = []
    for name, prop in props.items():
        param: dict[str, Any] = {
            "name": name.replace("_", "-") if place == "header" else name,
            "in": place,
            "required": name in required,
            "schema": prop,
        }
        if "description" in prop:
            param["description"] = prop["description"]
        if place == "query" and _is_array(prop, schemas):
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _is_array(prop: dict[str, Any], schemas: Schemas) -> bool:
    options = [schemas.resolve(o) for o in [prop, *prop.get("anyOf", [])]]
    return any(o.get("type") == "array" for o in options)


def _body(schema: dict[str, Any], form: bool, adapter: Any) -> dict[str, Any]:
    media = ("application/x-www-form-urlencoded", "multipart/form-data") if form else ("application/json",)
    try:
        adapter.validate_python(None)
        required = form  # an empty JSON body reads as null, which this type accepts
    except Exception:
        required = True
    return {"required": required, "content": {m: {"schema": schema} for m in media}}


__all__ = ["PROBLEM", "VERSION", "document", "project_info", "table_document"]
