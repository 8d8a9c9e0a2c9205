"""`framework start --workers N`: what more processes buy on this machine (docs/deploy.md, workers per core).

    python -m bench --only workers                      # 1, 2 and 4 workers, both servers
    python -m bench --only workers --workers 1,2 --servers uvicorn

Each server is the real command, `framework start --server S --workers N` (its limits on), serving the
two endpoints of the peer table, and is not pinned: its workers may use every core. wrk stays pinned to
the load core as everywhere else, so on a 2-core machine a second worker shares its core with the load
generator: the figures say what a second process gains when the load comes from the same box, a lower
bound for a machine whose load arrives over the network.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from . import gen, harness

WORKERS = (1, 2, 4)
ENDPOINTS = (("static GET /api/health", gen.HEALTH_URL), ("param GET /api/users/[id]", gen.TARGET_URL))


def command(server: str, workers: int, root: Path, port: int) -> list[str]:
    """`framework start` for the project at `root` (the CLI entry point, as a user runs it)."""
    return [
        sys.executable,
        "-m",
        "framework",
        "start",
        "--root",
        str(root),
        "--server",
        server,
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def run(
    work: Path,
    servers: Sequence[str] = ("uvicorn", "granian"),
    workers: Sequence[int] = WORKERS,
    rounds: int = 3,
    duration: float = 5.0,
    connections: int = 64,
    warmup: float = 1.0,
) -> dict[str, Any]:
    """req/s per (server, workers, endpoint), median (min-max) of `rounds`, the worker counts of one server
    loaded in turn in each round; ratios to one worker, per round."""
    root = gen.write_project(work / "workers", gen.two_endpoints())
    rows: list[dict[str, Any]] = []
    for server in servers:
        with ExitStack() as stack:
            running = {}
            for n in workers:
                port = harness.free_port()
                running[n] = stack.enter_context(
                    harness.server(
                        f"framework-{server}-{n}w",
                        command(server, n, root, port),
                        port,
                        gen.HEALTH_URL,
                        work,
                        cwd=root,
                        pin=False,
                    )
                )
            for label, path in ENDPOINTS:
                targets = {str(n): (s, path) for n, s in running.items()}
                samples = harness.alternate_targets(targets, rounds, duration, connections, warmup)
                one = samples[str(min(workers))]
                for n in workers:
                    results = samples[str(n)]
                    rows.append(
                        {
                            "server": server,
                            "workers": n,
                            "endpoint": label,
                            "rps": harness.stats([r.requests_per_s for r in results]),
                            "p99_ms": harness.stats([r.p99_ms for r in results]),
                            "errors": sum(r.errors for r in results),
                            "vs_one": harness.stats(
                                [a.requests_per_s / b.requests_per_s for a, b in zip(results, one, strict=True)]
                            ),
                        }
                    )
                print(
                    f"  workers {server} {label}: "
                    + ", ".join(f"{r['workers']}w {r['rps']['median']:.0f}" for r in rows[-len(workers) :]),
                    flush=True,
                )
    return {"rounds": rounds, "duration_s": duration, "rows": rows}


def markdown(result: dict[str, Any]) -> list[str]:
    """The report's section: one row per server, worker count and endpoint."""
    lines = [
        f"## Workers: `framework start --workers N`, median (min-max) of {result['rounds']} rounds of "
        f"{result['duration_s']:g} s",
        "",
        "Servers not pinned (every core), wrk pinned to the load core: on 2 cores a second worker shares a core",
        "with the load generator. `vs 1 worker`: this row's req/s over one worker's, per round, median.",
        "",
        "| server | endpoint | workers | req/s | p99 ms | vs 1 worker | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        rps, p99, ratio = r["rps"], r["p99_ms"], r["vs_one"]
        lines.append(
            f"| {r['server']} | {r['endpoint']} | {r['workers']} | {rps['median']:,.0f} ({rps['min']:,.0f}-"
            f"{rps['max']:,.0f}) | {p99['median']:.1f} | {ratio['median']:.2f} | {r['errors']} |"
        )
    return [*lines, ""]
