"""`python -m bench`: every measurement in one run, side by side, written to bench/results/.

Parts (pick with --only): throughput, scaling, startup, profile, reload, nextjs (needs --with-nextjs),
peers and typed (`python -m bench peers` runs these two: bench/peers.py, bench/typed.py), workers, and
instructions (per-request instruction counts under valgrind: bench/instructions.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from . import gen, harness, instructions, peers, typed, workers
from .harness import BenchError, WrkResult, alternate, stats

HERE = Path(__file__).resolve().parent
PARTS = (
    "throughput",
    "scaling",
    "startup",
    "profile",
    "reload",
    "nextjs",
    "peers",
    "typed",
    "workers",
    "instructions",
)
OPT_IN = ("nextjs", "peers", "typed", "workers", "instructions")  # not in a plain `python -m bench`

EPILOG = """examples:
  python -m bench                         everything except Next.js (about 5 minutes)
  python -m bench --quick                 a short smoke run (about 1 minute)
  python -m bench --with-nextjs           also install, build and load Next.js (needs npm + network)
  python -m bench --only throughput,scaling --rounds 3 --duration 2
  python -m bench --only scaling --sizes 1,1000
  python -m bench peers                   the peer table and typed validation (about 15 minutes)
  python -m bench peers --servers uvicorn --fillers 0 --rounds 5
  python -m bench --only workers          framework start --workers 1, 2 and 4 on both servers
  python -m bench --only instructions     instructions per request: bare, Starlette, the framework (valgrind)
  python -m bench peers --apps bare,framework --framework-path before=../old-checkout --framework-path .
                                          two checkouts of the framework in the same rounds
"""

TARGETS = {
    "throughput": "framework/starlette >= 1.0 on both routes",
    "scaling": "framework at 10,000 routes >= 0.9 of its 1-route throughput",
    "startup": "1,000 routes under 1 s; 10,000: reported and profiled",
    "reload": "median under 100 ms and >= 5x faster than uvicorn --reload",
    "peers": "req/s next to a bare ASGI callable, Starlette, FastAPI and Litestar on uvicorn and granian",
    "typed": "the per-request cost of typed validation next to FastAPI's and Litestar's",
    "workers": "what `framework start --workers N` gains per added process (docs/deploy.md)",
    "instructions": "the framework's own work per request, in instructions, next to the bare callable and Starlette",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "preset", nargs="?", choices=["peers"], help="peers: the peers and typed parts (same as --only peers,typed)"
    )
    p.add_argument("--quick", action="store_true", help="2 rounds of 1 s, sizes 1,100,1000, 1 startup trial")
    p.add_argument("--rounds", type=int, help="A,B rounds per measurement (default 5, peers and typed 3; quick 2)")
    p.add_argument("--duration", type=float, help="seconds per wrk run (default 3, peers and typed 5; quick 1)")
    p.add_argument("--warmup", type=float, default=1.0, help="peers, typed: warm-up seconds per server (0: none)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--sizes", help="route counts for scaling (default 1,100,1000,10000; quick 1,100,1000)")
    p.add_argument("--startup-sizes", help="route counts for startup (default 1,1000,10000; quick 1,1000)")
    p.add_argument("--startup-trials", type=int, help="starts per size (default 3; quick 1)")
    p.add_argument("--reload-trials", type=int, help="reload trials per scenario (default 10; quick 3)")
    p.add_argument("--with-nextjs", action="store_true", help="also benchmark Next.js `next start` (npm install)")
    p.add_argument("--nextjs-dir", help="reuse this folder for the Next.js project (default: a temp folder)")
    p.add_argument("--only", help=f"comma-separated parts: {','.join(PARTS)}")
    p.add_argument(
        "--servers", default=",".join(peers.SERVERS), help="peers, workers: servers (default uvicorn,granian)"
    )
    p.add_argument("--apps", default=",".join(peers.APPS), help=f"peers, typed: apps (default {','.join(peers.APPS)})")
    p.add_argument("--workers", default="1,2,4", help="workers: worker counts (default 1,2,4)")
    p.add_argument("--fillers", default="0,2000", help="peers: routes registered before the two (default 0,2000)")
    p.add_argument(
        "--framework-path",
        action="append",
        metavar="[NAME=]PATH",
        help="peers, typed: serve the framework from this source tree as app framework@NAME (repeat to compare "
        "checkouts in the same rounds; default: this checkout as `framework`)",
    )
    p.add_argument("--out", default=str(HERE / "results"), help="results folder (default bench/results)")
    args = p.parse_args(argv)
    q = args.quick
    args.peer_rounds = args.rounds or (2 if q else 3)
    args.peer_duration = args.duration or (1.0 if q else 5.0)
    args.typed_requests, args.typed_batches = (500, 3) if q else (5000, 5)
    args.rounds = args.rounds or (2 if q else 5)
    args.duration = args.duration or (1.0 if q else 3.0)
    args.servers = [x for x in args.servers.split(",") if x]
    args.apps = [x for x in args.apps.split(",") if x]
    args.fillers = _ints(args.fillers)
    args.workers = _ints(args.workers)
    if unknown := set(args.servers) - set(peers.SERVERS):
        p.error(f"--servers: unknown server(s) {', '.join(sorted(unknown))}; choose from {', '.join(peers.SERVERS)}")
    if unknown := set(args.apps) - set(peers.APPS):
        p.error(f"--apps: unknown app(s) {', '.join(sorted(unknown))}; choose from {', '.join(peers.APPS)}")
    args.sizes = _ints(args.sizes or ("1,100,1000" if q else "1,100,1000,10000"))
    args.startup_sizes = _ints(args.startup_sizes or ("1,1000" if q else "1,1000,10000"))
    args.startup_trials = args.startup_trials or (1 if q else 3)
    args.reload_trials = args.reload_trials or (3 if q else 10)
    if args.only:
        parts = set(args.only.split(","))
    elif args.preset == "peers":
        parts = {"peers", "typed"}
    else:
        parts = set(PARTS) - set(OPT_IN)
    if unknown := parts - set(PARTS):
        p.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if args.with_nextjs:
        parts.add("nextjs")
    if "nextjs" in parts and not args.with_nextjs:
        p.error("--only nextjs needs --with-nextjs (it installs Next.js from npm)")
    args.parts = parts
    return args


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise SystemExit(f"python -m bench: expected comma-separated integers, got {text!r}") from None


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    import starlette
    import uvicorn

    versions = {name: _version(name) for name in ("granian", "fastapi", "litestar", "pydantic", "uvloop", "httptools")}
    return {
        "cpu": model,
        "nproc": nproc,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
        **versions,
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


# --- load runs ---------------------------------------------------------------------------------


def load_rows(label: str, samples: dict[str, list[WrkResult]], base: str = "starlette") -> list[dict[str, Any]]:
    rows = []
    for name, results in samples.items():
        row: dict[str, Any] = {
            "route": label,
            "server": name,
            "rps": stats([r.requests_per_s for r in results]),
            "p50_ms": stats([r.p50_ms for r in results]),
            "p99_ms": stats([r.p99_ms for r in results]),
            "errors": sum(r.errors for r in results),
            "samples_rps": [r.requests_per_s for r in results],
        }
        if name != base and base in samples:
            pairs = [a.requests_per_s / b.requests_per_s for a, b in zip(results, samples[base], strict=True)]
            row[f"ratio_vs_{base}_per_pair"] = [round(x, 3) for x in pairs]
            row[f"ratio_vs_{base}"] = stats(pairs)
        rows.append(row)
    return rows


# --- parts -------------------------------------------------------------------------------------


def two_endpoints(work: Path) -> Path:
    """The two-endpoint project of this run (throughput, profile, instructions), written by the first part
    that needs it."""
    root = work / "two-endpoints"
    return root if root.exists() else gen.write_project(root, gen.two_endpoints())


def part_throughput(work: Path, args: argparse.Namespace, nextjs: Any) -> list[dict[str, Any]]:
    root = two_endpoints(work)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(harness.python_server(kind, root, work, gen.HEALTH_URL))
            for kind in ("framework", "starlette")
        }
        if nextjs is not None:
            servers["nextjs"] = stack.enter_context(nextjs.serve(work))
        for label, path in (("static GET /api/health", gen.HEALTH_URL), ("param GET /api/users/[id]", gen.TARGET_URL)):
            samples = alternate(servers, path, args.rounds, args.duration, args.connections)
            rows += load_rows(label, samples)
            if nextjs is not None:
                for name in ("framework", "starlette"):
                    pairs = [
                        a.requests_per_s / b.requests_per_s
                        for a, b in zip(samples[name], samples["nextjs"], strict=True)
                    ]
                    next(r for r in rows if r["route"] == label and r["server"] == name)["ratio_vs_nextjs"] = stats(
                        pairs
                    )
    return rows


def part_scaling(work: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        root = gen.write_project(work / f"scaling-{size}", gen.scaling_routes(size))
        with ExitStack() as stack:
            servers = {
                kind: stack.enter_context(harness.python_server(kind, root, work, gen.TARGET_URL, timeout=300))
                for kind in ("framework", "starlette")
            }
            for row in load_rows(
                f"{size} routes", alternate(servers, gen.TARGET_URL, args.rounds, args.duration, args.connections)
            ):
                rows.append({"size": size, **row})
        print(
            f"  scaling {size}: "
            + ", ".join(f"{r['server']} {r['rps']['median']:.0f} req/s" for r in rows if r["size"] == size),
            flush=True,
        )
    for row in rows:
        one = next((r for r in rows if r["size"] == min(args.sizes) and r["server"] == row["server"]), None)
        if one:
            row["ratio_vs_smallest"] = round(row["rps"]["median"] / one["rps"]["median"], 3)
    return rows


def part_startup(work: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Process start to first 200 on the measured route; the first start after writing the files is cold
    (Python compiles every route.py to bytecode), the others warm. Peak RSS is VmHWM after the first 200.

    `dev` is `framework dev`, which imports a route on its first request and the rest in the background
    after the port opens: its time is to the first answer (its RSS is still growing while it warms up).
    It runs last, so its cold start is the first one of its own code paths only."""
    rows: list[dict[str, Any]] = []
    for size in args.startup_sizes:
        root = gen.write_project(work / f"startup-{size}", gen.scaling_routes(size))
        for kind in ("framework", "starlette", "dev"):
            times, rss = [], []
            for _ in range(args.startup_trials + 1):
                with harness.python_server(kind, root, work, gen.TARGET_URL, timeout=300) as s:
                    times.append(s.startup_s)
                    rss.append(s.peak_rss_mb())
            rows.append(
                {
                    "size": size,
                    "server": kind,
                    "cold_s": round(times[0], 3),
                    "warm_s": stats(times[1:]),
                    "peak_rss_mb": stats(rss),
                }
            )
            print(
                f"  startup {size} {kind}: cold {times[0]:.2f}s, warm {statistics.median(times[1:]):.2f}s, "
                f"peak RSS {max(rss):.0f} MB",
                flush=True,
            )
    return rows


def _profile(mode: str, root: Path, *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.profile", mode, str(root), *extra],
        capture_output=True,
        text=True,
        env=harness.env(),
        timeout=600,
    )
    if done.returncode != 0:
        raise BenchError(f"bench.profile {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def part_profile(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    big = max(args.startup_sizes + args.sizes)
    root = work / f"startup-{big}"
    if not root.exists():
        gen.write_project(root, gen.scaling_routes(big))
    two = two_endpoints(work)
    return {
        "startup": _profile("startup", root),
        "request": _profile("request", two, "0.5" if args.quick else "2"),
        "under_load": under_load(work, two, args),
    }


def spy_summary(raw: str) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks -> share of samples per function: own (leaf) and inclusive."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for name in set(frames):
            incl[name] = incl.get(name, 0) + n

    def top(counts: dict[str, int], limit: int) -> list[list[Any]]:
        return [[name, round(100 * n / total, 1)] for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]]

    return {"samples": total, "own_pct": top(own, 12), "inclusive_pct": top(incl, 40)}


def under_load(work: Path, two: Path, args: argparse.Namespace) -> dict[str, Any]:
    """py-spy (optional: `pip install py-spy`) sampling each server while wrk loads the param route."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return {"note": "py-spy is not installed (pip install py-spy); skipped"}
    out: dict[str, Any] = {}
    seconds = 2 if args.quick else 5
    for kind in ("framework", "starlette"):
        with harness.python_server(kind, two, work, gen.HEALTH_URL) as server:
            harness.wrk(server.port, gen.TARGET_URL, 1, args.connections)
            harness.wait_idle(server.process.pid)
            raw = work / f"spy-{kind}.txt"
            record = subprocess.Popen(
                [
                    spy,
                    "record",
                    "-r",
                    "250",
                    "-d",
                    str(seconds - 1),
                    "--nonblocking",
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                    "-p",
                    str(server.process.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            load = harness.wrk(server.port, gen.TARGET_URL, seconds, args.connections)
            _, err = record.communicate(timeout=60)
            if record.returncode != 0 or not raw.exists():
                return {"note": f"py-spy failed ({record.returncode}): {err.strip()[-500:]}"}
            out[kind] = {"rps": load.requests_per_s, **spy_summary(raw.read_text())}
    return out


def _load(args: argparse.Namespace) -> dict[str, Any]:
    """The load settings peers, typed and workers share: rounds, seconds per round, connections, warm-up."""
    return {
        "rounds": args.peer_rounds,
        "duration": args.peer_duration,
        "connections": args.connections,
        "warmup": args.warmup,
    }


def part_peers(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """bench/peers.py with this run's settings."""
    return peers.run(
        work,
        servers=args.servers,
        apps=args.apps,
        fillers=args.fillers,
        framework_paths=args.framework_path,
        **_load(args),
    )


def part_typed(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """bench/typed.py on the first of --servers, with this run's settings."""
    return typed.run(
        work,
        server=args.servers[0],
        framework_paths=args.framework_path,
        apps=args.apps,
        requests=args.typed_requests,
        batches=args.typed_batches,
        **_load(args),
    )


def part_workers(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """bench/workers.py on --servers with the peers' rounds and duration."""
    return workers.run(work, servers=args.servers, workers=args.workers, **_load(args))


def part_instructions(work: Path) -> dict[str, Any]:
    try:
        return instructions.run(two_endpoints(work), env=harness.env())
    except instructions.InstructionsError as exc:
        raise BenchError(str(exc)) from exc


def instructions_markdown(result: dict[str, Any]) -> list[str]:
    small, large = result["requests"]
    lines = [
        "## Instructions per request (valgrind callgrind, in-process, no server)",
        "",
        f"Each app called as an ASGI callable: ({large:,} - {small:,} requests) counted in two processes, after "
        f"{result['warm_up']} warm-up requests, with PYTHONHASHSEED=0: the same on every run of the same code.",
        "",
    ]
    return lines + _table(
        ["url", "app", "instructions per request", "over bare"],
        [[r["url"], r["app"], f"{r['instructions']:,}", f"{r['over_bare']:,}"] for r in result["rows"]],
    )


def part_reload(args: argparse.Namespace, path: Path = HERE / "reload.py") -> list[dict[str, Any]] | None:
    """The dev server's reload benchmark, `bench/reload.py` (`run(trials) -> rows`), when it is there.

    Imported only then, so this package works before the dev server is merged."""
    if not path.exists():
        return None
    if path == HERE / "reload.py":
        module = importlib.import_module("bench.reload")
    else:  # tests point at a stand-in file
        spec = importlib.util.spec_from_file_location("bench_reload_under_test", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    rows = list(module.run(trials=args.reload_trials))
    missing = [
        key for row in rows for key in ("scenario", "server", "samples_ms", "median_ms", "p95_ms") if key not in row
    ]
    if missing:
        raise BenchError(f"{path}: run() rows lack {sorted(set(missing))}")
    return rows


# --- report ------------------------------------------------------------------------------------


def _mm(s: dict[str, float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


_LAYER_NAMES = ("Router", "Route.", "request_response", "split_path", "match", "endpoint", "Middleware", "send")


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"# Benchmark {result['started']}",
        "",
        f"- machine: {m['cpu']}, {m['nproc']} cores; Python {m['python']}; starlette {m['starlette']}, "
        f"uvicorn {m['uvicorn']}"
        + "".join(f", {k} {m[k]}" for k in ("granian", "fastapi", "litestar", "pydantic") if k in m)
        + f"; {m['wrk']}; load average at start {' '.join(m['loadavg_at_start'])}"
        + (f", at end {' '.join(result['loadavg_at_end'])}" if "loadavg_at_end" in result else ""),
        f"- command: `{result['command']}`",
        f"- settings: {result['settings']}",
        "",
    ]
    if rows := result.get("throughput"):
        lines += ["## Throughput and latency (median (min-max) over rounds)", ""]
        lines += _table(
            ["route", "server", "req/s", "p50 ms", "p99 ms", "ratio vs starlette", "ratio vs nextjs", "errors"],
            [
                [
                    r["route"],
                    r["server"],
                    _mm(r["rps"]),
                    _mm(r["p50_ms"], "{:.2f}"),
                    _mm(r["p99_ms"], "{:.2f}"),
                    _mm(r["ratio_vs_starlette"], "{:.2f}") if "ratio_vs_starlette" in r else "",
                    _mm(r["ratio_vs_nextjs"], "{:.2f}") if "ratio_vs_nextjs" in r else "",
                    r["errors"],
                ]
                for r in rows
            ],
        )
    if rows := result.get("scaling"):
        lines += ["## Route-count scaling: GET /api/users/42, registered last", ""]
        lines += _table(
            ["routes", "server", "req/s", "p50 ms", "p99 ms", "vs own smallest size", "vs starlette", "errors"],
            [
                [
                    r["size"],
                    r["server"],
                    _mm(r["rps"]),
                    _mm(r["p50_ms"], "{:.2f}"),
                    _mm(r["p99_ms"], "{:.2f}"),
                    r.get("ratio_vs_smallest", ""),
                    _mm(r["ratio_vs_starlette"], "{:.2f}") if "ratio_vs_starlette" in r else "",
                    r["errors"],
                ]
                for r in rows
            ],
        )
    if rows := result.get("startup"):
        lines += ["## Startup: process start to first 200", ""]
        lines += _table(
            ["routes", "server", "cold s (first start)", "warm s", "peak RSS MB"],
            [
                [r["size"], r["server"], f"{r['cold_s']:.2f}", _mm(r["warm_s"], "{:.2f}"), _mm(r["peak_rss_mb"])]
                for r in rows
            ],
        )
    prof = result.get("profile")
    if prof:
        st = prof["startup"]
        lines += [
            f"## Startup profile: the build of `framework start` at {st['routes']} routes (unchanged tree: total {st['total_s']:.2f} s)",
            "",
        ]
        lines += _table(["stage", "seconds"], [[k, f"{v:.3f}"] for k, v in st["stages_s"].items()])
        lines += _table(
            ["function (cProfile, own time)", "calls", "own s", "cumulative s"],
            [[f["function"], f["calls"], f["own_s"], f["cumulative_s"]] for f in st["top_functions"][:10]],
        )
        lines += [
            "## Per-request cost in-process (microseconds per request, fastest of 9 batches, framework and starlette interleaved)",
            "",
        ]
        layers = prof["request"]["layers_us"]
        names = list(dict.fromkeys(r["layer"] for r in layers))
        keys = list(dict.fromkeys((r["url"], r["server"]) for r in layers))
        lines += _table(
            ["url", "server", *names],
            [
                [
                    u,
                    s,
                    *[
                        next(r["us_per_request"] for r in layers if (r["url"], r["server"], r["layer"]) == (u, s, n))
                        for n in names
                    ],
                ]
                for u, s in keys
            ],
        )
    if prof and (spy := prof.get("under_load")):
        lines += ["## Under load: py-spy on the server while wrk loads GET /api/users/42 (% of samples)", ""]
        if "note" in spy:
            lines += [spy["note"], ""]
        for kind, data in spy.items():
            if kind == "note":
                continue
            lines += [f"{kind}: {data['rps']:.0f} req/s, {data['samples']} samples", ""]
            lines += _table(["function (own, leaf)", "%"], data["own_pct"][:8])
            lines += _table(
                ["routing and app layers (inclusive)", "%"],
                [row for row in data["inclusive_pct"] if any(k in row[0] for k in _LAYER_NAMES)],
            )
    if result.get("peers"):
        lines += peers.markdown(result["peers"])
    if result.get("typed"):
        lines += typed.markdown(result["typed"])
    if result.get("workers"):
        lines += workers.markdown(result["workers"])
    if result.get("instructions"):
        lines += instructions_markdown(result["instructions"])
    if rows := result.get("reload"):
        lines += ["## Reload latency (file write to first response reflecting it)", ""]
        lines += _table(
            ["scenario", "server", "median ms", "p95 ms", "seen / trials"],
            [
                [
                    r["scenario"],
                    r["server"],
                    _ms(r["median_ms"]),
                    _ms(r["p95_ms"]),
                    f"{len(r.get('samples_ms', []))} / {len(r.get('samples_ms', [])) + r.get('missed', 0)}",
                ]
                for r in rows
            ],
        )
    elif "reload" in result:
        lines += ["## Reload latency", "", str(result.get("reload_note", "not run")), ""]
    if nx := result.get("nextjs"):
        lines += ["## Next.js", "", f"- {nx}", ""]
    if result.get("errors"):
        lines += ["## Failed parts", ""] + [f"- {k}: {v}" for k, v in result["errors"].items()] + [""]
    lines += [f"Total time: {result['elapsed_s']:.0f} s", ""]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    """A latency in ms; None when the server never showed the change within the deadline."""
    return "never seen" if value is None else f"{value:.0f}"


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's load settings: rounds and duration of the parts that run (peers and typed have their own)."""
    out: dict[str, Any] = {}
    if args.parts & {"throughput", "scaling", "nextjs"}:
        out.update(rounds=args.rounds, duration_s=args.duration)
    if args.parts & {"peers", "typed", "workers"}:
        out.update(peers_rounds=args.peer_rounds, peers_duration_s=args.peer_duration, peers_warmup_s=args.warmup)
    out.update(connections=args.connections, wrk_threads=1, server_core=harness.cores()[0], wrk_core=harness.cores()[1])
    if args.parts & {"throughput", "scaling", "startup", "profile", "nextjs"}:
        out["uvicorn"] = "http=httptools loop=uvloop workers=1 access_log=False"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        harness.require("wrk", harness.WRK_INSTALL) if args.parts & {
            "throughput",
            "scaling",
            "peers",
            "typed",
            "workers",
        } else None
        harness.require("taskset", "sudo apt-get install -y util-linux")
        if "instructions" in args.parts:
            harness.require("valgrind", instructions.VALGRIND_INSTALL)
        harness.cores()
    except BenchError as exc:
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine(),
        "settings": settings(args),
        "targets": TARGETS,
        "errors": {},
    }
    nextjs = None

    def step(name: str, func: Callable[[], Any]) -> None:
        if name not in args.parts:
            return
        print(f"== {name}", flush=True)
        t = time.perf_counter()
        try:
            result[name] = func()
        except BenchError as exc:
            result["errors"][name] = str(exc)
            print(f"  {name} failed: {exc}", file=sys.stderr, flush=True)
        print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        if "nextjs" in args.parts:
            from . import nextjs as nextjs_module

            def prepare() -> str:
                nonlocal nextjs
                nextjs = nextjs_module.NextApp.prepare(Path(args.nextjs_dir) if args.nextjs_dir else work / "nextjs")
                return nextjs.describe()

            step("nextjs", prepare)
        step("throughput", lambda: part_throughput(work, args, nextjs))
        step("scaling", lambda: part_scaling(work, args))
        step("startup", lambda: part_startup(work, args))
        step("profile", lambda: part_profile(work, args))
        step("peers", lambda: part_peers(work, args))
        step("typed", lambda: part_typed(work, args))
        step("workers", lambda: part_workers(work, args))
        step("instructions", lambda: part_instructions(work))
        if "reload" in args.parts:
            step("reload", lambda: part_reload(args))
            if result.get("reload") is None and "reload" not in result["errors"]:
                result["reload_note"] = "bench/reload.py is not in this checkout (it comes with the dev server)."
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    result["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = result["started"].replace(":", "").replace("-", "")
    (out / f"{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    report = markdown(result)
    (out / f"{stamp}.md").write_text(report, encoding="utf-8")
    print()
    print(report)
    print(f"results: {out / stamp}.json and .md")
    return 1 if result["errors"] else 0


if importlib.util.find_spec("uvloop") is None:  # pragma: no cover - uvicorn[standard] brings it
    raise SystemExit("python -m bench needs uvloop and httptools: pip install 'uvicorn[standard]'")
