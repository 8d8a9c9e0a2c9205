"""`forbidden-import`: no HTTP client or database driver under `app/`; that work lives in `lib/controllers/`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..ast_helpers import imported_modules, within
from ..project import Project
from ..registry import ERROR, Hit, rule

HTTP_CLIENT = "an HTTP client"
DATABASE = "a database driver"
FORBIDDEN_IMPORTS: Mapping[str, str] = {
    "aiohttp": HTTP_CLIENT,
    "http.client": HTTP_CLIENT,
    "httpx": HTTP_CLIENT,
    "pycurl": HTTP_CLIENT,
    "requests": HTTP_CLIENT,
    "urllib.request": HTTP_CLIENT,
    "urllib3": HTTP_CLIENT,
    "aiosqlite": DATABASE,
    "asyncpg": DATABASE,
    "motor": DATABASE,
    "mysql.connector": DATABASE,
    "MySQLdb": DATABASE,
    "psycopg": DATABASE,
    "psycopg2": DATABASE,
    "pymongo": DATABASE,
    "pymysql": DATABASE,
    "redis": DATABASE,
    "sqlalchemy": DATABASE,
    "sqlite3": DATABASE,
}


@rule(
    "forbidden-import", ERROR, "code under app/ importing an HTTP client or a database driver (a list you can extend)"
)
def forbidden_import(project: Project) -> Iterator[Hit]:
    """Route handlers call controllers in lib/controllers/; the backend work lives there, testable without HTTP.

    Submodules count (`psycopg.rows`), so do `from urllib import request` and imports inside functions.
    """
    for src in project.sources.values():
        if not src.file.startswith("app/") or src.tree is None:
            continue
        seen: set[tuple[str, int]] = set()
        for module, line in imported_modules(src.nodes):
            for package, kind in project.forbidden_imports.items():
                if within(module, package) and (package, line) not in seen:
                    seen.add((package, line))
                    yield Hit(
                        src.file,
                        line,
                        f"imports `{package}`, {kind}: route handlers call a controller in lib/controllers/, "
                        "which does that work.",
                        f"Move the code that uses `{package}` into a function in lib/controllers/ that "
                        "returns `Result`, and call that function from the handler.",
                    )
