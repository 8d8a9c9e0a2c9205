"""Handlers' request-path apps made on the route's first request (`framework.firstcall`): the answer is the
same, the stand-in is gone after one call, and a route whose config wraps its apps gets them at load time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from framework.endpoints import Endpoint, config_wraps, configured_apps, make_endpoint
from framework.firstcall import FirstCall
from framework.loader import LoadedRoute, load_route
from framework.manifest import build_manifest
from framework.route_config import RouteConfig
from framework.scan import scan
from framework.settings import Settings
from tests.helpers import write_tree

ROUTE = "def GET(request):\n    return {'ok': True}\n\ndef POST(request):\n    return None\n"


def endpoint(root: Path, source: str = ROUTE, settings: Settings | None = None) -> Endpoint:
    write_tree(root, {"app/x/route.py": source})
    (route,) = build_manifest(scan(root)).routes
    loaded = load_route(root, route)
    assert isinstance(loaded, LoadedRoute)
    return make_endpoint(loaded, settings or Settings())


def call(app: Any, method: str) -> list[dict[str, Any]]:
    scope = {"type": "http", "method": method, "path": "/x", "raw_path": b"/x", "query_string": b"", "headers": []}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


@pytest.mark.parametrize("first", ["GET", "HEAD", "POST"])
def test_the_first_request_makes_the_app_and_the_second_calls_it_directly(tmp_path: Path, first: str) -> None:
    served = endpoint(tmp_path)
    apps = served.apps
    assert all(isinstance(apps[m], FirstCall) for m in ("GET", "HEAD", "POST"))
    answer = call(apps[first], first)
    assert answer[0]["status"] == (204 if first == "POST" else 200)
    made = apps[first]
    assert not isinstance(made, FirstCall)
    if first in ("GET", "HEAD"):  # one app for both: HEAD is GET's with the body dropped by the server
        assert apps["GET"] is apps["HEAD"] is made and isinstance(apps["POST"], FirstCall)
    else:
        assert isinstance(apps["GET"], FirstCall)
    assert call(apps[first], first)[0]["status"] == answer[0]["status"]
    assert apps[first] is made
    if first == "GET":
        assert answer[1]["body"] == b'{"ok":true}'


@pytest.mark.parametrize(
    ("config", "dev"),
    [
        (RouteConfig(), False),
        (RouteConfig(max_duration=2.0), False),
        (RouteConfig(revalidate=5), False),
        (RouteConfig(revalidate=5), True),
        (RouteConfig(dynamic="force-static"), False),
        (RouteConfig(tags=("a",), allow_cross_origin=True), False),
    ],
)
def test_config_wraps_says_what_configured_apps_does(config: RouteConfig, dev: bool) -> None:
    apps = {"GET": object(), "POST": object()}
    wrapped = configured_apps(dict(apps), config, "app/x/route.py", Settings(dev=dev)) != apps  # type: ignore[arg-type]
    assert config_wraps(config, Settings(dev=dev)) is wrapped


def test_a_route_whose_config_wraps_its_apps_gets_them_at_load_time(tmp_path: Path) -> None:
    served = endpoint(tmp_path, ROUTE + "max_duration = 5\n")
    assert not any(isinstance(app, FirstCall) for app in served.apps.values())
    assert call(served.apps["GET"], "GET")[0]["status"] == 200
