"""What route segment config costs and what `revalidate` saves (docs/benchmarks.md, "Route segment config").

    python -m bench.route_config                 # both parts, about 2 minutes
    python -m bench.route_config --in-process    # part 1 only (no wrk needed)

1. In process, `bench/request_context.py`'s method (fastest of 7 batches of 20,000 requests through
   `app.router`, no HTTP; the cases interleaved, fastest of the rounds): a plain GET, the same GET with
   `max_duration = 30`, and with `revalidate = 60` answered from the cache.
2. Over HTTP: `framework start`'s app under uvicorn pinned to one core, wrk (64 connections) on the
   other, as `python -m bench`. A handler that waits 20 ms (`await asyncio.sleep`, like a backend call)
   and one that computes for 20 ms (sync, in the thread pool), each without and with `revalidate = 60`;
   median of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.request_context import ROUTE, measure

IN_PROCESS = {
    "plain GET": ROUTE,
    "GET, max_duration = 30": ROUTE + "max_duration = 30\n",
    "GET, revalidate = 60 (cache hit)": ROUTE + "revalidate = 60\n",
}

SLOW = {
    "io": "import asyncio\n\nasync def GET(request):\n    await asyncio.sleep(0.02)\n    return {'ok': True}\n",
    "cpu": (
        "import time\n\ndef GET(request):\n    end = time.perf_counter() + 0.02\n"
        "    while time.perf_counter() < end:\n        pass\n    return {'ok': True}\n"
    ),
}
CASES = {
    "waits 20 ms (async)": "io",
    "waits 20 ms, revalidate = 60": "io-cached",
    "computes 20 ms (sync)": "cpu",
    "computes 20 ms, revalidate = 60": "cpu-cached",
}


def in_process(rounds: int) -> str:
    """The cases interleaved `rounds` times, each one's fastest kept: this VM's slow spells last seconds."""
    best = dict.fromkeys(IN_PROCESS, float("inf"))
    for _ in range(rounds):
        for name, source in IN_PROCESS.items():
            best[name] = min(best[name], measure("GET", "/hello", [], route=source))
    rows = ["| route | µs per request |", "|---|---|"]
    rows += [f"| {name} | {seconds * 1e6:.2f} |" for name, seconds in best.items()]
    return "\n".join(rows)


def write_project(root: Path) -> None:
    for name, source in SLOW.items():
        for folder, text in ((name, source), (f"{name}-cached", source + "\nrevalidate = 60\n")):
            (root / "app" / folder).mkdir(parents=True)
            (root / "app" / folder / "route.py").write_text(text)


def over_http(rounds: int, duration: float, connections: int) -> str:
    rows = ["| handler | req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        root, logs = Path(tmp) / "project", Path(tmp)
        write_project(root)
        with harness.python_server("framework", root, logs, "/io") as server:
            for name, folder in CASES.items():
                results = []
                for _ in range(rounds):
                    results.append(harness.wrk(server.port, f"/{folder}", duration, connections))
                    harness.wait_idle(server.process.pid)
                rps = statistics.median(r.requests_per_s for r in results)
                p50 = statistics.median(r.p50_ms for r in results)
                p99 = statistics.median(r.p99_ms for r in results)
                errors = sum(r.errors for r in results)
                rows.append(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.route_config", description=__doc__.split("\n")[0])
    parser.add_argument("--in-process", action="store_true", help="only part 1 (no wrk)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each part (default 3)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    args = parser.parse_args(argv)
    print(in_process(args.rounds))
    if not args.in_process:
        print()
        try:
            print(over_http(args.rounds, args.duration, args.connections))
        except harness.BenchError as exc:
            print(f"bench.route_config: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
