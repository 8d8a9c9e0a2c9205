"""A handler's dict or list is answered with exactly the bytes Starlette's JSONResponse would send.

`results.JSONBody` and `results.json_messages` (the request path's two ASGI messages) encode with a C
encoder built once (`results.json_chunks`) instead of `json.dumps` per call; these tests hold them to
Starlette's output, headers, messages and errors.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse
from starlette.types import Message

from framework.locations import HandlerResultError
from framework.results import JSONBody, json_messages, response_of

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=4) | st.dictionaries(st.text(), values, max_size=4))
def test_the_body_and_headers_are_starlettes(value: Any) -> None:
    ours, theirs = JSONBody(value), JSONResponse(value)
    assert ours.body == theirs.body
    assert ours.raw_headers == theirs.raw_headers
    assert ours.status_code == theirs.status_code == 200


async def sent_by(response: JSONResponse) -> list[Message]:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    await response({"type": "http", "method": "GET", "headers": []}, receive, send)
    return messages


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=4) | st.dictionaries(st.text(), values, max_size=4))
def test_the_request_paths_messages_are_what_starlette_sends(value: Any) -> None:
    assert list(json_messages(value) or ()) == asyncio.run(sent_by(JSONResponse(value)))


@pytest.mark.parametrize(
    "value",
    [{"é": "ü\u2028\x00"}, {"big": 10**30, "small": -1e-300, "f": 1.5}, [], {}, [[[]]], {"1": True}],
    ids=["non-ascii and controls", "numbers", "empty list", "empty dict", "nested", "bool"],
)
def test_edge_values_encode_as_starlette_does(value: Any) -> None:
    assert JSONBody(value).body == JSONResponse(value).body


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"x": math.nan}, ValueError),
        (["\ud800"], UnicodeEncodeError),
        ({"x": math.inf}, ValueError),
        ({"x": object()}, TypeError),
        ({1j: 1}, TypeError),
    ],
)
def test_values_with_no_json_form_fail_as_json_dumps_does(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        JSONResponse(value)
    with pytest.raises(error):
        JSONBody(value)
    assert json_messages(value) is None  # the handler's app then lets `response_of` say what is wrong


def handler() -> None:
    return None


def test_a_result_that_contains_itself_is_a_result_error_naming_the_cause() -> None:
    value: dict[str, Any] = {}
    value["self"] = value
    with pytest.raises(HandlerResultError, match=r"returned a dict that is not JSON .*contains itself"):
        response_of(value, handler, "GET", "app/loop/route.py")


def test_a_nan_is_a_result_error_naming_the_value() -> None:
    with pytest.raises(HandlerResultError, match="Out of range float values are not JSON compliant"):
        response_of([math.nan], handler, "GET", "app/nan/route.py")
