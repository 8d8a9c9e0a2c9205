"""Instructions per request, counted by valgrind: the per-request cost without this machine's noise.

Throughput ratios on a shared 2-core VM move by +-0.1 between runs of the same code. The number of CPU
instructions one request takes does not: valgrind's callgrind counts every instruction the process runs.
Each app is called in-process as an ASGI callable (no server, no socket), `n` requests after a warm-up, in
two processes that differ only in `n`; the difference over the difference in `n` is the instructions of one
request, with the interpreter's start, the imports and the app's build cancelled out.

    python -m bench.instructions ROOT [URL ...]     # ROOT: a bench/gen.py project (starlette_app.py in it)

What it does not count: the server's own work (parsing HTTP, the event loop's I/O), which is the same for
every app on a given server, and how long an instruction takes (cache misses, the CPU's speed of the
moment). It answers "how much work does the app add to a request", not "how many requests a second".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import serve
from .harness import asgi_scope

APPS = ("bare", "starlette", "framework")
URLS = ("/api/health", "/api/users/42")
VALGRIND_INSTALL = "sudo apt-get install -y valgrind"
SIZES = (1_000, 6_000)  # requests in the two counted processes
WARM = 200  # requests before counting starts, in both: first-call work (FirstCall, caches) is not counted
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


class InstructionsError(RuntimeError):
    """A count could not be taken: valgrind missing or failing, or an app answering other than 200."""


def collected(stderr: str) -> int:
    """The instruction count callgrind prints when the process ends (`==PID== Collected : N`)."""
    found = _COLLECTED.search(stderr)
    if found is None:
        raise InstructionsError(f"no `Collected :` line in valgrind's output:\n{stderr[-2000:]}")
    return int(found.group(1))


def command(app: str, root: Path, url: str, n: int) -> list[str]:
    """The counted process: this module's `child`, under callgrind, its profile file discarded."""
    return [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        app,
        str(root),
        url,
        str(n),
    ]


def count(app: str, root: Path, url: str, env: dict[str, str], sizes: tuple[int, int] = SIZES) -> int:
    """Instructions of one request of `app` to `url`: the difference of the two processes' counts over the
    difference of their request counts (`sizes`)."""
    env = {**env, "PYTHONHASHSEED": "0"}  # str hashes, so dict and set layouts, the same in every process
    totals = []
    for n in sizes:
        done = subprocess.run(command(app, root, url, n), capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            raise InstructionsError(f"{app} {url} under valgrind exited {done.returncode}:\n{done.stderr[-3000:]}")
        totals.append(collected(done.stderr))
    return round((totals[1] - totals[0]) / (sizes[1] - sizes[0]))


def run(
    root: Path,
    urls: tuple[str, ...] = URLS,
    env: dict[str, str] | None = None,
    apps: tuple[str, ...] = APPS,
    sizes: tuple[int, int] = SIZES,
) -> dict[str, Any]:
    """Instructions per request of each app (`bare` first) on each URL, and each one's count over the bare
    callable's."""
    if "bare" not in apps:
        raise InstructionsError("the counts are read against the bare callable: include `bare` in apps")
    if shutil.which("valgrind") is None:
        raise InstructionsError(f"valgrind is not installed ({VALGRIND_INSTALL})")
    env = env or dict(os.environ)
    rows = []
    for url in urls:
        counts = {app: count(app, root, url, env, sizes) for app in apps}
        for app, instructions in counts.items():
            rows.append(
                {
                    "url": url,
                    "app": app,
                    "instructions": instructions,
                    "over_bare": instructions - counts["bare"],
                }
            )
    return {"rows": rows, "requests": list(sizes), "warm_up": WARM}


def load_app(app: str, root: Path) -> Any:
    """The ASGI app `app` names: the bare callable, or what `bench.serve` serves (the framework as
    `framework start` builds it)."""
    if app == "bare":
        from .bare_app import app as bare

        return bare
    if app not in APPS:
        raise InstructionsError(f"unknown app {app!r}; choose from {', '.join(APPS)}")
    return serve.load_app(app, root)


def child(app_name: str, root: Path, url: str, n: int) -> int:
    """Serve `WARM + n` requests to `url` in-process; every one must be answered 200. Returns the count."""
    import uvloop

    app = load_app(app_name, root)
    scope = asgi_scope(url)
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def serve() -> None:
        for _ in range(WARM + n):
            await app(dict(scope), receive, send)

    uvloop.run(serve())
    wrong = [s for s in statuses if s != 200]
    if wrong or len(statuses) != WARM + n:
        raise InstructionsError(f"{app_name} {url}: {len(statuses)} answers, {len(wrong)} not 200 (first: {wrong[:1]})")
    return len(statuses)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        app, root, url, n = argv[1:5]
        print(child(app, Path(root), url, int(n)))  # the requests answered 200, for the tests
        return
    if not argv:
        raise SystemExit("usage: python -m bench.instructions ROOT [URL ...]")
    json.dump(run(Path(argv[0]).resolve(), tuple(argv[1:]) or URLS), sys.stdout, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
