"""Time from a file write to the first response that reflects it: `framework dev` vs `uvicorn --reload`.

    python -m bench.reload [--trials 10] [--fillers 50]

Three scenarios, each `trials` times, against two servers in the same run (one after the other,
each on its own copy of the same project):

| scenario       | the write                                          | done when                    |
|----------------|----------------------------------------------------|------------------------------|
| new route      | `mkdir -p app/bench/new<i>` + write its route.py   | GET /bench/new<i> says so    |
| edited route   | rewrite app/bench/edit/route.py                    | GET /bench/edit says so      |
| edited lib     | rewrite lib/benchlib.py, used by app/bench/lib     | GET /bench/lib says so       |

`framework dev` serves the project as is. `uvicorn --reload` (its defaults, as users run it) serves
a plain Starlette app that scans the same app/ folder and imports every route.py at startup.
The client polls every 2 ms with a new connection; a refused connection counts as "not yet". A change
not served within 5 s counts as missed (the watcher lost the event); it is written again to catch up,
and kept out of the median.
`run()` returns one dict per (scenario, server) for `python -m bench`.
"""

from __future__ import annotations

import argparse
import http.client
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import free_port, subprocess_env, write_tree

POLL_S = 0.002
SETTLE_S = 0.3  # between trials, so one trial's events are not batched with the next
TIMEOUT_S = 30.0
MISS_S = 5.0  # a change not served within this is a missed change (the watcher lost the event)

ROUTE = """from starlette.responses import PlainTextResponse

def GET(request):
    return PlainTextResponse({text!r})
"""
LIB_ROUTE = """from starlette.responses import PlainTextResponse
import lib.benchlib

def GET(request):
    return PlainTextResponse(lib.benchlib.VALUE)
"""
STARLETTE_APP = """# A plain Starlette app that scans app/ at startup, the way one would without the framework.
import importlib.util
import pathlib
import re

from starlette.applications import Starlette
from starlette.routing import Route

ROOT = pathlib.Path(__file__).parent


def routes():
    found = []
    for file in sorted((ROOT / "app").rglob("route.py")):
        parts = file.relative_to(ROOT / "app").parent.parts
        path = "/" + "/".join(re.sub(r"^\\[(\\w+)\\]$", r"{\\1}", p) for p in parts if not p.startswith("("))
        spec = importlib.util.spec_from_file_location("route_" + "_".join(parts), file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if hasattr(module, method):
                found.append(Route(path, getattr(module, method), methods=[method]))
    return found


app = Starlette(routes=routes())
"""


def make_project(root: Path, fillers: int) -> Path:
    files = {f"app/filler/r{i}/route.py": ROUTE.format(text=f"filler {i}") for i in range(fillers)}
    files.update(
        {
            "app/bench/edit/route.py": ROUTE.format(text="edit start"),
            "app/bench/lib/route.py": LIB_ROUTE,
            "lib/__init__.py": "",
            "lib/benchlib.py": "VALUE = 'lib start'\n",
            "starlette_app.py": STARLETTE_APP,
        }
    )
    return write_tree(root, files)


def get(port: int, path: str) -> tuple[int, str] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        conn.close()


def wait_text(port: int, path: str, text: str, since: float, timeout: float = TIMEOUT_S) -> float | None:
    """Poll until GET path answers 200 with `text`: the milliseconds since `since`, or None after `timeout`."""
    deadline = since + timeout
    while time.perf_counter() < deadline:
        if get(port, path) == (200, text):
            return (time.perf_counter() - since) * 1000
        time.sleep(POLL_S)
    return None


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def scenarios(root: Path) -> dict[str, Callable[[int], tuple[str, str]]]:
    """Each scenario makes its i-th change and says which URL must then answer what."""

    def new_route(i: int) -> tuple[str, str]:
        write(root / f"app/bench/new{i}/route.py", ROUTE.format(text=f"new {i}"))
        return f"/bench/new{i}", f"new {i}"

    def edited_route(i: int) -> tuple[str, str]:
        write(root / "app/bench/edit/route.py", ROUTE.format(text=f"edit {i}"))
        return "/bench/edit", f"edit {i}"

    def edited_lib(i: int) -> tuple[str, str]:
        write(root / "lib/benchlib.py", f"VALUE = 'lib {i}'\n")
        return "/bench/lib", f"lib {i}"

    return {"new route": new_route, "edited route": edited_route, "edited lib": edited_lib}


def command(server: str, root: Path, port: int) -> list[str]:
    if server == "framework dev":
        return [sys.executable, "-m", "framework", "dev", "--root", str(root), "--port", str(port)]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "starlette_app:app",
        "--reload",
        "--reload-dir",
        str(root),
        "--app-dir",
        str(root),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def measure(server: str, root: Path, trials: int) -> list[dict[str, object]]:
    port = free_port()
    log = root.parent / f"{root.name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            command(server, root, port), cwd=root, stdout=out, stderr=subprocess.STDOUT, env=subprocess_env()
        )
    try:
        if wait_text(port, "/bench/edit", "edit start", time.perf_counter()) is None:
            raise TimeoutError(f"{server} did not start:\n{log.read_text()}")
        time.sleep(SETTLE_S)
        rows = []
        for name, change in scenarios(root).items():
            samples: list[float] = []
            missed = 0
            for i in range(trials):
                started = time.perf_counter()
                path, text = change(i)
                ms = wait_text(port, path, text, started, MISS_S)
                if ms is None:  # the change was never seen: count it, then write again to catch up
                    missed += 1
                    change(i)
                    if wait_text(port, path, text, time.perf_counter()) is None:
                        raise TimeoutError(f"{server} never served {path} = {text!r}:\n{log.read_text()}")
                else:
                    samples.append(ms)
                time.sleep(SETTLE_S)
            rows.append(summary(name, server, samples, missed))
        return rows
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def summary(scenario: str, server: str, samples: list[float], missed: int = 0) -> dict[str, object]:
    """Median and p95 (nearest rank) of the changes that were served; `missed` counts those that never were."""
    ordered = sorted(samples)
    median = round(statistics.median(ordered), 1) if ordered else None
    p95 = round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 1) if ordered else None
    return {
        "scenario": scenario,
        "server": server,
        "samples_ms": [round(s, 1) for s in samples],
        "median_ms": median,
        "p95_ms": p95,
        "missed": missed,
    }


def run(trials: int = 10, fillers: int = 50) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        for index, server in enumerate(("framework dev", "uvicorn --reload")):
            root = make_project(Path(tmp) / f"proj{index}", fillers)
            rows += measure(server, root, trials)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--fillers", type=int, default=50, help="other routes in the project (default: 50)")
    args = parser.parse_args()
    rows = run(args.trials, args.fillers)
    print(f"{'scenario':<14} {'server':<18} {'median ms':>10} {'p95 ms':>8} {'missed':>7}")
    for row in rows:
        print(
            f"{row['scenario']:<14} {row['server']:<18} {row['median_ms']!s:>10} {row['p95_ms']!s:>8} "
            f"{row['missed']!s:>4}/{args.trials}"
        )
    by = {(r["scenario"], r["server"]): r["median_ms"] for r in rows}
    for name in ("new route", "edited route", "edited lib"):
        ours, theirs = by[(name, "framework dev")], by[(name, "uvicorn --reload")]
        if ours and theirs:
            print(f"{name}: framework dev is {theirs / ours:.1f}x faster (medians)")  # type: ignore[operator]


if __name__ == "__main__":
    main()
