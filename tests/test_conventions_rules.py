"""Each rule against a fixture tree on disk: a violating version (the exact findings) and a clean one (none)."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.check import RULES, Finding, check_project
from framework.check.rules.responses import CONVENTION_QUOTE
from tests.helpers import write_tree

PING_ROUTE = '''\
"""GET /api/ping."""
from starlette.responses import PlainTextResponse


def GET(request):
    return PlainTextResponse("pong")
'''
PING_URLS = """\
from framework.urls import route_url


def get_ping_url():
    return route_url("/api/ping")
"""
BASE = {"app/api/ping/route.py": PING_ROUTE, "lib/urls/__init__.py": PING_URLS}


def found(root: Path) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.file, f.line) for f in check_project(root).findings]


def findings(root: Path) -> list[Finding]:
    return list(check_project(root).findings)


# (case id, files added to BASE, the exact findings (rule, file, line), files of the clean version)
CASES = [
    # --- router-error: the router's own problems, same wording
    (
        "duplicate-route",
        {
            "app/(a)/dup/route.py": "def GET(request): ...\n",
            "app/(b)/dup/route.py": "def GET(request): ...\n",
            "lib/urls/dup.py": "from framework.urls import route_url\ndef get_dup_url():\n    return route_url('/dup')\n",
        },
        [("router-error", "app/(a)/dup/route.py", None)],
        {
            "app/(a)/dup/route.py": "def GET(request): ...\n",
            "lib/urls/dup.py": "from framework.urls import route_url\ndef get_dup_url():\n    return route_url('/dup')\n",
        },
    ),
    (
        "import-error",
        {
            "app/api/ping/route.py": "from starlette.responses import PlainTextResponse\nimport no_such_module_xyz\n\n"
            "def GET(request):\n    return PlainTextResponse('pong')\n"
        },
        [("router-error", "app/api/ping/route.py", 2)],
        {},
    ),
    (
        "import-error-in-lib",
        {
            "app/api/ping/route.py": "from lib.controllers.ping import ping\n\ndef GET(request):\n    return ping()\n",
            "lib/controllers/ping.py": "def ping():\n    return 1 / 0\n\nVALUE = ping()\n",
        },
        [("router-error", "lib/controllers/ping.py", 2)],
        {
            "app/api/ping/route.py": "from lib.controllers.ping import ping\n\ndef GET(request):\n    return ping()\n",
            "lib/controllers/ping.py": "def ping():\n    return 1\n",
        },
    ),
    (
        "route-beside-page",
        {"app/api/ping/page.py": "def Page(): ...\n"},
        [("router-error", "app/api/ping/route.py", None)],
        {},
    ),
    (
        "bad-folder-name",
        {"app/api/[oops/route.py": "def GET(request): ...\n"},
        [("router-error", "app/api/[oops/route.py", None)],
        {},
    ),
    (
        "syntax-error",
        {"lib/controllers/broken.py": "def f(:\n    pass\n"},
        [("syntax-error", "lib/controllers/broken.py", 1)],
        {"lib/controllers/broken.py": "def f():\n    pass\n"},
    ),
    # --- route-exports
    (
        "lowercase-method",
        {"app/api/ping/route.py": PING_ROUTE + "\n\ndef post(request):\n    return None\n"},
        [("route-exports", "app/api/ping/route.py", 9)],
        {"app/api/ping/route.py": PING_ROUTE + "\n\ndef POST(request):\n    return PlainTextResponse('ok')\n"},
    ),
    (
        "not-callable",
        {"app/api/ping/route.py": PING_ROUTE + "\n\nPOST = 'nope'\n"},
        [("route-exports", "app/api/ping/route.py", 9)],
        {"app/api/ping/route.py": PING_ROUTE + "\n\nPOST = GET\n"},
    ),
    ("no-handler", {"app/api/ping/route.py": "VALUE = 1\n"}, [("route-exports", "app/api/ping/route.py", None)], {}),
    (
        "imported-lowercase-handler",
        {
            "app/api/ping/route.py": PING_ROUTE + "\nfrom lib.handlers import POST as post\n",
            "lib/handlers.py": "def POST(request):\n    return None\n",
        },
        [("route-exports", "app/api/ping/route.py", 8)],
        {
            "app/api/ping/route.py": PING_ROUTE + "\nfrom lib.handlers import POST\n",
            "lib/handlers.py": "def POST(request):\n    return None\n",
        },
    ),
    # --- sync-body-read
    (
        "sync-handler-reads-the-body",
        {"app/api/ping/route.py": PING_ROUTE + "\n\ndef POST(request):\n    data = request.json()\n    return data\n"},
        [("sync-body-read", "app/api/ping/route.py", 10)],
        {"app/api/ping/route.py": PING_ROUTE + "\n\nasync def POST(request):\n    return await request.json()\n"},
    ),
    (
        "sync-websocket",  # the router refuses it too: one finding, in the loader's wording
        {"app/api/ping/route.py": PING_ROUTE + "\n\ndef WEBSOCKET(websocket): ...\n"},
        [("route-exports", "app/api/ping/route.py", 9)],
        {"app/api/ping/route.py": PING_ROUTE + "\n\nasync def WEBSOCKET(websocket): ...\n"},
    ),
    # --- forbidden-import
    (
        "sqlite3-in-route",
        {"app/api/ping/route.py": "import sqlite3\n" + PING_ROUTE},
        [("forbidden-import", "app/api/ping/route.py", 1)],
        {"app/api/ping/route.py": "import json\n" + PING_ROUTE},
    ),
    (
        "http-client-in-helper",
        {"app/api/ping/_client.py": "from urllib import parse\n\ndef fetch():\n    from urllib import request\n"},
        [("forbidden-import", "app/api/ping/_client.py", 4)],
        {"app/api/ping/_client.py": "from urllib import parse\n\ndef fetch():\n    from urllib.parse import quote\n"},
    ),
    # --- url-builder-missing
    (
        "no-builder",
        {"app/api/pong/route.py": "\n\ndef GET(request): ...\n"},
        [("url-builder-missing", "app/api/pong/route.py", 3)],
        {
            "app/api/pong/route.py": "\n\ndef GET(request): ...\n",
            "lib/urls/pong.py": "from framework import urls\n\ndef get_pong_url():\n    return urls.route_url('/api/pong/')\n",
        },
    ),
    # --- url-builder-mismatch
    (
        "builder-unknown-route",
        {"lib/urls/__init__.py": PING_URLS + "\n\ndef get_gone_url():\n    return route_url('/api/gone')\n"},
        [("url-builder-mismatch", "lib/urls/__init__.py", 9)],
        {},
    ),
    (
        "builder-param-names",
        {
            "app/api/users/[id]/route.py": "def GET(request): ...\n",
            "lib/urls/users.py": "from framework.urls import route_url\n\ndef get_users_url(user):\n"
            "    return route_url('/api/users/[user]', {'user': user})\n",
        },
        [("url-builder-mismatch", "lib/urls/users.py", 4), ("url-builder-missing", "app/api/users/[id]/route.py", 1)],
        {
            "app/api/users/[id]/route.py": "def GET(request): ...\n",
            "lib/urls/users.py": "from framework.urls import route_url\n\ndef get_users_url(user):\n"
            "    return route_url('/api/users/[id]', {'id': user})\n",
        },
    ),
    (
        "builder-missing-param",
        {
            "app/api/files/[...path]/route.py": "def GET(request): ...\n",
            "lib/urls/files.py": "from framework.urls import route_url\n\ndef get_files_url(path):\n"
            "    return route_url('/api/files/[...path]', params=dict())\n",
        },
        [("url-builder-mismatch", "lib/urls/files.py", 4)],
        {
            "app/api/files/[...path]/route.py": "def GET(request): ...\n",
            "lib/urls/files.py": "from framework.urls import route_url\n\ndef get_files_url(path):\n"
            "    return route_url('/api/files/[...path]', params=dict(path=path))\n",
        },
    ),
    (
        "builder-extra-param",
        {"lib/urls/__init__.py": PING_URLS.replace('route_url("/api/ping")', 'route_url("/api/ping", {"id": 1})')},
        [("url-builder-mismatch", "lib/urls/__init__.py", 5)],
        {"lib/urls/__init__.py": PING_URLS.replace('route_url("/api/ping")', 'route_url("/api/ping", None)')},
    ),
    (
        "builder-optional-catch-all-may-be-omitted",
        {
            "app/api/docs/[[...slug]]/route.py": "def GET(request): ...\n",
            "lib/urls/docs.py": "from framework.urls import route_url\n\ndef get_docs_url():\n"
            "    return route_url('/api/docs/[[...slug]]', {'slug': [], 'x': 1})\n",
        },
        [("url-builder-mismatch", "lib/urls/docs.py", 4)],
        {
            "app/api/docs/[[...slug]]/route.py": "def GET(request): ...\n",
            "lib/urls/docs.py": "from framework.urls import route_url\n\ndef get_docs_url():\n"
            "    return route_url('/api/docs/[[...slug]]')\n",
        },
    ),
    (
        "builder-not-literal",
        {"lib/urls/__init__.py": PING_URLS + "\n\ndef get_any_url(pattern):\n    return route_url(pattern)\n"},
        [("url-builder-mismatch", "lib/urls/__init__.py", 9)],
        {},
    ),
    (
        "builder-malformed-pattern",
        {"lib/urls/__init__.py": PING_URLS + "\n\ndef get_p_url():\n    return route_url('api/ping')\n"},
        [("url-builder-mismatch", "lib/urls/__init__.py", 9)],
        {},
    ),
    # --- hard-coded-url
    (
        "hard-coded-in-route",
        {
            "app/api/pong/route.py": "from starlette.responses import RedirectResponse\n\n"
            "def GET(request):\n    return RedirectResponse('/api/ping?from=pong')\n",
            "lib/urls/pong.py": "from framework.urls import route_url\n\ndef get_pong_url():\n    return route_url('/api/pong')\n",
        },
        [("hard-coded-url", "app/api/pong/route.py", 4)],
        {
            "app/api/pong/route.py": "from starlette.responses import RedirectResponse\nfrom lib.urls import get_ping_url\n\n"
            "def GET(request):\n    return RedirectResponse(get_ping_url())\n",
            "lib/urls/pong.py": "from framework.urls import route_url\n\ndef get_pong_url():\n    return route_url('/api/pong')\n",
        },
    ),
    (
        "hard-coded-in-builder",
        {"lib/urls/__init__.py": PING_URLS + "\n\ndef get_ping_with(x):\n    return '/api/ping?x=' + x\n"},
        [("hard-coded-url", "lib/urls/__init__.py", 9)],
        {
            "lib/urls/__init__.py": PING_URLS + "\n\ndef get_ping_with(x):\n"
            "    return route_url('/api/ping', query={'x': x})\n"
        },
    ),
    (
        "hard-coded-f-string-dynamic",
        {
            "app/api/users/[id]/route.py": "def GET(request): ...\n",
            "lib/urls/users.py": "from framework.urls import route_url\n\ndef get_users_url(id):\n"
            "    return route_url('/api/users/[id]', {'id': id})\n",
            "lib/controllers/users.py": "def link(id):\n    return f'/api/users/{id}'\n",
        },
        [("hard-coded-url", "lib/controllers/users.py", 2)],
        {
            "app/api/users/[id]/route.py": "def GET(request): ...\n",
            "lib/urls/users.py": "from framework.urls import route_url\n\ndef get_users_url(id):\n"
            "    return route_url('/api/users/[id]', {'id': id})\n",
            # a docstring, a path separator, a longer text and a near miss are not URLs of a route
            "lib/controllers/users.py": "'''See /api/ping.'''\nSEP = '/'\nTEXT = 'GET /api/ping'\n"
            "OTHER = '/api/pingx'\nDEEP = '/api/users/1/2'\n",
        },
    ),
    # --- api-returns-json
    (
        "json-response",
        {
            "app/api/ping/route.py": PING_ROUTE
            + "\n\nasync def POST(request):\n    from starlette.responses import JSONResponse\n"
            "    return JSONResponse({'ok': True})\n"
        },
        [("api-returns-json", "app/api/ping/route.py", 11)],
        {"app/api/ping/route.py": PING_ROUTE + "\n\nasync def POST(request):\n    return PlainTextResponse('ok')\n"},
    ),
    (
        "dict-return",
        {
            "app/api/ping/route.py": PING_ROUTE
            + "\n\ndef PUT(request):\n    def helper():\n        return {'nested': 1}\n"
            "    return {'ok': helper()}\n"
        },
        [("api-returns-json", "app/api/ping/route.py", 12)],
        {
            "app/api/ping/route.py": PING_ROUTE
            + "\n\ndef PUT(request):\n    def helper():\n        return {'nested': 1}\n"
            "    return PlainTextResponse(str(helper()))\n"
        },
    ),
    (
        "json-outside-api-is-fine",
        {
            "app/status/route.py": "from starlette.responses import JSONResponse\n\ndef GET(request):\n"
            "    return JSONResponse({})\n",
            "lib/urls/status.py": "from framework.urls import route_url\n\ndef get_status_url():\n    return route_url('/status')\n",
            "app/api/ping/route.py": PING_ROUTE + "\n\ndef POST(request):\n    return JSONResponse({})\n",
        },
        [("api-returns-json", "app/api/ping/route.py", 10)],
        {
            "app/status/route.py": "from starlette.responses import JSONResponse\n\ndef GET(request):\n"
            "    return JSONResponse({})\n",
            "lib/urls/status.py": "from framework.urls import route_url\n\ndef get_status_url():\n    return route_url('/status')\n",
        },
    ),
    # --- controller-framework-free
    (
        "controller-builds-response",
        {
            "lib/controllers/token_controller.py": "import sqlite3\nfrom starlette.responses import RedirectResponse\n\n"
            "def refresh():\n    return RedirectResponse('x')\n"
        },
        [("controller-framework-free", "lib/controllers/token_controller.py", 2)],
        {
            "lib/controllers/token_controller.py": "import sqlite3\nfrom framework.controllers import Result\n\n"
            "def refresh():\n    return Result(data=1)\n"
        },
    ),
    (
        "controller-attribute-use",
        {
            "lib/controllers/c.py": "import starlette.requests\nimport starlette\n\n"
            "def f():\n    return starlette.responses.PlainTextResponse('x')\n"
        },
        [("controller-framework-free", "lib/controllers/c.py", 5)],
        {
            "lib/controllers/c.py": "import starlette.requests\n\n\ndef f(request: starlette.requests.Request):\n"
            "    return request.url.path\n"
        },
    ),
]


@pytest.mark.parametrize("case, files, expected, clean", CASES, ids=[c[0] for c in CASES])
def test_rule_violation_and_clean_version(
    tmp_path: Path, case: str, files: dict[str, str], expected: list[tuple[str, str, int | None]], clean: dict[str, str]
) -> None:
    bad = write_tree(tmp_path / "bad", {**BASE, **files})
    assert found(bad) == sorted(expected, key=lambda e: (e[1], e[2] or 0, e[0]))
    good = write_tree(tmp_path / "good", {**BASE, **clean})
    assert found(good) == []


def test_every_rule_has_a_fixture_case() -> None:
    covered = {rule for _, _, expected, _ in CASES for rule, _, _ in expected}
    assert covered == {r.id for r in RULES}


def test_base_tree_is_clean(tmp_path: Path) -> None:
    assert found(write_tree(tmp_path, BASE)) == []


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("get", "GET"),
        ("Post", "POST"),
        ("DELTE", "DELETE"),
        ("patch", "PATCH"),
        ("OPTION", "OPTIONS"),
        ("websocket", "WEBSOCKET"),
    ],
)
def test_misspelled_methods_say_did_you_mean(tmp_path: Path, name: str, suggestion: str) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": PING_ROUTE + f"\n\ndef {name}(request): ...\n"})
    [finding] = findings(root)
    assert (finding.rule, finding.line) == ("route-exports", 9)
    assert (
        finding.message == f"`{name}` is not a handler: only uppercase method names count. Did you mean `{suggestion}`?"
    )
    assert finding.fix == f"Rename `{name}` to `{suggestion}`."


def test_a_websocket_only_route_has_a_handler(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": "async def WEBSOCKET(websocket): ...\n"})
    assert found(root) == []


def test_a_sync_websocket_is_one_finding_with_the_fix(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": PING_ROUTE + "\n\ndef WEBSOCKET(websocket): ...\n"})
    [finding] = findings(root)
    assert (
        finding.message
        == "`WEBSOCKET` is a plain `def`: a WebSocket handler awaits the socket for the whole connection."
    )
    assert finding.fix.startswith("Make it `async def WEBSOCKET(websocket): ...`")


def test_names_that_are_not_methods_are_left_alone(tmp_path: Path) -> None:
    source = PING_ROUTE + "\n\ndef getter(request): ...\nfrom os import path as get\n_post = 1\n\ndef _get(): ...\n"
    assert found(write_tree(tmp_path, {**BASE, "app/api/ping/route.py": source})) == []


def test_router_findings_use_the_router_wording(tmp_path: Path) -> None:
    from framework.errors import RouteTreeError
    from framework.manifest import build_manifest
    from framework.scan import scan

    root = write_tree(tmp_path, {**BASE, "app/api/ping/page.py": "def Page(): ...\n"})
    with pytest.raises(RouteTreeError) as raised:
        build_manifest(scan(root))
    [problem] = raised.value.problems
    [finding] = findings(root)
    assert (finding.message, finding.fix) == (problem.message, problem.fix)
    assert "a route and a page both answer `/api/ping`" in finding.message


def test_not_callable_is_reported_once_with_the_loader_wording(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**BASE, "app/api/ping/route.py": PING_ROUTE + "\n\nPOST = 'nope'\n"})
    [finding] = findings(root)
    assert finding.message == "`POST` is a str, not a function, so it cannot handle POST requests."
    assert finding.fix == "Define `def POST(request): ...` or rename the variable."


def test_messages_name_the_fix(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            **BASE,
            "app/api/ping/route.py": "import httpx\n" + PING_ROUTE + "\n\ndef POST(request):\n    return {'a': 1}\n",
            "app/api/users/[id]/route.py": "def GET(request): ...\n",
            "lib/controllers/x.py": "from starlette.responses import JSONResponse\n",
            "lib/urls/__init__.py": PING_URLS + "\n\ndef f():\n    return '/api/ping'\n",
        },
    )
    by_rule = {f.rule: f for f in findings(root)}
    assert by_rule["forbidden-import"].message.startswith("imports `httpx`, an HTTP client")
    assert "lib/controllers/" in by_rule["forbidden-import"].fix
    assert CONVENTION_QUOTE in by_rule["api-returns-json"].message
    assert by_rule["api-returns-json"].severity == "warning"
    assert by_rule["url-builder-missing"].fix.startswith(
        'Add `def get_users_by_id_url(id: str) -> str: return route_url("/api/users/[id]", {"id": id})`'
    )
    assert by_rule["hard-coded-url"].fix == "Call `lib.urls.get_ping_url()` instead."
    assert "`starlette.responses`" in by_rule["controller-framework-free"].message


def test_checking_does_not_leave_project_modules_imported(tmp_path: Path) -> None:
    import sys

    for name in ("one", "two"):
        root = write_tree(
            tmp_path / name,
            {
                "app/api/ping/route.py": f"from lib.names import NAME\nassert NAME == {name!r}\n\ndef GET(request): ...\n",
                "lib/names.py": f"NAME = {name!r}\n",
                "lib/urls/__init__.py": PING_URLS,
            },
        )
        assert found(root) == []  # project two would fail its assert if project one's `lib` were reused
    assert "lib" not in sys.modules or "one" not in str(getattr(sys.modules["lib"], "__path__", ""))
