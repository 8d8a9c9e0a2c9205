"""The peer table: the same two endpoints on five stacks and two servers, and how far each is from the limit.

    python -m bench peers                                   # this part and the typed one (about 15 min)
    python -m bench --only peers --servers uvicorn --fillers 0
    python -m bench --only peers --apps bare,framework --framework-path before=/tmp/old --framework-path .

Endpoints: static `GET /api/health` -> `{"status":"ok"}` and param `GET /api/users/42` -> `{"id":"42"}`.

| app         | what serves them                                                                 |
|-------------|----------------------------------------------------------------------------------|
| `bare`      | `bench/bare_app.py`: a bare ASGI callable, no router (the limit)                 |
| `starlette` | the generated `starlette_app.py`: `Route`s and `JSONResponse` (bench/gen.py)      |
| `fastapi`   | the generated `fastapi_app.py`: `@app.get` handlers returning dicts, docs off    |
| `litestar`  | the generated `litestar_app.py`: `@get` handlers returning dicts, OpenAPI off    |
| `framework` | `framework.app:app_from_environment` (factory): `serving_app`, what `framework start` serves |
| `start`     | `framework start --server S` itself: the same app behind its server limits (bench/workers.py's command, one worker) |

Each app is served by uvicorn and by granian, both through their own command lines with the flags in
`SERVER_FLAGS` (the framework through its factory, so this does not need `framework start --server
granian`). With `--fillers 0,2000` every app but `bare` is generated twice: with the two endpoints
alone, and with 2,000 routes (bench/gen.py's four shapes) registered before them.

For each server and filler count the apps run side by side, each pinned to the server core, and wrk
(64 connections, pinned to the other core) loads them in rounds that alternate the apps; each row has
the median of the rounds and the ratio of its req/s to every other app's, taken per round (so a slow
minute on this shared machine hits both sides of a ratio).

`--framework-path [NAME=]PATH` (repeatable) serves the framework from another source tree instead of
this checkout's: each becomes an app `framework@NAME` (default NAME: the folder's name) in the same
rounds, with the ratios between them. Only the `framework` package is taken from PATH: the bench code,
the generated projects and the installed dependencies are this checkout's and this environment's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gen, harness
from .harness import BenchError, WrkResult

APPS = ("bare", "starlette", "fastapi", "litestar", "framework", "start")
SERVERS = ("uvicorn", "granian")
ENDPOINTS = {"static GET /api/health": gen.HEALTH_URL, "param GET /api/users/[id]": gen.TARGET_URL}
EXPECTED = {gen.HEALTH_URL: {"status": "ok"}, gen.TARGET_URL: {"id": "42"}}

# Both servers: one process, uvloop, HTTP/1.1 parsing in C (httptools) or Rust (granian), no access log,
# log level warning, no proxy-headers middleware (uvicorn's command line adds one by default, granian's
# does not, and neither does `framework start` unless asked: without this flag the bare callable and the
# peers paid a layer `start` did not). uvicorn's defaults otherwise (lifespan auto, Server and Date
# headers, no concurrency limit); granian's defaults otherwise (1 runtime thread, backpressure = backlog
# 1024).
SERVER_FLAGS: dict[str, tuple[str, ...]] = {
    "uvicorn": (
        "--host",
        "127.0.0.1",
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-proxy-headers",
    ),
    "granian": (
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--http",
        "1",
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--runtime-threads",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ),
}
APP_DIR_FLAG = {"uvicorn": "--app-dir", "granian": "--working-dir"}


# --- framework checkouts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkout:
    """A source tree whose `framework` package a server imports, under the app name `name`."""

    name: str
    path: Path
    commit: str  # `git describe`-like: short hash, "+dirty" with uncommitted changes; "" outside git


def _commit(path: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--", "framework"], capture_output=True
        )
    except OSError:
        return ""
    if head.returncode != 0:
        return ""
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def checkouts(specs: Sequence[str] | None) -> list[Checkout]:
    """`--framework-path` values (`PATH` or `NAME=PATH`) as checkouts; none: this one, named `framework`."""
    if not specs:
        return [Checkout("framework", harness.REPO, _commit(harness.REPO))]
    found: list[Checkout] = []
    for spec in specs:
        label, sep, where = spec.partition("=")
        path = Path(where if sep else spec).expanduser().resolve()
        if not (path / "framework" / "__init__.py").is_file():
            raise BenchError(
                f"--framework-path {spec}: {path} has no framework/__init__.py (give a source tree's root)"
            )
        name = f"framework@{label if sep else path.name}"
        if any(c.name == name for c in found):
            name = f"{name}-{len(found) + 1}"
        found.append(Checkout(name, path, _commit(path)))
    return found


def checkout_env(checkout: Checkout) -> dict[str, str]:
    """The environment that makes a server import `framework` from `checkout` (before this checkout's)."""
    return {"PYTHONPATH": os.pathsep.join([str(checkout.path), harness.env()["PYTHONPATH"]])}


def verify(checkout: Checkout) -> None:
    """Refuse a checkout whose `framework` would not be the one imported (an installed copy shadowing it)."""
    done = subprocess.run(
        [sys.executable, "-c", "import framework; print(framework.__file__)"],
        capture_output=True,
        text=True,
        env={**harness.env(), **checkout_env(checkout)},
        cwd="/",
    )
    imported = Path(done.stdout.strip()).resolve()
    if done.returncode != 0 or not imported.is_relative_to(checkout.path):
        raise BenchError(f"{checkout.name}: `import framework` gave {imported or done.stderr!r}, not {checkout.path}")


# --- the generated apps ------------------------------------------------------------------------


def _params(folder: str) -> list[tuple[str, bool]]:
    """`g3/files/[...path]` -> [("path", True)]: each param's name and whether it catches the rest."""
    out = []
    for part in folder.split("/"):
        if part.startswith("[...") and part.endswith("]"):
            out.append((part[4:-1], True))
        elif part.startswith("[") and part.endswith("]"):
            out.append((part[1:-1], False))
    return out


def _answer(route: gen.GenRoute, strip: bool) -> str:
    """The handler body's dict, as bench/gen.py's Starlette handler answers (catch-alls as lists)."""
    if route.url == gen.HEALTH_URL:
        return '{"status": "ok"}'
    params = _params(route.folder)
    if route.folder == gen.TARGET_FOLDER:
        return '{"id": id}'
    items = ", ".join(
        f"{name!r}: {name}{'.lstrip(chr(47))' if strip and catch else ''}{'.split(chr(47))' if catch else ''}"
        for name, catch in params
    )
    return f'{{"route": {route.folder!r}, "params": {{{items}}}}}'


def fastapi_source(routes: Sequence[gen.GenRoute]) -> str:
    """A FastAPI module with `routes` in order: `async def` handlers taking each param as `str`, returning dicts."""
    lines = [
        '"""Hand-written FastAPI equivalent of app/ (generated by bench.peers)."""',
        "from fastapi import FastAPI",
        "",
        "app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)",
        "",
    ]
    for i, route in enumerate(routes):
        args = ", ".join(f"{name}: str" for name, _ in _params(route.folder))
        lines += [
            f"@app.get({gen.starlette_path(route.folder)!r})",
            f"async def h{i}({args}):",
            f"    return {_answer(route, strip=False)}",
            "",
        ]
    return "\n".join(lines)


def litestar_path(folder: str) -> str:
    """`g1/items/[id]` -> `/g1/items/{id:str}`; `[...p]` -> `{p:path}`."""
    parts = []
    for part in folder.split("/"):
        if part.startswith("[...") and part.endswith("]"):
            parts.append(f"{{{part[4:-1]}:path}}")
        elif part.startswith("[") and part.endswith("]"):
            parts.append(f"{{{part[1:-1]}:str}}")
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def litestar_source(routes: Sequence[gen.GenRoute]) -> str:
    """A Litestar module with `routes`: `@get` handlers taking each param as `FromPath[str]` (Litestar 2.25's
    explicit form; the inferred one is deprecated), returning dicts."""
    lines = [
        '"""Hand-written Litestar equivalent of app/ (generated by bench.peers)."""',
        "from typing import Any",
        "",
        "from litestar import Litestar, get",
        "from litestar.params import FromPath",
        "",
    ]
    for i, route in enumerate(routes):
        args = ", ".join(f"{name}: FromPath[str]" for name, _ in _params(route.folder))
        lines += [
            f"@get({litestar_path(route.folder)!r})",
            f"async def h{i}({args}) -> dict[str, Any]:",
            f"    return {_answer(route, strip=True)}",
            "",
        ]
    lines += [f"app = Litestar(route_handlers=[{', '.join(f'h{i}' for i in range(len(routes)))}], openapi_config=None)"]
    return "\n".join([*lines, ""])


def peer_routes(fillers: int) -> list[gen.GenRoute]:
    """`fillers` routes of bench/gen.py's mix, then the two measured endpoints (static, then param)."""
    return [*gen.filler_routes(fillers), *gen.two_endpoints()]


def write_project(root: Path, routes: Sequence[gen.GenRoute]) -> Path:
    """bench/gen.py's project (app/ and starlette_app.py) plus fastapi_app.py and litestar_app.py, same routes."""
    gen.write_project(root, list(routes))
    (root / "fastapi_app.py").write_text(fastapi_source(routes), encoding="utf-8")
    (root / "litestar_app.py").write_text(litestar_source(routes), encoding="utf-8")
    return root


# --- servers -----------------------------------------------------------------------------------


def command(app: str, server: str, root: Path, port: int) -> list[str]:
    """The command line that serves `app` (an APPS name) from the project at `root` on `server`."""
    if server not in SERVER_FLAGS:
        raise BenchError(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")
    if app == "start":  # the CLI picks its own server flags (framework/serving.py), limits on
        from .workers import command as start_command

        return start_command(server, 1, root, port)
    if app == "framework":
        target = ["--factory", "framework.app:app_from_environment"]
    elif app == "bare":
        target = ["bench.bare_app:app"]
    else:
        target = [f"{app}_app:app"]
    return [
        sys.executable,
        "-m",
        server,
        *SERVER_FLAGS[server],
        "--port",
        str(port),
        APP_DIR_FLAG[server],
        str(root),
        *target,
    ]


@contextmanager
def launch(
    name: str,
    server: str,
    root: Path,
    logdir: Path,
    checkout: Checkout | None = None,
    probe: str = gen.HEALTH_URL,
    timeout: float = 300.0,
) -> Iterator[harness.Running]:
    """Serve app `name` (an APPS name, or a checkout's name with `checkout` given) until the block ends."""
    app = "framework" if checkout is not None else name
    port = harness.free_port()
    extra: dict[str, str] = {}
    if checkout is not None:
        extra = {**checkout_env(checkout), "FRAMEWORK_ROOT": str(root), "FRAMEWORK_ENV": "production"}
    label = f"{name.replace('@', '-')}-{server}"
    with harness.server(
        label, command(app, server, root, port), port, probe, logdir, timeout=timeout, cwd=root, extra_env=extra
    ) as running:
        yield running


def check_answers(running: harness.Running, expected: dict[str, Any]) -> None:
    """Each URL answers 200 with the expected JSON, before any load: a 404 would be measured as a fast app."""
    import json

    for url, body in expected.items():
        status, raw = harness.get(running.port, url)
        if status != 200 or json.loads(raw) != body:
            raise BenchError(f"{running.name}: GET {url} answered {status} {raw[:200]!r}, expected 200 {body}")


# --- rows --------------------------------------------------------------------------------------


def rows_of(samples: dict[str, list[WrkResult]], **keys: Any) -> list[dict[str, Any]]:
    """One row per app: medians (min-max) of the rounds, and `vs`: its req/s over each other app's, per round."""
    rows = []
    for name, results in samples.items():
        rps = [r.requests_per_s for r in results]
        row: dict[str, Any] = {
            **keys,
            "app": name,
            "rps": harness.stats(rps),
            "p50_ms": harness.stats([r.p50_ms for r in results]),
            "p99_ms": harness.stats([r.p99_ms for r in results]),
            "errors": sum(r.errors for r in results),
            "samples_rps": rps,
            "vs": {},
        }
        for other, theirs in samples.items():
            pairs = [
                a.requests_per_s / b.requests_per_s for a, b in zip(results, theirs, strict=True) if b.requests_per_s
            ]
            if other != name and pairs:
                row["vs"][other] = harness.stats(pairs)
        rows.append(row)
    return rows


def app_list(apps: Sequence[str], found: Sequence[Checkout]) -> list[tuple[str, Checkout | None]]:
    """(name, checkout) per app in the order asked, `framework` expanded to each checkout."""
    if unknown := [a for a in apps if a not in APPS]:
        raise BenchError(f"unknown app(s) {', '.join(unknown)}; choose from {', '.join(APPS)}")
    out: list[tuple[str, Checkout | None]] = []
    for app in apps:
        out += [(c.name, c) for c in found] if app == "framework" else [(app, None)]
    return out


def run(
    work: Path,
    servers: Sequence[str] = SERVERS,
    apps: Sequence[str] = APPS,
    fillers: Sequence[int] = (0, 2000),
    framework_paths: Sequence[str] | None = None,
    rounds: int = 3,
    duration: float = 5.0,
    connections: int = 64,
    warmup: float = 1.0,
    endpoints: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The peer table: rows per server, filler count, endpoint and app; `failed`: apps a server could not run."""
    found = checkouts(framework_paths)
    for checkout in found:
        verify(checkout)
    wanted = app_list(apps, found)
    endpoints = endpoints or ENDPOINTS
    rows: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for count in fillers:
        root = write_project(work / f"peers-{count}", peer_routes(count))
        for server in servers:
            with ExitStack() as stack:
                running: dict[str, harness.Running] = {}
                for name, checkout in wanted:
                    try:
                        running[name] = stack.enter_context(launch(name, server, root, work, checkout))
                        check_answers(running[name], {url: EXPECTED[url] for url in endpoints.values()})
                    except BenchError as exc:
                        failed[f"{name} on {server}, {count} fillers"] = str(exc)[-1500:]
                        print(f"  {name} on {server}: failed: {str(exc)[:300]}", file=sys.stderr, flush=True)
                        running.pop(name, None)
                for label, url in endpoints.items():
                    samples = harness.alternate(running, url, rounds, duration, connections, warmup)
                    group = rows_of(samples, server=server, fillers=count, endpoint=label)
                    rows += group
                    print(
                        f"  {server}, {count} fillers, {label}: "
                        + ", ".join(f"{r['app']} {r['rps']['median']:.0f}" for r in group),
                        flush=True,
                    )
    return {
        "rows": rows,
        "failed": failed,
        "checkouts": [{"name": c.name, "path": str(c.path), "commit": c.commit} for c in found],
        "settings": {
            "rounds": rounds,
            "duration_s": duration,
            "warmup_s": warmup,
            "connections": connections,
            "commands": {s: describe(s) for s in servers},
        },
    }


def describe(server: str) -> str:
    """The command line of `server` as the report shows it (TARGET: `module:app`, or `--factory` + the framework's)."""
    return " ".join(["python -m", server, *SERVER_FLAGS[server], "--port PORT", APP_DIR_FLAG[server], "ROOT", "TARGET"])


# --- report ------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def markdown(result: dict[str, Any]) -> list[str]:
    """The peer table (every row with its ratios), then req/s medians per app at a glance."""
    rows = result["rows"]
    s = result["settings"]
    names = list(dict.fromkeys(r["app"] for r in rows))
    lines = [
        f"## Peers: the same two endpoints, median (min-max) of {s['rounds']} rounds of {s['duration_s']:g} s",
        "",
        "Ratios: this row's req/s over the column app's, per round, median. µs over bare: `1/req/s - 1/bare's req/s`, "
        "per round, median: what the app adds per request to the server's own cost. `fillers`: routes registered "
        "before the two endpoints.",
        "",
    ]
    lines += [f"- `{server}`: `{cmd}`" for server, cmd in s["commands"].items()]
    if "start" in names:
        lines.append(
            "- `start`: `python -m framework start --root ROOT --server SERVER --workers 1 --port PORT "
            "--log-level warning --no-access-log` (its own server flags and limits)"
        )
    lines += [f"- `{c['name']}`: {c['path']} {c['commit']}".rstrip() for c in result.get("checkouts", [])]
    lines.append("")
    head = ["server", "fillers", "endpoint", "app", "req/s", "p99 ms", "µs over bare", *[f"vs {n}" for n in names]]
    head.append("errors")
    body = [
        [
            r["server"],
            _fmt(r["fillers"]),
            r["endpoint"],
            r["app"],
            f"{_fmt(r['rps']['median'])} ({_fmt(r['rps']['min'])}-{_fmt(r['rps']['max'])})",
            f"{r['p99_ms']['median']:.1f}",
            _over_bare(r, rows),
            *[f"{r['vs'][n]['median']:.2f}" if n in r["vs"] else "" for n in names],
            r["errors"],
        ]
        for r in rows
    ]
    lines += table(head, body)
    groups = list(dict.fromkeys((r["server"], r["fillers"], r["endpoint"]) for r in rows))
    lines += ["req/s (median) at a glance:", ""]
    median = {(r["server"], r["fillers"], r["endpoint"], r["app"]): r["rps"]["median"] for r in rows}
    lines += table(
        ["app", *[f"{srv}, {_fmt(n)} fillers, {ep.split(' ')[0]}" for srv, n, ep in groups]],
        [[name, *[_fmt(median[(*g, name)]) if (*g, name) in median else "" for g in groups]] for name in names],
    )
    if result.get("failed"):
        lines += ["Could not run:", ""] + [f"- {k}: {v.splitlines()[0]}" for k, v in result["failed"].items()] + [""]
    return lines


def over_bare_us(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> float | None:
    """What the app adds per request to the bare callable's time on the same server, in µs of the server core:
    `1/req/s - 1/bare req/s` per round, median (None without a bare row in the group)."""
    bare = next(
        (
            r
            for r in rows
            if r["app"] == "bare"
            and (r["server"], r["fillers"], r["endpoint"]) == (row["server"], row["fillers"], row["endpoint"])
        ),
        None,
    )
    if bare is None or row is bare:
        return None
    pairs = zip(row["samples_rps"], bare["samples_rps"], strict=True)
    return statistics.median((1 / a - 1 / b) * 1e6 for a, b in pairs if a and b)


def _over_bare(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    us = over_bare_us(row, rows)
    return "" if us is None else f"{us:.1f}"


def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A markdown table, then a blank line."""
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]
