"""The files `framework init` writes: a small project that serves, passes `framework check` and its tests.

| file                          | what                                                              |
|-------------------------------|-------------------------------------------------------------------|
| `pyproject.toml`              | the dependency on this framework, a test extra, `[tool.framework.check]` (the checks opt in) |
| `app/api/health/route.py`     | `GET /api/health`: its work done by the controller                |
| `lib/controllers/health.py`   | `check_health() -> Result[str]`                                   |
| `lib/urls/__init__.py`        | `get_health_url()`: the one place that spells the route's URL    |
| `tests/test_health.py`        | one passing test, through the app in process                      |
| `.gitignore`                  | virtual environments, caches, `.env`                              |
"""

from __future__ import annotations

import json
import re
from importlib import metadata

from .version import __version__


def dependency() -> str:
    """How the new project should require this framework: the place it was installed from (a local folder
    or a git URL, PEP 610's direct_url.json), else the version from the package index."""
    try:
        text = metadata.distribution("framework").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        text = None
    if text:
        info = json.loads(text)
        url = info.get("url", "")
        vcs = info.get("vcs_info")
        if vcs:
            return f"framework @ {vcs['vcs']}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
        if url.startswith("file://"):
            return f"framework @ {url}"
    return f"framework>={__version__}"


def project_name(folder: str) -> str:
    """A distribution name from a folder name: `My App` -> `my-app`."""
    return re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-") or "app"


def files(name: str, requirement: str) -> dict[str, str]:
    """Relative path -> text of every file of a new project called `name` requiring `requirement`."""
    return {
        "pyproject.toml": f'''[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["{requirement}"]

[project.optional-dependencies]
test = ["pytest>=8", "httpx2"]  # starlette.testclient's HTTP client

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
packages = []  # an application: `pip install -e .` installs its dependencies, the code runs from here

[tool.framework]
# base_path = "/shop", trailing_slash = true, env_file = ".env", headers, redirects: see the README

[tool.framework.check]
# This table turns on `framework check`'s items in pytest; strict = true makes warnings fail too.

[tool.pytest.ini_options]
testpaths = ["tests"]
''',
        "app/api/health/route.py": '''"""GET /api/health: is the app up? Its work is done by lib/controllers/health.py."""

from starlette.responses import PlainTextResponse

from lib.controllers.health import check_health


def GET(request):
    result = check_health()
    if result.error:
        return PlainTextResponse(result.error.status_text, status_code=result.error.status)
    return PlainTextResponse(result.data)
''',
        "lib/__init__.py": "",
        "lib/controllers/__init__.py": '"""The work behind the routes: functions returning `Result`, never HTTP responses."""\n',
        "lib/controllers/health.py": '''"""Health: what GET /api/health reports."""

from framework.controllers import Result


def check_health() -> Result[str]:
    """Check what the app depends on here (a database, a queue); return an error `Result` when one is down."""
    return Result(data="ok")
''',
        "lib/urls/__init__.py": '''"""One function per route that builds its URL, so every use of a route can be found and checked."""

from framework.urls import route_url


def get_health_url() -> str:
    return route_url("/api/health")
''',
        "tests/__init__.py": "",
        "tests/test_health.py": '''"""GET /api/health, through the app in process (no server needed)."""

from pathlib import Path

from starlette.testclient import TestClient

from framework.app import create_app, project_root

ROOT = project_root(Path(__file__).resolve().parent.parent)  # the project first on sys.path, for `lib`

from lib.urls import get_health_url  # noqa: E402


def test_health() -> None:
    with TestClient(create_app(ROOT)) as client:
        reply = client.get(get_health_url())
    assert (reply.status_code, reply.text) == (200, "ok")
''',
        ".gitignore": ".venv/\n__pycache__/\n*.pyc\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n.env\n*.egg-info/\n",
    }
