"""JSON schemas for the OpenAPI document: the handlers' types through pydantic, in one pass, named once.

Every typed input and result of every handler goes to one `TypeAdapter.json_schemas` call, so two models
named alike in two modules get two names, and each model is written once under `components/schemas`.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable, Iterator
from typing import Any

from .signatures import Signature

REF = "#/components/schemas/{model}"
PROBLEM = "ProblemDetails"
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists each input that did not validate.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "message", "type"],
                "properties": {
                    "location": {"type": "string", "description": "`query.limit`, `body.items.0.title`, ..."},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "input": {"description": "the value refused (never for headers and cookies)"},
                },
            },
        },
    },
}
_SHARED = {
    "BadRequest": "The body is not JSON.",
    "UnsupportedMediaType": "The body was sent as another media type than the one documented.",
    "UnprocessableContent": "An input does not match its schema: `errors` names each one.",
}
_MEDIA = {"PlainTextResponse": "text/plain", "HTMLResponse": "text/html", "JSONResponse": "application/json"}
_BINARY = ("FileResponse", "StreamingResponse")
_IGNORED = ("title", "description", "default", "examples")
LOCATION = {"Location": {"required": True, "schema": {"type": "string"}}}


class Schemas:
    """The JSON schema of each (file, method, source) of the typed handlers; `result` is the return type."""

    def __init__(self, signatures: Iterable[tuple[str, str, Signature]]) -> None:
        inputs: list[tuple[tuple[str, str, str], str, Any]] = []
        for file, method, signature in signatures:
            inputs += [((file, method, i.source), "validation", i.adapter) for i in signature.inputs]
            if signature.output is not None:
                inputs.append(((file, method, "result"), "serialization", signature.output))
        self.by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.defs: dict[str, Any] = {}
        if inputs:
            from pydantic import TypeAdapter

            found, defs = TypeAdapter.json_schemas(inputs, ref_template=REF)  # type: ignore[arg-type]
            self.by_key = {key: schema for (key, _), schema in found.items()}
            self.defs = defs.get("$defs", {})

    def of(self, file: str, method: str, source: str) -> dict[str, Any]:
        return self.by_key[(file, method, source)]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`{"$ref": "#/components/schemas/Query"}` -> Query's schema; anything else as it is."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF.removesuffix("{model}")):
            return dict(self.defs.get(ref.rsplit("/", 1)[-1], schema))
        return schema

    def components(self, paths: dict[str, Any]) -> dict[str, Any]:
        """`components`: the models the paths use (and the models they use), the problem schema, the shared
        problem responses."""
        used: dict[str, Any] = {}
        todo = list(_refs(paths))
        while todo:
            name = todo.pop()
            if name not in used and name in self.defs:
                used[name] = self.defs[name]
                todo += _refs(self.defs[name])
        problem = PROBLEM
        while problem in used:
            problem += "_"
        used[problem] = _PROBLEM_SCHEMA
        content = {"application/problem+json": {"schema": {"$ref": REF.format(model=problem)}}}
        return {
            "schemas": dict(sorted(used.items())),
            "responses": {name: {"description": text, "content": content} for name, text in _SHARED.items()},
        }


def _refs(value: Any) -> Iterator[str]:
    """The component names a piece of the document refers to."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF.removesuffix("{model}")):
            yield ref.rsplit("/", 1)[-1]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def properties(schema: dict[str, Any], schemas: Schemas) -> tuple[dict[str, Any], set[str]]:
    """A model's fields (name -> schema) and the names it requires."""
    model = schemas.resolve(schema)
    return dict(model.get("properties", {})), set(model.get("required", ()))


def may_refuse(schema: dict[str, Any], schemas: Schemas | None = None, *, present: bool = False) -> bool:
    """Can a model read from strings (a query, headers, cookies, path params) refuse a request? Not when
    every field is optional (or `present`: path params always are) and takes any string (or list of
    strings): then 422 is never answered.

    >>> may_refuse({"properties": {"returnTo": {"anyOf": [{"type": "string"}, {"type": "null"}]}}})
    False
    >>> may_refuse({"properties": {"limit": {"type": "integer", "default": 3}}})
    True
    """
    model = schemas.resolve(schema) if schemas is not None else schema
    if (model.get("required") and not present) or model.get("additionalProperties") is False:
        return True
    return not all(_any_string(p) for p in model.get("properties", {}).values())


def _any_string(prop: dict[str, Any]) -> bool:
    bare = {k: v for k, v in prop.items() if k not in _IGNORED}
    if bare in ({}, {"type": "string"}):
        return True
    if bare.get("type") == "array" and set(bare) <= {"type", "items"}:
        return _any_string(bare.get("items", {}))
    return any(_any_string(option) for option in bare.get("anyOf", ()))


def annotation_parts(annotation: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """What a result annotation without a model says: responses of their own (`-> None`: 204,
    `-> RedirectResponse`: a 3XX with `Location`) and the media types of the bodies it sends
    (`-> PlainTextResponse`: text/plain); None when it says nothing (no annotation, `-> Response`).

    >>> annotation_parts(None)
    ({'204': {'description': 'No Content'}}, {})
    """
    if annotation is None or annotation is type(None):
        return {"204": {"description": "No Content"}}, {}
    if annotation is inspect.Signature.empty:
        return None
    if typing.get_origin(annotation) in (typing.Union, _union_type()):
        responses: dict[str, Any] = {}
        content: dict[str, Any] = {}
        for option in typing.get_args(annotation):
            found = annotation_parts(option)
            if found is None:
                return None
            responses.update(found[0])
            content.update(found[1])
        return responses, content
    names = [c.__name__ for c in getattr(annotation, "__mro__", ())]
    if "RedirectResponse" in names:
        return {"3XX": {"description": "A redirect to `Location`", "headers": LOCATION}}, {}
    if any(n in _BINARY for n in names):
        return {}, {"*/*": {"schema": {}}}
    media = next((_MEDIA[n] for n in names if n in _MEDIA), None)
    if media is None:
        return None
    return {}, {media: {"schema": {} if media == "application/json" else {"type": "string"}}}


def _union_type() -> Any:
    import types

    return types.UnionType
