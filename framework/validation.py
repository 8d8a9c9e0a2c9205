"""Typed handlers at request time: read the inputs a `Signature` asks for, validate them, call, validate the result.

| what went wrong                          | answer (`application/problem+json`, RFC 9457)              |
|------------------------------------------|------------------------------------------------------------|
| a value does not fit its annotation      | 422, `errors`: `[{"location": "query.limit", "message", "type"}]` |
| a JSON body that is not JSON             | 400                                                        |
| a JSON body sent as something else (or the reverse for a form) | 415                                  |
| the handler's result does not fit `-> T` | 500, a `HandlerResultError` naming the field (the dev page shows it) |

Errors give the offending input for `params`, `query` and `body`, never for `headers` or `cookies`
(they carry tokens). Sync handlers validate and run in the thread pool, async ones on the loop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .locations import HandlerResultError, return_line
from .signatures import Signature

PROBLEM = "application/problem+json"
SECRET = ("headers", "cookies")  # their values are never echoed in an error


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return Response(json.dumps(body, ensure_ascii=False, default=str), status_code=status, media_type=PROBLEM)


def _pairs(
    items: Iterable[tuple[str, Any]], lists: frozenset[str], rename: Callable[[str], str] = str
) -> dict[str, Any]:
    """Name -> value from repeatable pairs: a name whose field is an array collects every value."""
    out: dict[str, Any] = {}
    for key, value in items:
        name = rename(key)
        if name in lists:
            out.setdefault(name, []).append(value)
        else:
            out.setdefault(name, value)  # the first value wins, as Starlette's `.get()` does
    return out


def _header_name(key: str) -> str:
    return key.lower().replace("-", "_")  # `user_agent: str` reads `User-Agent`


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _gather(signature: Signature, request: Request) -> dict[str, Any] | Response:
    """The raw value of each input, read on the event loop (the body is read here, once)."""
    raw: dict[str, Any] = {}
    for item in signature.inputs:
        source = item.source
        if source == "params":
            raw[source] = dict(request.path_params)
        elif source == "query":
            raw[source] = _pairs(request.query_params.multi_items(), item.lists)
        elif source == "headers":
            raw[source] = _pairs(request.headers.items(), item.lists, _header_name)
        elif source == "cookies":
            raw[source] = dict(request.cookies)
        elif item.form:
            media = _media(request)
            if media not in ("application/x-www-form-urlencoded", "multipart/form-data"):
                return problem(415, "Unsupported Media Type", f"Send the body as a form, not {media or 'nothing'}.")
            raw[source] = _pairs((await request.form()).multi_items(), item.lists)
        else:
            body = await request.body()
            media = _media(request)
            if body and media != "application/json" and not media.endswith("+json"):
                return problem(
                    415, "Unsupported Media Type", f"Send the body as application/json, not {media or 'nothing'}."
                )
            raw[source] = body
    return raw


def _location(source: str, error: Any) -> dict[str, Any]:
    """One pydantic error as `{"location": "query.limit", "message", "type"[, "input"]}`."""
    where = ".".join([source, *(str(part) for part in error.get("loc", ()))])
    found = {"location": where, "message": error["msg"], "type": error["type"]}
    if source not in SECRET and "input" in error:
        found["input"] = error["input"]
    return found


def _validate(signature: Signature, raw: dict[str, Any]) -> dict[str, Any] | Response:
    from pydantic import ValidationError

    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for item in signature.inputs:
        value = raw[item.source]
        try:
            if item.source == "body" and not item.form:
                values["body"] = item.adapter.validate_json(value or b"null")
            else:
                values[item.source] = item.adapter.validate_python(value)
        except ValidationError as exc:
            details = exc.errors(include_url=False)
            if item.source == "body" and any(e["type"] == "json_invalid" for e in details):
                return problem(400, "Bad Request", f"The body is not valid JSON: {details[0]['msg']}.")
            errors.extend(_location(item.source, e) for e in details)
    if errors:
        return problem(422, "Unprocessable Content", "The request does not match what the handler takes.", errors)
    return values


def typed_call(
    func: Callable[..., Any],
    signature: Signature,
    asynchronous: bool,
    context_of: Callable[[Request], Any],
    name: str,
    file: str,
) -> Callable[[Request], Awaitable[Any]]:
    """`request -> result` for a typed handler: a problem Response for bad input, else the handler's result
    (sent through `-> T` as JSON when it has one and is not a Response itself)."""
    leading = signature.leading

    def run(request: Request, raw: dict[str, Any]) -> Any:
        values = _validate(signature, raw)
        if isinstance(values, Response):
            return values
        args = (request, context_of(request))[:leading]
        return func(*args, **values)

    async def call(request: Request) -> Any:
        raw = await _gather(signature, request)
        if isinstance(raw, Response):
            return raw
        if asynchronous:
            result = run(request, raw)
            result = await result if not isinstance(result, Response) else result
        else:
            result = await run_in_threadpool(run, request, raw)
        if signature.output is None or isinstance(result, Response):
            return result
        return _output(signature, result, func, name, file)

    return call


def _output(signature: Signature, result: Any, func: Callable[..., Any], name: str, file: str) -> Response:
    from pydantic import ValidationError

    adapter = signature.output
    assert adapter is not None  # called only for a signature with a result type
    try:
        return Response(adapter.dump_json(adapter.validate_python(result)), media_type="application/json")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "the value"
        line = return_line(func, result)
        where = f"{file}:{line}" if line else file
        shown = getattr(signature.output_annotation, "__name__", repr(signature.output_annotation))
        raise HandlerResultError(
            f"{where}: {name}() returned a value its annotation `-> {shown}` does not allow: {field}: {first['msg']}; "
            "return what the annotation says, or change it.",
            file,
            line,
        ) from None
