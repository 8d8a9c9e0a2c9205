"""The proxy sees exactly the path the router dispatches: a property over generated paths, in process.

For every generated request path (dot segments, encoded and double-encoded slashes and dots, control
characters, non-ASCII, empty segments, malformed escapes, with and without a `root_path` prefix), an
independent reference model says what the path normalises to; the app must then answer 400 / 308 as
the model says, and otherwise: the proxy ran if and only if its matcher accepts the normalised path,
the route that answered was given exactly those segments, and the proxy and the route saw one path.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import unquote, unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from framework.app import create_app
from framework.proxy import compile_matchers
from tests.helpers import write_tree

HANDLER = """
from urllib.parse import unquote
from starlette.responses import JSONResponse

def GET(request, context):
    seen = request.headers.get("x-proxy-path")
    return JSONResponse({{"pattern": {pattern!r}, "params": dict(context.params), "path": request.scope["path"],
                          "url_path": request.url.path,
                          "proxy": None if seen is None else unquote(seen)}})
POST = GET
"""

PATTERNS = {
    "app/route.py": "/",
    "app/admin/route.py": "/admin",
    "app/admin/reports/route.py": "/admin/reports",
    "app/[tenant]/settings/route.py": "/[tenant]/settings",
    "app/users/[id]/route.py": "/users/[id]",
    "app/docs/[...slug]/route.py": "/docs/[...slug]",
    "app/files/[[...path]]/route.py": "/files/[[...path]]",
    "app/api/[x]/route.py": "/api/[x]",
    "app/café/route.py": "/café",
}

PROXY = """
from urllib.parse import quote
from framework.server import next

config = {{"matcher": {matchers!r}}}

def proxy(request):
    return next(request_headers={{"x-proxy-path": quote(request.scope["path"], safe="/")}}, headers={{"x-proxy-ran": "1"}})
"""

MATCHER_SETS = [
    ["/admin/:path*"],
    ["/:tenant/settings"],
    ["/((?!api|static).*)"],
    ["/docs/:slug+", "/users/:id", "/files/:rest*"],
    ["/users/:id(\\d+)", "/café"],
]

TOKENS = [
    "admin",
    "reports",
    "api",
    "users",
    "docs",
    "files",
    "settings",
    "acme",
    "x",
    "42",
    "secret",
    ".",
    "..",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2E",
    "%2E.",
    "%2F",
    "a%2Fb",
    "acme%2Fx",
    "%252F",
    "%252e%252e",
    "%0A",
    "42%0A",
    "%0D",
    "%00",
    "%1b",
    "%09",
    "%7F",
    "caf%C3%A9",
    "%C3%A9",
    "%E2%9C%93",
    "",
    "%25",
    "100%25",
    "%ZZ",
    "%",
    "%E2%9C",
    "%C3",
    "a+b",
    "%20",
    "admin%2F..%2Fx",
]


def reference(raw: str) -> tuple[str, ...] | str:
    """The spec, written independently: "redirect", "bad", or the normalised segments."""
    if raw == "/":
        return ()
    parts = raw[1:].split("/")
    if "" in parts:
        return "redirect"
    segments: list[str] = []
    for part in parts:
        if re.search(r"%(?![0-9A-Fa-f]{2})", part):
            return "bad"
        try:
            text = unquote_to_bytes(part).decode("utf-8")
        except UnicodeDecodeError:
            return "bad"
        if text == "..":
            segments = segments[:-1]
        elif text != ".":
            segments.append(text)
    return tuple(segments)


def as_matched(segments: tuple[str, ...]) -> str:
    return "/" + "/".join(s.replace("%", "%25").replace("/", "%2F") for s in segments)


def filled(pattern: str, params: dict[str, object]) -> tuple[str, ...]:
    """The segments a route was dispatched with, rebuilt from its pattern and the params it received."""
    out: list[str] = []
    for seg in pattern.strip("/").split("/") if pattern != "/" else []:
        name = seg.strip("[].")
        if seg.startswith("["):
            value = params.get(name, [])
            out.extend(value if isinstance(value, list) else [value])  # type: ignore[arg-type]
        else:
            out.append(seg)
    return tuple(out)


async def _call(app: Starlette, raw: str, prefix: str, method: str) -> tuple[int, dict[str, str], bytes]:
    raw_bytes = raw.encode("ascii")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": prefix + unquote(raw),
        "raw_path": prefix.encode() + raw_bytes,
        "root_path": prefix,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    headers = {k.decode(): v.decode("latin-1") for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in messages[1:])


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Starlette, re.Pattern[str]]]:
    built = []
    for i, matchers in enumerate(MATCHER_SETS):
        files = {file: HANDLER.format(pattern=pattern) for file, pattern in PATTERNS.items()}
        files["proxy.py"] = PROXY.format(matchers=matchers)
        root = write_tree(tmp_path_factory.mktemp(f"tree{i}"), files)
        regex = compile_matchers({"matcher": matchers})
        assert regex is not None
        built.append((create_app(root), regex))
    return built


paths = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=6).map(lambda parts: "/" + "/".join(parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=paths,
    which=st.integers(0, len(MATCHER_SETS) - 1),
    prefix=st.sampled_from(["", "/pfx"]),
    method=st.sampled_from(["GET", "POST"]),
)
def test_the_proxy_runs_exactly_when_its_matcher_accepts_the_dispatched_path(
    apps: list[tuple[Starlette, re.Pattern[str]]], raw: str, which: int, prefix: str, method: str
) -> None:
    app, regex = apps[which]
    status, headers, body = asyncio.run(_call(app, raw, prefix, method))
    expected = reference(raw)
    if expected == "bad":
        assert status == 400
        return
    if expected == "redirect":
        assert status == 308 and headers["location"].startswith(prefix + "/")
        assert "x-proxy-ran" not in headers
        return
    assert isinstance(expected, tuple)
    accepts = regex.fullmatch(as_matched(expected)) is not None
    assert ("x-proxy-ran" in headers) == accepts, (raw, expected)
    if status == 404:
        return
    assert status == 200, body
    seen = json.loads(body)
    assert filled(seen["pattern"], seen["params"]) == expected  # the route got the normalised segments
    assert seen["path"] == prefix + "/" + "/".join(expected)
    if not re.search("[\t\r\n]", seen["path"]):  # Starlette's URL parsing drops those three (urllib, WHATWG)
        assert seen["url_path"] == seen["path"]
    assert seen["proxy"] == (seen["path"] if accepts else None)  # the proxy saw the route's own path
    values = [v for p in seen["params"].values() for v in (p if isinstance(p, list) else [p])]
    assert "." not in values and ".." not in values


def test_reference_model_examples() -> None:
    """The model itself, on the rows of the issue, so a wrong model cannot make the property vacuous."""
    assert reference("/./admin") == reference("/x/../admin") == reference("/%2e%2e/admin") == ("admin",)
    assert reference("/%2E/admin") == ("admin",)
    assert reference("/api/../admin/reports") == ("admin", "reports")
    assert reference("/acme%2Fx/settings") == ("acme/x", "settings")
    assert reference("/users/42%0A") == ("users", "42\n")
    assert reference("/a//b") == "redirect" and reference("/%ZZ") == "bad"
    assert as_matched(("acme/x", "settings")) == "/acme%2Fx/settings"


@pytest.mark.parametrize(
    ("matcher", "segments", "accepted"),
    [
        ("/:tenant/settings", ("acme/x", "settings"), True),  # one segment, one param
        ("/admin/:path*", ("admin/x",), False),  # not the admin folder: one segment `admin/x`
        ("/admin/:path*", ("admin", "a/b"), True),
        ("/((?!api|static).*)", ("docs", "secret\n"), True),  # DOTALL: the newline does not end the match
        ("/((?!api|static).*)", ("api", "x"), False),
        ("/users/:id", ("users", "42\n"), True),
        ("/users/:id(\\d+)", ("users", "42\n"), False),  # the user's own constraint, anchored at the end
        ("/files/100%", ("files", "100%"), True),  # a literal % is %25 in the matched text
        ("/files/:name", ("files", "a%2Fb"), True),
        ("/a/:x", ("a", "b", "c"), False),
    ],
)
def test_matchers_run_segment_by_segment_on_decoded_values(
    matcher: str, segments: tuple[str, ...], accepted: bool
) -> None:
    regex = compile_matchers({"matcher": matcher})
    assert regex is not None
    assert (regex.fullmatch(as_matched(segments)) is not None) is accepted


def test_examples_reach_the_proxy(apps: list[tuple[Starlette, re.Pattern[str]]]) -> None:
    """Named rows of the issue, through the same in-process app (the end-to-end table is test_security_e2e)."""
    app, _ = apps[0]  # /admin/:path*
    for raw in ["/./admin", "/x/../admin", "/%2e%2e/admin", "/%2E/admin", "/api/../admin/reports"]:
        status, headers, body = asyncio.run(_call(app, raw, "", "GET"))
        assert status == 200 and headers.get("x-proxy-ran") == "1", raw
        assert json.loads(body)["proxy"] in ("/admin", "/admin/reports")
    app, _ = apps[1]  # /:tenant/settings
    status, headers, body = asyncio.run(_call(app, "/acme%2Fx/settings", "", "GET"))
    assert status == 200 and headers.get("x-proxy-ran") == "1" and json.loads(body)["params"] == {"tenant": "acme/x"}
