"""What a handler returns, as the Response sent: a Response as is, a dict or list as JSON, None as 204.

Anything else is a `HandlerResultError` naming the file, the function, the `return` line and the value.
A dict or list is encoded exactly as Starlette's `JSONResponse` encodes it, cheaper (`json_chunks`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Message

from .errors import location
from .locations import HandlerResultError, return_line


def json_chunks() -> Callable[[Any, int], Sequence[str]]:
    """Starlette's JSONResponse encoding (`json.dumps(ensure_ascii=False, allow_nan=False, separators=(",",
    ":"))`) as the C encoder's `chunks(value, 0)`, built once: `json.dumps` builds one on every call, which is
    three quarters of its cost for a small dict (2.2 -> 0.6 us). Without the circular-reference check: a
    value that contains itself ends in `RecursionError`, as one nested too deep does (`response_of` says which)."""
    options = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the `_json` accelerator
        return lambda value, _level: (options.encode(value),)
    chunks: Callable[[Any, int], Sequence[str]] = make(
        None, options.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    return chunks


_chunks = json_chunks()
_JSON_TYPE = (b"content-type", b"application/json")


def json_messages(content: Any) -> tuple[Message, Message] | None:
    """The two ASGI messages `JSONResponse(content)` sends (status 200, Content-Length then Content-Type, the
    body), made in one step for the request path; None when `content` has no JSON form (`response_of` says
    why)."""
    try:
        body = "".join(_chunks(content, 0)).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return None
    headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]
    return {"type": "http.response.start", "status": 200, "headers": headers}, {
        "type": "http.response.body",
        "body": body,
    }


class JSONBody(JSONResponse):
    """A handler's dict or list, answered 200 as JSON: the bytes and headers of `JSONResponse(content)`, built
    without `Response.__init__`'s general steps (there is no status, header or background to consider)."""

    def __init__(self, content: Any) -> None:
        self.status_code, self.background = 200, None
        self.body = body = self.render(content)
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]

    def render(self, content: Any) -> bytes:
        return "".join(_chunks(content, 0)).encode("utf-8")


def response_of(result: object, func: Callable[..., Any], name: str, file: str) -> Response:
    """What a handler may return besides a Response: a dict or list (JSON, 200), None (204, no body).

    Anything else is a `HandlerResultError` naming the file, the function, the `return` and the value.
    """
    if result is None:
        return Response(status_code=204)
    if isinstance(result, (dict, list)):
        try:
            return JSONBody(result)
        except (TypeError, ValueError, RecursionError) as exc:  # no JSON form, NaN, contains itself
            problem, fix = (
                f"a {type(result).__name__} that is not JSON ({exc})",
                "convert the value first (str() for dates and decimals), or return a Response of your own",
            )
            if isinstance(exc, RecursionError):
                fix = "a value that contains itself has no JSON form: " + fix
            if "coroutine" in str(exc):
                fix = (
                    f"a sync handler got a coroutine from request.json(), .body() or .form(): make it "
                    f"`async def {name}(...)` and await the call"
                )
    elif inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # never awaited on purpose: no "coroutine was never awaited" warning on top
        problem = (
            "a coroutine: it called an async method such as request.json(), request.body() or request.form() "
            "without await"
        )
        fix = f"make the handler `async def {name}(...)` and await the call, like `data = await request.json()`"
    else:
        shown = repr(result)
        problem = f"{type(result).__name__} {shown[:60] + '...' if len(shown) > 60 else shown}"
        fix = "return a dict or list (JSON), None (204) or a Starlette Response such as PlainTextResponse(...)"
        if isinstance(result, tuple):
            fix += "; a (body, status) tuple is not an answer here: return JSONResponse(body, status_code=status)"
    line = return_line(func, result)
    where = location(file, line)
    raise HandlerResultError(f"{where}: {name}() returned {problem}; {fix}.", file, line)
