"""What a handler returns, as the Response sent: a Response as is, a dict or list as JSON, None as 204.

Anything else is a `HandlerResultError` naming the file, the function, the `return` line and the value.
A dict or list is encoded exactly as Starlette's `JSONResponse` encodes it, cheaper (`json_encoder`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from .errors import location
from .locations import HandlerResultError, return_line


def json_encoder() -> Callable[[Any], str]:
    """Starlette's JSONResponse encoding (`json.dumps(ensure_ascii=False, allow_nan=False, separators=(",",
    ":"))`), with the C encoder built once: `json.dumps` builds one on every call, which is three quarters
    of its cost for a small dict (2.2 -> 0.6 us). Without the circular-reference check: a value that contains
    itself ends in `RecursionError`, as one nested too deep does (`response_of` says which)."""
    options = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the `_json` accelerator
        return options.encode
    chunks = make(None, options.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode_json = json_encoder()


_JSON_TYPE = (b"content-type", b"application/json")


class JSONBody(JSONResponse):
    """A handler's dict or list, answered 200 as JSON: the bytes and headers of `JSONResponse(content)`, built
    without `Response.__init__`'s general steps (there is no status, header or background to consider)."""

    def __init__(self, content: Any) -> None:
        self.status_code, self.background = 200, None
        self.body = body = self.render(content)
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]

    def render(self, content: Any) -> bytes:
        return _encode_json(content).encode("utf-8")


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
