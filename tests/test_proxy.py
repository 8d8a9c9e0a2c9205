"""The root proxy: matcher paths, loading rules and errors, and running before routing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from framework.app import create_app
from framework.errors import RouteTreeError
from framework.patterns import MatcherError, compile_matcher
from framework.proxy import compile_matchers
from framework.table import load_table as build_table
from tests.helpers import run_framework, write_tree

MATCHERS = [
    # (matcher, paths it matches, paths it does not)
    (
        "/dashboard/:path*",
        ["/dashboard", "/dashboard/", "/dashboard/a", "/dashboard/a/b"],
        ["/dashboards", "/", "/x/dashboard"],
    ),
    ("/api/files/:name", ["/api/files/a.txt", "/api/files/a.txt/"], ["/api/files", "/api/files/a/b"]),
    ("/shop/:slug+", ["/shop/a", "/shop/a/b"], ["/shop", "/shop/"]),
    ("/docs/:page?", ["/docs", "/docs/intro"], ["/docs/a/b", "/doc"]),
    ("/user/:id(\\d+)", ["/user/42"], ["/user/ada", "/user/4/2"]),
    ("/((?!api|static).*)", ["/", "/dashboard", "/a/b"], ["/api/x", "/static/y"]),
    ("/about", ["/about", "/about/"], ["/about/x", "/abou", "/About"]),
    ("/a.b/:x", ["/a.b/1"], ["/aXb/1"]),  # literals are escaped
    ("/", ["/"], ["/x"]),
]


@pytest.mark.parametrize(("source", "yes", "no"), MATCHERS)
def test_matcher_paths(source: str, yes: list[str], no: list[str]) -> None:
    regex = compile_matcher(source)
    assert [p for p in yes if not regex.fullmatch(p)] == []
    assert [p for p in no if regex.fullmatch(p)] == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"matcher": "dashboard"}, "starts with `/`"),
        ({"matcher": "/x/:"}, "must be followed by a param name"),
        ({"matcher": "/x/(a"}, "unbalanced"),
        ({"matcher": "/x/:id([)"}, "invalid regular expression"),
        ({"matcher": [{"source": "/x", "has": []}]}, "only path strings are supported"),
        ({"matcher": []}, "non-empty list"),
        (["/x"], "must be a dict"),
    ],
)
def test_bad_matchers_are_clear(config: object, message: str) -> None:
    with pytest.raises(MatcherError, match=re_escape(message)):
        compile_matchers(config)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_combined_matcher_and_no_matcher() -> None:
    regex = compile_matchers({"matcher": ["/a/:x*", "/b"]})
    assert regex is not None and regex.fullmatch("/a/1/2") and regex.fullmatch("/b") and not regex.fullmatch("/c")
    assert compile_matchers(None) is None and compile_matchers({}) is None


ROUTES = {
    "app/route.py": """
        from starlette.responses import PlainTextResponse
        def GET(request):
            return PlainTextResponse("home")
    """,
    "app/dashboard/[[...rest]]/route.py": """
        from starlette.responses import PlainTextResponse
        def GET(request):
            return PlainTextResponse("dashboard user=" + request.headers.get("x-user", "-"))
    """,
}

PROXY = """
    from starlette.responses import PlainTextResponse, RedirectResponse
    from framework.server import next

    config = {"matcher": ["/dashboard/:path*", "/missing/:x*"]}

    def proxy(request):
        if request.url.path.startswith("/missing"):
            return PlainTextResponse("proxy saw a 404 path", status_code=418)
        if request.query_params.get("go") == "login":
            return RedirectResponse("/login", status_code=307)
        if request.query_params.get("as"):
            return next(request_headers={"x-user": request.query_params["as"]}, headers={"x-proxied": "1"})
        return None
"""


def client_for(root: Path) -> TestClient:
    return TestClient(create_app(root), raise_server_exceptions=False)


def test_proxy_runs_before_routing(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": PROXY})
    c = client_for(root)
    assert c.get("/").text == "home"  # not matched: the proxy does not run
    assert c.get("/dashboard").text == "dashboard user=-"  # None: on to the route
    r = c.get("/dashboard/x?go=login", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (307, "/login")
    r = c.get("/dashboard/a/b?as=ada", headers={"x-user": "mallory"})
    assert r.text == "dashboard user=ada" and r.headers["x-proxied"] == "1"  # replaced, not appended
    r = c.get("/missing/page")
    assert (r.status_code, r.text) == (418, "proxy saw a 404 path")  # runs before the route lookup


def test_async_proxy_without_matcher_runs_on_every_request(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            **ROUTES,
            "proxy.py": """
        from framework.server import next
        async def proxy(request):
            return next(headers={"x-seen": request.url.path})
    """,
        },
    )
    c = client_for(root)
    assert c.get("/").headers["x-seen"] == "/"
    assert c.get("/dashboard/a").headers["x-seen"] == "/dashboard/a"
    r = c.get("/nowhere")  # the proxy ran and went on; nothing matched: Starlette's 404 keeps the headers
    assert r.status_code == 404 and r.headers["x-seen"] == "/nowhere"


def test_proxy_returning_something_else_is_a_clear_500(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": "def proxy(request):\n    return 'nope'\n"})
    with pytest.raises(TypeError, match=r"proxy.py: proxy\(\) returned str; return None"):
        TestClient(create_app(root)).get("/")
    assert client_for(root).get("/").status_code == 500


def test_middleware_py_alone_is_accepted_with_one_deprecation_line(tmp_path: Path, caplog) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            **ROUTES,
            "middleware.py": """
        from starlette.responses import PlainTextResponse
        def middleware(request):
            return PlainTextResponse("old name")
    """,
        },
    )
    with caplog.at_level(logging.WARNING, logger="framework"):
        c = client_for(root)
    deprecations = [r.message for r in caplog.records if "deprecated" in r.message]
    assert len(deprecations) == 1 and "rename it to proxy.py" in deprecations[0]
    assert c.get("/").text == "old name"


def test_both_files_is_an_error_naming_both(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": PROXY, "middleware.py": "def middleware(r): pass\n"})
    with pytest.raises(RouteTreeError) as info:
        build_table(root)
    [problem] = info.value.problems
    assert problem.files == ("proxy.py", "middleware.py") and "delete middleware.py" in problem.fix


@pytest.mark.parametrize(
    ("source", "code", "line", "text"),
    [
        ("import os\n\ndef proxy(request):\n    return None\n\n1 / 0\n", "import-error", 6, "ZeroDivisionError"),
        ("def proxy(request)\n    return None\n", "import-error", 1, "SyntaxError"),
        ("def handler(request):\n    return None\n", "proxy-no-function", None, "`proxy` is missing"),
        ("proxy = 3\n", "proxy-no-function", None, "not a function"),
        ("def proxy(request): pass\n\nconfig = {'matcher': 'dashboard'}\n", "proxy-bad-matcher", 3, "starts with `/`"),
    ],
)
def test_broken_proxy_in_start_mode_names_file_and_line(
    tmp_path: Path, source: str, code: str, line: int | None, text: str
) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES})
    (root / "proxy.py").write_text(source, encoding="utf-8")
    with pytest.raises(RouteTreeError) as info:
        build_table(root)
    [problem] = info.value.problems
    assert (problem.code, problem.files[0], problem.line) == (code, "proxy.py", line)
    assert text in problem.message


def test_rebuilding_the_table_reloads_the_proxy(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": "def proxy(request):\n    return None\n"})
    app = create_app(root)
    c = TestClient(app)
    assert c.get("/").text == "home"
    (root / "proxy.py").write_text(
        "from starlette.responses import PlainTextResponse\ndef proxy(request):\n    return PlainTextResponse('v2')\n",
        encoding="utf-8",
    )
    app.router.table = build_table(root)  # what the dev server does on a change
    assert c.get("/").text == "v2"
    (root / "proxy.py").unlink()
    app.router.table = build_table(root)
    assert app.router.table.proxy is None and c.get("/").text == "home"


def test_broken_proxy_stops_framework_start(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": "def proxy(request):\n    return nope(\n"})
    result = run_cli("start", "--root", str(root), "--port", "1")
    assert result.returncode == 1
    assert "proxy.py:2" in result.stderr and "Traceback" not in result.stderr


def test_proxy_over_real_http(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": PROXY})
    with run_framework(root) as server:
        assert server.get("/dashboard/q?as=bob").text == "dashboard user=bob"
        reply = server.get("/dashboard?go=login")
        assert (reply.status, reply.header("location")) == (307, "/login")
        assert server.get("/").text == "home"
        # Matched on the decoded path: an encoded letter does not slip past the proxy.
        assert server.get("/%64ashboard?go=login").status == 307


def test_cookies_in_the_proxy_is_a_clear_error(tmp_path: Path) -> None:
    from framework.headers import RequestContextError

    source = "from framework.headers import cookies\ndef proxy(request):\n    cookies().get('a')\n"
    root = write_tree(tmp_path / "p", {**ROUTES, "proxy.py": source})
    with pytest.raises(RequestContextError, match=r"In proxy\.py, read `request\.cookies`"):
        TestClient(create_app(root)).get("/")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"request_headers": {"x-user": "a\r\nx-admin: 1"}}, "without CR, LF or NUL"),
        ({"headers": {"x-path": "/caf\u00e9/\u2713"}}, "Latin-1"),
        ({"headers": {"bad name": "1"}}, "is not a header name"),
        ({"request_headers": {"x": 3}}, "must be a str"),
    ],
)
def test_next_refuses_headers_that_would_break_or_split(kwargs: dict, message: str) -> None:
    from framework.server import next as go_on

    with pytest.raises(ValueError, match=re_escape(message)):
        go_on(**kwargs)


@pytest.mark.parametrize(
    ("source", "path", "groups"),
    [
        ("/old/:slug", "/old/a", {"slug": "a"}),
        ("/old/:path*", "/old", {"path": None}),
        ("/old/:path*", "/old/a/b", {"path": "a/b"}),
        ("/old/:path+", "/old/a/b", {"path": "a/b"}),
        ("/old/:page?", "/old", {"page": None}),
        ("/user/:id(\\d+)/:tab", "/user/42/posts", {"id": "42", "tab": "posts"}),
        ("/t/:tenant/settings", "/t/acme%2Fx/settings", {"tenant": "acme%2Fx"}),
    ],
)
def test_named_patterns_capture_each_param_without_its_slash(source: str, path: str, groups: dict) -> None:
    match = compile_matcher(source, named=True).fullmatch(path)
    assert match is not None and match.groupdict() == groups
    assert compile_matcher(source).fullmatch(path) is not None  # the unnamed form accepts the same paths


@pytest.mark.parametrize(
    ("source", "destination", "path", "location"),
    [
        ("/old/:slug", "/new/:slug", "/old/a b", "/new/a%20b"),
        ("/old/:path*", "/new/:path*", "/old/x/y", "/new/x/y"),
        ("/old/:path*", "/new/:path*", "/old", "/new"),
        ("/blog/:year/:slug", "/posts/:slug?year=:year", "/blog/2026/hi", "/posts/hi?year=2026"),
        ("/docs", "https://docs.example:8443/start", "/docs", "https://docs.example:8443/start"),
    ],
)
def test_substitute_fills_a_destination(source: str, destination: str, path: str, location: str) -> None:
    from framework.patterns import substitute

    match = compile_matcher(source, named=True).fullmatch(path)
    assert match is not None and substitute(destination, match) == location
