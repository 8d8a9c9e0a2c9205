"""Per-request cost of the router in-process (no HTTP), the figure behind docs/security.md and docs/layout.md.

    python bench/request_context.py            # best of 7 runs of 20,000 requests per case

Cases: a static GET, a GET with a param, a POST with a small declared body (body cap and cross-origin
check on the way), a POST with a same-origin `Origin` and `Sec-Fetch-Site`, and a GET under a proxy
whose matcher skips the path. Compare a checkout before and after a change to the request path by
copying this file into the other checkout and running it there.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from framework.app import create_app

ROUTE = (
    "from starlette.responses import PlainTextResponse\n"
    "async def GET(request):\n    return PlainTextResponse('hi')\nPOST = GET\n"
)
PROXY = "def proxy(request):\n    return None\nconfig = {'matcher': ['/dashboard/:path*']}\n"

CASES: dict[str, tuple[str, str, list[tuple[bytes, bytes]]]] = {
    "static GET": ("GET", "/hello", []),
    "param GET": ("GET", "/users/42", []),
    "POST, small body": ("POST", "/hello", [(b"content-length", b"2"), (b"content-type", b"text/plain")]),
    "POST, same-origin browser": (
        "POST",
        "/hello",
        [
            (b"content-length", b"2"),
            (b"host", b"127.0.0.1:3000"),
            (b"origin", b"http://127.0.0.1:3000"),
            (b"sec-fetch-site", b"same-origin"),
        ],
    ),
}


def measure(
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    with_proxy: bool = False,
    n: int = 20_000,
    runs: int = 7,
    route: str = ROUTE,
) -> float:
    """Seconds per request through `app.router`, fastest of `runs` batches of `n`; `route` is the source
    of both `app/hello/route.py` and `app/users/[id]/route.py`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for folder in ("hello", "users/[id]"):
            (root / "app" / folder).mkdir(parents=True)
            (root / "app" / folder / "route.py").write_text(route)
        if with_proxy:
            (root / "proxy.py").write_text(PROXY)
        app = create_app(root)
        scope: dict[str, Any] = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "root_path": "",
            "scheme": "http",
            "server": ("127.0.0.1", 1),
            "client": ("127.0.0.1", 2),
            "http_version": "1.1",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "app": app,
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"hi", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        async def run() -> float:
            best = float("inf")
            for _ in range(runs):
                start = time.perf_counter()
                for _ in range(n):
                    await app.router(dict(scope), receive, send)
                best = min(best, (time.perf_counter() - start) / n)
            return best

        return asyncio.run(run())


if __name__ == "__main__":
    for name, (method, path, headers) in CASES.items():
        print(f"{name:<36} {measure(method, path, headers) * 1e6:6.2f} us/request")
    print(
        f"{'GET, proxy whose matcher skips it':<36} {measure('GET', '/hello', [], with_proxy=True) * 1e6:6.2f} us/request"
    )
