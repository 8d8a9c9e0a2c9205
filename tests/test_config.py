"""`[tool.framework]` in pyproject.toml: each key read and checked, and each applied by a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.config import ConfigError, load_settings
from framework.settings import HeaderRule, RedirectRule, Settings
from tests.helpers import Server, run_cli, run_framework, write_tree

ECHO = """
import os
from framework.urls import route_url

def GET(request):
    env = {{k: os.environ.get(k) for k in ("FROM_FILE", "BOTH")}}
    return {{"path": request.url.path, "url": route_url({pattern!r}), "env": env}}

POST = GET
"""


def project(tmp_path: Path, config: str, files: dict[str, str] | None = None) -> Path:
    return write_tree(
        tmp_path / "p",
        {
            "pyproject.toml": '[project]\nname = "p"\n\n[tool.framework]\n' + config,
            "app/about/route.py": ECHO.format(pattern="/about"),
            "app/feed.xml/route.py": ECHO.format(pattern="/feed.xml"),
            "app/old/route.py": ECHO.format(pattern="/old"),
            **(files or {}),
        },
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("base_pth = '/x'", "unknown key `base_pth`; did you mean `base_path`?"),
        ("trailingSlash = true", "unknown key `trailingSlash`; did you mean `trailing_slash`?"),
        ("base_path = 'shop'", '`base_path`: expected a path like "/shop"'),
        ("base_path = '/shop/'", "no trailing `/`"),
        ("base_path = '/a/../b'", "`..`"),
        ("trailing_slash = 'yes'", "`trailing_slash`: expected true or false"),
        ("max_body_size = 0", "write `none` for no cap"),
        ("max_body_size = '10 parsecs'", "is not a size"),
        ("max_head_size = 12", "is below 1KiB"),
        ("head_timeout = -1", "is not a number of seconds above 0"),
        ("max_concurrency = 1.5", "is not a whole number above 0"),
        ("trusted_origins = 'https://a.example'", "expected a list of strings"),
        ("trusted_origins = ['a.example']", "is not an origin"),
        ("allowed_hosts = ['http://x']", "write the host name alone"),
        ("headers = { x = 'y' }", "expected a list of tables"),
        ("[[tool.framework.headers]]\nsource = '/x'", "`headers` must be a table like"),
        ("[[tool.framework.headers]]\nsource = 'x'\nheaders = { a = 'b' }", "a matcher path starts with `/`"),
        ("[[tool.framework.headers]]\nsource = '/x'\nheaders = { 'a b' = 'c' }", "needs a token name"),
        ("[[tool.framework.headers]]\nsorce = '/x'", "unknown key `sorce`; did you mean `source`?"),
        (
            "[[tool.framework.redirects]]\nsource = '/a/:id'\ndestination = '/b/:idd'",
            "uses `:idd`, which `source` does not capture; did you mean `id`?",
        ),
        ("[[tool.framework.redirects]]\nsource = '/a'\ndestination = 'b'", "`destination` must be a path"),
        (
            "[[tool.framework.redirects]]\nsource = '/a'\ndestination = '/b'\npermanent = 'no'",
            "`permanent` must be true (308) or false (307)",
        ),
        ("env_file = ['.env']", "expected a number or a string"),
    ],
)
def test_each_bad_key_is_one_clear_error(tmp_path: Path, config: str, message: str) -> None:
    root = project(tmp_path, config)
    with pytest.raises(ConfigError) as info:
        load_settings(root)
    assert message in str(info.value) and "pyproject.toml [tool.framework]" in str(info.value)
    result = run_cli("start", "--root", str(root), "--port", "1")  # refused before anything starts
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_values_and_sources(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """base_path = "/shop"
max_body_size = "1MiB"
trusted_origins = ["HTTPS://App.Example/"]
[[tool.framework.headers]]
source = "/api/:path*"
headers = { "x-frame-options" = "DENY" }
[[tool.framework.redirects]]
source = "/a/:slug"
destination = "/b/:slug"
permanent = false
""",
    )
    effective = load_settings(root, {"max_body_size": (2048, "--max-body-size")})
    assert effective.settings == Settings(
        base_path="/shop",
        max_body_size=2048,
        trusted_origins=("https://app.example",),
        headers=(HeaderRule("/api/:path*", (("x-frame-options", "DENY"),)),),
        redirects=(RedirectRule("/a/:slug", "/b/:slug", False),),
    )
    assert effective.sources["base_path"] == "pyproject.toml"
    assert effective.sources["max_body_size"] == "--max-body-size"
    assert effective.sources["head_timeout"] == "default"
    shown = json.loads(run_cli("config", "--root", str(root), "--json", "--head-timeout", "3").stdout)
    assert shown["base_path"] == {"value": "/shop", "source": "pyproject.toml"}
    assert shown["head_timeout"] == {"value": 3.0, "source": "--head-timeout"}
    assert shown["redirects"]["value"] == [{"source": "/a/:slug", "destination": "/b/:slug", "permanent": False}]
    text = run_cli("config", "--root", str(root)).stdout
    assert 'base_path        "/shop"  (pyproject.toml)' in text


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Server:  # type: ignore[misc]
    root = project(
        tmp_path_factory.mktemp("shop"),
        """base_path = "/shop"
trailing_slash = true
env_file = ".env"
[[tool.framework.headers]]
source = "/about"
headers = { "x-frame-options" = "DENY", "x-from-config" = "1" }
[[tool.framework.redirects]]
source = "/legacy/:rest*"
destination = "/about/"
[[tool.framework.redirects]]
source = "/docs"
destination = "https://docs.example/start"
permanent = false
""",
        {
            ".env": "FROM_FILE=from .env\nBOTH=from .env\n",
            "proxy.py": """
from starlette.responses import PlainTextResponse

config = {"matcher": ["/legacy/:rest*", "/docs"]}

def proxy(request):
    return PlainTextResponse("the proxy ran", status_code=401)
""",
        },
    )
    with run_framework(root, env={"BOTH": "from the environment"}) as server:
        yield server


def test_base_path_puts_the_app_under_a_prefix(shop: Server) -> None:
    reply = shop.get("/shop/about/")
    assert reply.status == 200
    data = json.loads(reply.body)
    assert data["path"] == "/shop/about/" and data["url"] == "/shop/about/"  # route_url includes it
    assert shop.get("/about/").status == 404  # outside the base path
    assert shop.get("/shopping/about/").status == 404


def test_trailing_slash_is_canonical_except_for_file_like_names(shop: Server) -> None:
    moved = shop.get("/shop/about?x=1")
    assert (moved.status, moved.header("location")) == (308, "/shop/about/?x=1")
    assert shop.get("/shop/feed.xml").status == 200
    assert json.loads(shop.get("/shop/feed.xml").body)["url"] == "/shop/feed.xml"
    back = shop.get("/shop/feed.xml/")
    assert (back.status, back.header("location")) == (308, "/shop/feed.xml")
    collapsed = shop.get("/shop//about//")
    assert (collapsed.status, collapsed.header("location")) == (308, "/shop/about/")


def test_configured_headers_join_matching_responses(shop: Server) -> None:
    reply = shop.get("/shop/about/")
    assert reply.header("x-frame-options") == "DENY" and reply.header("x-from-config") == "1"
    assert shop.get("/shop/feed.xml").header("x-from-config") is None


def test_redirects_come_before_the_proxy(shop: Server) -> None:
    moved = shop.get("/shop/legacy/a/b/?q=1")  # (the trailing-slash 308, part of normalising, comes first)
    assert (moved.status, moved.header("location")) == (308, "/shop/about/?q=1")
    away = shop.get("/shop/docs/")
    assert (away.status, away.header("location")) == (307, "https://docs.example/start")


def test_env_file_never_overrides_the_real_environment(shop: Server) -> None:
    env = json.loads(shop.get("/shop/about/").body)["env"]
    assert env == {"FROM_FILE": "from .env", "BOTH": "from the environment"}


def test_a_missing_env_file_is_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path, 'env_file = ".env.local"')
    result = run_cli("start", "--root", str(root), "--port", "1")
    assert result.returncode == 2 and ".env.local does not exist" in result.stderr


def test_command_line_options_win_over_the_file(tmp_path: Path) -> None:
    root = project(tmp_path, "max_body_size = 100")
    body = b"x" * 500
    with run_framework(root) as server:
        assert server.request("POST", "/old", body=body).status == 413
    with run_framework(root, "start", "--max-body-size", "1KiB") as server:
        assert server.request("POST", "/old", body=body).status == 200
    with run_framework(root, "start", "--workers", "2") as server:  # the workers serve with the file's settings
        assert all(server.request("POST", "/old", body=body).status == 413 for _ in range(4))
