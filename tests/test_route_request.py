"""`RouteRequest`, the Request a route handler gets, is Starlette's `Request` made in one step: the same
attributes with the same values, so every property and method of Starlette's behaves the same on it."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message

from framework.endpoints import RouteRequest


async def receive() -> Message:
    return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}


async def send(message: Message) -> None:
    return None


SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/api/x",
    "raw_path": b"/api/x",
    "root_path": "",
    "query_string": b"q=1",
    "headers": [(b"host", b"example.test"), (b"content-type", b"application/json")],
    "scheme": "http",
    "server": ("example.test", 80),
}


def test_it_sets_exactly_the_attributes_starlettes_init_sets() -> None:
    ours, theirs = RouteRequest(SCOPE, receive, send), Request(SCOPE, receive, send)
    assert isinstance(ours, Request)
    assert vars(ours) == vars(theirs)
    assert list(vars(ours)) == list(vars(theirs))  # same order: the same instance layout as Starlette's


def test_it_reads_the_request_as_starlettes_does() -> None:
    request = RouteRequest(dict(SCOPE), receive, send)
    assert (request.method, request.url.path, request.query_params["q"]) == ("POST", "/api/x", "1")
    assert request.headers["host"] == "example.test"
    assert asyncio.run(request.json()) == {"a": 1}
