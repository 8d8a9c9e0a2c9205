"""Typed handlers: what a handler's annotations ask for, read once at load time.

| parameter (by name)  | filled from                                   | annotation                                  |
|----------------------|-----------------------------------------------|---------------------------------------------|
| `params: M`          | the path params (`[id]`, `[...slug]`)         | a model whose fields are the folder's names |
| `query: M`           | the query string (a repeated key: a list)     | a model                                     |
| `body: M`            | the JSON body, or a form: `Annotated[M, Form]` | any type: a model, `list[M]`, `int`, ...   |
| `headers: M`         | the headers (`user_agent` reads `user-agent`) | a model                                     |
| `cookies: M`         | the cookies                                   | a model                                     |
| `-> T`               | the handler's result, validated and sent as JSON | any type but a Response                   |

A model is a pydantic `BaseModel`, a dataclass or a `TypedDict` (validated through pydantic's
`TypeAdapter`). The other positional parameters are `request` and `context`, as for any handler. A
handler with none of these pays nothing, and a project without them never imports pydantic: this
module imports it only once an annotation asks for it.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from .errors import Problem

SOURCES = ("params", "query", "body", "headers", "cookies")
MAPPINGS = ("params", "query", "headers", "cookies")  # read from name -> value pairs: need a model


class Form:
    """`body: Annotated[Login, Form]`: the body is a url-encoded or multipart form, not JSON."""


@dataclass(frozen=True, slots=True)
class Input:
    """One typed parameter: where its value comes from and how it is validated."""

    source: str  # one of SOURCES
    annotation: Any
    adapter: Any  # pydantic.TypeAdapter
    lists: frozenset[str] = frozenset()  # field names read as lists (query, form): a key may repeat
    form: bool = False


@dataclass(frozen=True, slots=True)
class Signature:
    """How to call a typed handler: the request and context it takes by position, its typed inputs by
    name, and the adapter its result goes through (None: returned as any handler's result)."""

    leading: int  # 0, 1 (request) or 2 (request, context)
    inputs: tuple[Input, ...]
    output: Any | None  # pydantic.TypeAdapter
    output_annotation: Any = None


def _is_response(annotation: object) -> bool:
    """`-> Response`, `-> JSONResponse`, `-> None`, `-> A | B` of those: the result needs no validation (and no
    pydantic)."""
    if annotation is None or annotation is type(None) or annotation is inspect.Signature.empty:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # `-> FileResponse | PlainTextResponse`
        return all(_is_response(option) for option in typing.get_args(annotation))
    return isinstance(annotation, type) and any(
        c.__name__ == "Response" and "starlette" in c.__module__ for c in annotation.__mro__
    )


def asks_for_types(func: Callable[..., Any]) -> bool:
    """Does the handler use typed inputs or a result type? Decided from the annotations alone, without
    resolving string annotations or importing pydantic (a plain function's `__annotations__`: no
    `inspect.signature`, which costs 0.1 ms a handler at startup)."""
    annotations = getattr(func, "__annotations__", None)
    if not isinstance(annotations, dict) or not hasattr(func, "__code__"):
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            return False
        annotations = {p.name: p.annotation for p in signature.parameters.values() if p.annotation is not p.empty}
        if signature.return_annotation is not signature.empty:
            annotations["return"] = signature.return_annotation
    if any(name in SOURCES for name in annotations):
        return True
    returns = annotations.get("return", inspect.Signature.empty)
    if isinstance(returns, str):
        return returns not in ("None", "Response") and not returns.endswith("Response")
    return not _is_response(returns)


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    return typing.get_type_hints(inspect.unwrap(func), include_extras=True)


def _field_names(annotation: Any) -> list[str] | None:
    """The field names of a model (BaseModel, dataclass, TypedDict), or None for anything else."""
    fields = getattr(annotation, "model_fields", None)
    if isinstance(fields, dict):
        return [info.alias or name for name, info in fields.items()]
    if dataclasses.is_dataclass(annotation):
        return [f.name for f in dataclasses.fields(annotation)]
    if typing.is_typeddict(annotation):
        return list(typing.get_type_hints(annotation))
    return None


def _array_fields(adapter: Any) -> frozenset[str]:
    """Fields whose JSON schema is an array: read with `getlist` from a query or a form."""
    schema = adapter.json_schema()
    properties = schema.get("properties", {})
    defs = schema.get("$defs", {})
    found = set()
    for name, prop in properties.items():
        options = [prop, *prop.get("anyOf", [])]
        options = [defs.get(o["$ref"].rsplit("/", 1)[-1], o) if "$ref" in o else o for o in options]
        if any(o.get("type") == "array" for o in options):
            found.add(name)
    return frozenset(found)


def read_signature(
    func: Callable[..., Any], method: str, file: str, line: int | None, route_params: Collection[str]
) -> Signature | Problem | None:
    """The typed signature of a handler, None when it uses no types, or the Problem with it (a model field
    that is no folder param, an annotation that cannot be validated), naming the file and the fix."""
    if not asks_for_types(func):
        return None
    from pydantic import TypeAdapter
    from pydantic.errors import PydanticUserError

    name = getattr(func, "__name__", method)

    def problem(message: str, fix: str) -> Problem:
        return Problem("typed-handler", f"{name}(): {message}", fix, (file,), line)

    try:
        hints = _hints(func)
    except Exception as exc:  # a name in a string annotation that does not resolve
        return problem(
            f"its annotations cannot be resolved ({type(exc).__name__}: {exc}).",
            "Import every type the annotations name at module level.",
        )
    inputs: list[Input] = []
    leading = 0
    for param in inspect.signature(func).parameters.values():
        if param.name not in SOURCES or param.name not in hints:
            if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and param.default is param.empty:
                leading += 1
            continue
        annotation = hints[param.name]
        form = any(extra is Form for extra in getattr(annotation, "__metadata__", ()))
        model = annotation.__origin__ if form else annotation
        if param.name in MAPPINGS and _field_names(typing.get_origin(model) or model) is None:
            return problem(
                f"`{param.name}: {_named(annotation)}` is not a model.",
                f"Annotate `{param.name}` with a pydantic BaseModel, a dataclass or a TypedDict whose "
                f"fields are the {param.name} names.",
            )
        try:
            adapter = TypeAdapter(model)
        except PydanticUserError as exc:
            return problem(
                f"`{param.name}: {_named(annotation)}` cannot be validated ({exc}).",
                "Use a pydantic model, a dataclass, a TypedDict or a standard type.",
            )
        if param.name == "params":
            unknown = [f for f in _field_names(model) or [] if f not in route_params]
            if unknown:
                folders = ", ".join(f"[{p}]" for p in route_params) or "no param"
                return problem(
                    f"`params: {_named(annotation)}` has the field `{unknown[0]}`, but the route's folders name "
                    f"{folders}.",
                    f"Rename the field to one of the folder names, or the folder to `[{unknown[0]}]`.",
                )
        lists = _array_fields(adapter) if param.name in ("query", "headers") or form else frozenset()
        inputs.append(Input(param.name, annotation, adapter, lists, form))
    returns = hints.get("return", inspect.Signature.empty)
    output = None
    if not _is_response(returns):
        try:
            output = TypeAdapter(returns)
        except PydanticUserError as exc:
            return problem(
                f"its return annotation `{_named(returns)}` cannot be validated ({exc}).",
                "Annotate the result with a model, a list of models or a standard type, or `-> Response`.",
            )
    return Signature(min(leading, 2), tuple(inputs), output, None if output is None else returns)


def _named(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation).replace("typing.", "")
