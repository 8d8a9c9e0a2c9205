"""Per-request cost of the router, in-process (no HTTP): a route that never touches cookies().

    python bench/request_context.py            # best of 7 runs of 20,000 requests

Compare a checkout before and after a change to `routing.py` or `headers.py`. Figures in docs/layout.md.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from framework.app import create_app  # noqa: E402

ROUTE = "from starlette.responses import PlainTextResponse\nasync def GET(request):\n    return PlainTextResponse('hi')\n"
PROXY = "def proxy(request):\n    return None\nconfig = {'matcher': ['/dashboard/:path*']}\n"


def measure(with_proxy: bool, n: int = 20_000, runs: int = 7) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app/hello").mkdir(parents=True)
        (root / "app/hello/route.py").write_text(ROUTE)
        if with_proxy:
            (root / "proxy.py").write_text(PROXY)
        app = create_app(root)
        scope = {"type": "http", "method": "GET", "path": "/hello", "raw_path": b"/hello", "query_string": b"",
                 "headers": [], "root_path": "", "scheme": "http", "server": ("127.0.0.1", 1),
                 "client": ("127.0.0.1", 2), "http_version": "1.1", "app": app}

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
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
    print(f"no proxy:                          {measure(False) * 1e6:.2f} us/request")
    print(f"proxy whose matcher skips the path: {measure(True) * 1e6:.2f} us/request")
