"""Route segment config read at load time: refused values (file, line, allowed values), did-you-mean
warnings, and the pieces of the response cache that need no server (keys, headers, the LRU bound).
Served behaviour is in tests/test_route_config_e2e.py."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from framework import RouteTreeError, create_app
from framework.cache import CachedApp, ResponseCache, Stored, cache_control, cache_key, has_credentials, storable
from framework.endpoints import configured_apps, make_endpoint
from framework.firstcall import FirstCall
from framework.loader import Failure, LoadedRoute, load_route
from framework.manifest import build_manifest
from framework.route_config import FOREVER, RouteConfig, config_suggestion
from framework.scan import scan
from framework.settings import Settings
from tests.helpers import run_cli, write_tree

GET = "from starlette.responses import PlainTextResponse\n\ndef GET(request):\n    return PlainTextResponse('x')\n"


def _load(root: Path, source: str) -> LoadedRoute | Failure:
    write_tree(root, {"app/x/route.py": source})
    (route,) = build_manifest(scan(root)).routes
    return load_route(root, route)


BAD_VALUES = [
    # (line 2 of the route, what is wrong, a piece of the allowed values)
    ("revalidate = -1", "`revalidate = -1` is not a whole number of seconds (0 or more).", "e.g. `revalidate = 60`"),
    ("revalidate = 1.5", "`revalidate = 1.5` is not a whole number of seconds", "0 (the default) never caches"),
    ("revalidate = True", "`revalidate = True` is not a whole number of seconds", 'dynamic = "force-static"'),
    ("revalidate = '60'", "`revalidate = '60'` is not a whole number of seconds", "e.g. `revalidate = 60`"),
    ("dynamic = 'static'", "`dynamic = 'static'` is not one of the allowed values.", '"force-dynamic" (the same'),
    ("dynamic = 'error'", "`dynamic = 'error'` is not one of the allowed values.", '`dynamic = "auto"` (the default'),
    ("dynamic = None", "`dynamic = None` is not one of the allowed values.", '"force-static" (the GET response'),
    ("cache_private = 1", "`cache_private = 1` is not True or False.", "Write `cache_private = True`"),
    ("cache_private = 'yes'", "`cache_private = 'yes'` is not True or False.", "Write `cache_private = True`"),
    ("max_duration = 0", "`max_duration = 0` is not a number of seconds above 0.", "e.g. `max_duration = 30`"),
    ("max_duration = -2.5", "`max_duration = -2.5` is not a number of seconds above 0.", "None (the default)"),
    ("max_duration = float('inf')", "`max_duration = inf` is not a number of seconds", "`max_duration = 2.5`"),
    (
        "max_duration = '5s'",
        "`max_duration = '5s'` is not a number of seconds",
        "a request running longer is answered 504",
    ),
    ("max_duration = False", "`max_duration = False` is not a number of seconds", "e.g. `max_duration = 30`"),
    ("max_body_size = 0", "`max_body_size = 0` is not a size in bytes.", "or None for no cap"),
    ("allow_cross_origin = 'yes'", "`allow_cross_origin = 'yes'` is not True or False.", "allow_cross_origin = True"),
    ("dynamic = 'force-dynamic'\nrevalidate = 10", "contradicts `revalidate = 10`", "force-dynamic never caches"),
    ("dynamic = 'force-static'\nrevalidate = 0", "contradicts `revalidate = 0`", "Remove `revalidate = 0`"),
]


@pytest.mark.parametrize(("line", "wrong", "allowed"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_a_bad_value_is_refused_at_load_with_file_line_and_allowed_values(
    tmp_path: Path, line: str, wrong: str, allowed: str
) -> None:
    write_tree(tmp_path, {"app/x/route.py": "\n" + line + "\n" + GET})
    with pytest.raises(RouteTreeError) as info:
        create_app(tmp_path)
    [problem] = info.value.problems
    assert (problem.code, problem.files, problem.line) == ("bad-route-config", ("app/x/route.py",), 2)
    assert str(problem).startswith("app/x/route.py:2: `")
    assert wrong in str(problem) and allowed in str(problem)


def test_framework_start_refuses_a_bad_value_with_exit_1_before_serving(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/x/route.py": GET + "max_duration = 0\n"})
    done = run_cli("start", "--root", str(tmp_path), "--port", "1")
    assert done.returncode == 1
    assert "app/x/route.py:5: `max_duration = 0` is not a number of seconds above 0." in done.stderr


@pytest.mark.parametrize(
    ("line", "config"),
    [
        ("revalidate = 0", RouteConfig(revalidate=0)),
        ("revalidate = 30", RouteConfig(revalidate=30)),
        ("dynamic = 'auto'", RouteConfig()),
        ("dynamic = 'force-dynamic'", RouteConfig(dynamic="force-dynamic")),
        ("dynamic = 'force-static'\nrevalidate = 60", RouteConfig(revalidate=60, dynamic="force-static")),
        ("max_duration = 2.5\ncache_private = False", RouteConfig(max_duration=2.5)),
        ("max_duration = None", RouteConfig()),
    ],
)
def test_good_values_are_read_once_into_the_route_config(tmp_path: Path, line: str, config: RouteConfig) -> None:
    loaded = _load(tmp_path, GET + line + "\n")
    assert isinstance(loaded, LoadedRoute)
    assert loaded.config == config
    assert loaded.warnings == ()


@pytest.mark.parametrize(
    ("config", "seconds"),
    [
        (RouteConfig(), None),
        (RouteConfig(dynamic="force-dynamic"), None),
        (RouteConfig(revalidate=5), 5),
        (RouteConfig(dynamic="force-static"), FOREVER),
        (RouteConfig(dynamic="force-static", revalidate=60), 60),
    ],
)
def test_cache_seconds_combines_revalidate_and_dynamic(config: RouteConfig, seconds: float | None) -> None:
    assert config.cache_seconds == seconds


@pytest.mark.parametrize(
    ("line", "name", "meant"),
    [
        ("revalidte = 10", "revalidte", "revalidate"),
        ("maxDuration = 5", "maxDuration", "max_duration"),
        ("cache_privat = True", "cache_privat", "cache_private"),
        ("Dynamic = 'force-static'", "Dynamic", "dynamic"),
        ("MAX_BODY_SIZE = 1000", "MAX_BODY_SIZE", "max_body_size"),
        ("allowCrossOrigin = True", "allowCrossOrigin", "allow_cross_origin"),
    ],
)
def test_a_misspelled_config_name_warns_with_file_line_and_the_name_to_use(
    tmp_path: Path, line: str, name: str, meant: str
) -> None:
    loaded = _load(tmp_path, GET + "\n" + line + "\n")
    assert isinstance(loaded, LoadedRoute)
    assert loaded.warnings == (
        f"app/x/route.py:6: `{name}` is not route config, so it changes nothing. Did you mean `{meant}`?",
    )
    assert loaded.config == RouteConfig()


def test_functions_classes_modules_and_far_names_are_not_taken_for_config(tmp_path: Path) -> None:
    source = GET + (
        "import json as dynamics\n"
        "def revalidte():\n    return 1\n"
        "class MaxDuration:\n    pass\n"
        "users = ['ada']\ntimeout = 5\nCACHE = {}\n_revalidte = 3\n"
    )
    loaded = _load(tmp_path, source)
    assert isinstance(loaded, LoadedRoute)
    assert loaded.warnings == ()


def test_config_that_changes_nothing_warns(tmp_path: Path) -> None:
    post_only = "def POST(request):\n    return None\n\nrevalidate = 10\n"
    loaded = _load(tmp_path / "a", post_only)
    assert isinstance(loaded, LoadedRoute)
    assert loaded.warnings == (
        "app/x/route.py:4: `revalidate` changes nothing here: only GET (and HEAD) responses are cached, "
        "and this route exports no GET.",
    )
    loaded = _load(tmp_path / "b", GET + "cache_private = True\n")
    assert isinstance(loaded, LoadedRoute)
    assert loaded.warnings == (
        "app/x/route.py:5: `cache_private = True` changes nothing without `revalidate = N` or "
        '`dynamic = "force-static"`.',
    )


def test_config_suggestion_by_name_alone() -> None:
    assert [config_suggestion(n) for n in ("revalidat", "max_durations", "dynamic", "_dynamic", "handler")] == [
        "revalidate",
        "max_duration",
        None,
        None,
        None,
    ]


def test_a_route_without_config_gets_its_apps_back_untouched(tmp_path: Path) -> None:
    loaded = _load(tmp_path, GET)
    assert isinstance(loaded, LoadedRoute)
    apps = {"GET": object(), "POST": object()}
    assert configured_apps(dict(apps), RouteConfig(), "app/x/route.py", Settings()) == apps  # type: ignore[arg-type]
    endpoint = make_endpoint(loaded, Settings())
    stand_in = endpoint.apps["GET"]
    assert isinstance(stand_in, FirstCall) and endpoint.apps["HEAD"] is stand_in  # made on the first request
    made = stand_in.app()
    assert endpoint.apps["GET"] is made and endpoint.apps["HEAD"] is made
    assert made.__qualname__ == "handler_app.<locals>.app"  # type: ignore[attr-defined]


def test_cached_routes_are_wrapped_at_load_time_except_in_dev(tmp_path: Path) -> None:
    loaded = _load(tmp_path, GET + "revalidate = 10\nmax_duration = 3\n")
    assert isinstance(loaded, LoadedRoute)
    served = make_endpoint(loaded, Settings())
    assert isinstance(served.apps["GET"], CachedApp)
    assert served.apps["HEAD"] is served.apps["GET"]  # the automatic HEAD shares GET's entries
    dev = make_endpoint(loaded, Settings(dev=True))
    assert not isinstance(dev.apps["GET"], CachedApp)
    assert dev.apps["GET"].__qualname__ == "deadline_app.<locals>.limited"  # type: ignore[attr-defined]


def test_cache_control_values() -> None:
    assert cache_control(1) == b"s-maxage=1, stale-while-revalidate=31535999"
    assert cache_control(60) == b"s-maxage=60, stale-while-revalidate=31535940"
    assert cache_control(math.inf) == b"s-maxage=31536000"
    assert cache_control(40_000_000) == b"s-maxage=40000000"


def test_cache_key_is_the_dispatched_path_and_the_raw_query() -> None:
    scope = {"path": "/a b", "raw_path": b"/a%20b", "query_string": b"x=1&y=%2F"}
    assert cache_key(scope) == b"/a%20b?x=1&y=%2F"
    assert cache_key({"path": "/a", "query_string": b""}) == b"/a?"
    assert cache_key({"path": "/a", "raw_path": b"/a", "query_string": b"x"}) != cache_key(
        {"path": "/a", "raw_path": b"/a", "query_string": b"y"}
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], False),
        ([(b"accept", b"*/*")], False),
        ([(b"cookie", b"")], False),
        ([(b"cookie", b"session=1")], True),
        ([(b"authorization", b"Bearer x")], True),
    ],
)
def test_credentials_are_a_cookie_or_an_authorization_header(
    headers: list[tuple[bytes, bytes]], expected: bool
) -> None:
    assert has_credentials(headers) is expected


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, [(b"content-type", b"text/plain")], True),
        (200, [(b"cache-control", b"public, max-age=10")], True),
        (404, [], False),
        (201, [], False),
        (200, [(b"set-cookie", b"a=1")], False),
        (200, [(b"vary", b"accept-language")], False),
        (200, [(b"cache-control", b"private, max-age=10")], False),
        (200, [(b"Cache-Control", b"No-Store")], False),
        (200, [(b"cache-control", b"no-cache")], False),
    ],
)
def test_only_a_200_that_is_the_same_for_everyone_is_storable(
    status: int, headers: list[tuple[bytes, bytes]], expected: bool
) -> None:
    assert storable(status, headers) is expected


def _stored(size: int) -> Stored:
    return Stored((), b"x" * size, 0.0)


def test_the_cache_drops_the_least_recently_used_beyond_its_entry_bound() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=100)
    cache.put(b"/a?", _stored(1))
    cache.put(b"/b?", _stored(1))
    assert cache.get(b"/a?") is not None  # /a is now the most recently used
    cache.put(b"/c?", _stored(1))
    assert list(cache.entries) == [b"/a?", b"/c?"]
    assert cache.size == 2


def test_the_cache_bounds_the_bytes_it_keeps() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10)
    cache.put(b"/a?", _stored(4))
    cache.put(b"/b?", _stored(4))
    cache.put(b"/c?", _stored(4))  # 12 bytes: /a goes
    assert list(cache.entries) == [b"/b?", b"/c?"] and cache.size == 8
    cache.put(b"/b?", _stored(1))  # replacing an entry counts its new size only
    assert cache.size == 5
    cache.put(b"/big?", _stored(11))  # larger than the whole bound: not kept, nothing dropped
    assert list(cache.entries) == [b"/c?", b"/b?"] and cache.size == 5
