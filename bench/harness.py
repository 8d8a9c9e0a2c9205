"""Servers pinned to one core, wrk pinned to the other, and wrk's output read into numbers."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WRK_INSTALL = "sudo apt-get update && sudo apt-get install -y wrk"


def asgi_scope(
    path_and_query: str, headers: Sequence[tuple[bytes, bytes]] = ((b"host", b"127.0.0.1:8000"),)
) -> dict[str, Any]:
    """The scope of one HTTP/1.1 `GET path?query` from 127.0.0.1, for the parts that call an app in-process
    (profile, typed, instructions): what uvicorn would pass, with `headers` as given."""
    path, _, query = path_and_query.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


class BenchError(Exception):
    """Something the benchmark cannot work around: the message says what to do."""


def cores() -> tuple[str, str]:
    """(server core, load core): the first two CPUs this process may use."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise BenchError(f"need 2 CPU cores to pin server and wrk apart; this process may use {allowed}")
    return str(allowed[0]), str(allowed[1])


def require(tool: str, install: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BenchError(f"`{tool}` is not installed; install it with: {install}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    """The environment for servers: the repo importable, and bytecode written like a default Python
    (a PYTHONDONTWRITEBYTECODE inherited from a test or CI shell would make every start a cold one)."""
    out = dict(os.environ)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH", "")]))
    return out


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Running:
    """A started server: its process (PID is the server itself: taskset execs), port and start-to-200 time."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    startup_s: float
    log: Path

    def peak_rss_mb(self) -> float:
        """VmHWM: the peak resident set size of the server process so far."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        return int(match.group(1)) / 1024 if match else float("nan")


def group_cpu_ticks(group: int) -> int:
    """User + system CPU ticks of every process in process group `group` (a server and its children)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total


def wait_idle(group: int, timeout: float = 15.0, interval: float = 0.1) -> float:
    """Wait until the server's process group has used at most one tick (10 ms) in two intervals in a row:
    a server still answering the backlog of the last load run must not steal the core from the next one.
    Returns the seconds waited (bounded by `timeout`)."""
    start = time.perf_counter()
    last, quiet = group_cpu_ticks(group), 0
    while quiet < 2 and time.perf_counter() - start < timeout:
        time.sleep(interval)
        now = group_cpu_ticks(group)
        quiet = quiet + 1 if now - last <= 1 else 0
        last = now
    return time.perf_counter() - start


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one server by its PID, with any children it started (its own process group, see `server`):
    SIGTERM, then SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
            try:
                os.killpg(process.pid, signal.SIGKILL)  # children left behind by a parent that exited
            except ProcessLookupError:
                pass
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=10)


@contextmanager
def server(
    name: str,
    command: Sequence[str],
    port: int,
    probe: str,
    logdir: Path,
    timeout: float = 120.0,
    cwd: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    pin: bool = True,
) -> Iterator[Running]:
    """Start `command` pinned to the server core (`pin=False`: free to use every core; environment: `env()`
    updated with `extra_env`); yield once `probe` answers 200; always stop it."""
    taskset = ["taskset", "-c", cores()[0]] if pin else []
    log = logdir / f"{name}-{port}.log"
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [*taskset, *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env(), **(extra_env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    try:
        deadline = start + timeout
        while True:
            if process.poll() is not None:
                raise BenchError(
                    f"{name} exited with {process.returncode} before serving; log {log}:\n"
                    + log.read_text(errors="replace")[-2000:]
                )
            try:
                status, body = get(port, probe, timeout=timeout)
                if status == 200:
                    break
                raise BenchError(f"{name}: GET {probe} answered {status}: {body[:200]!r}")
            except OSError:
                if time.perf_counter() > deadline:
                    raise BenchError(f"{name} did not answer GET {probe} within {timeout:.0f}s; log {log}") from None
                time.sleep(0.005)
        yield Running(name, process, port, time.perf_counter() - start, log)
    finally:
        stop(process)


def python_server(kind: str, root: Path, logdir: Path, probe: str, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    """`bench.serve` for `kind` (framework or starlette) on a free port; `dev`: `framework dev --quiet`."""
    port = free_port()
    command = [sys.executable, "-m", "bench.serve", kind, str(root), str(port)]
    if kind == "dev":
        command = [sys.executable, "-m", "framework", "dev", "--root", str(root), "--port", str(port), "--quiet"]
    return server(kind, command, port, probe, logdir, timeout=timeout)


# --- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx responses


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read `wrk --latency` output: Requests/sec, the 50% and 99% latency lines, errors, request count."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output (was --latency given?):\n{output}")
    errors = 0
    if sock := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(g) for g in sock.groups())
    if non2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(non2xx.group(1))
    return WrkResult(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors)


def wrk(port: int, path: str, duration: float, connections: int = 64, extra: Sequence[str] = ()) -> WrkResult:
    """One bounded wrk run (1 thread, `connections` connections) on the load core; `extra`: more wrk
    arguments, such as `-H` headers."""
    exe = require("wrk", WRK_INSTALL)
    load_core = cores()[1]
    cmd = [
        "taskset",
        "-c",
        load_core,
        exe,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        *extra,
        f"http://127.0.0.1:{port}{path}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# --- rounds ------------------------------------------------------------------------------------


def stats(values: Sequence[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def alternate(
    servers: Mapping[str, Running],
    path: str,
    rounds: int,
    duration: float,
    connections: int = 64,
    warmup: float = 1.0,
) -> dict[str, list[WrkResult]]:
    """One warm-up run per server (`warmup` seconds; 0: none), then `rounds` rounds of A, B(, C) in the same
    order each round, all on `path`; see `alternate_targets`."""
    targets = {name: (s, path) for name, s in servers.items()}
    return alternate_targets(targets, rounds, duration, connections, warmup)


def alternate_targets(
    targets: Mapping[str, tuple[Running, str]],
    rounds: int,
    duration: float,
    connections: int = 64,
    warmup: float = 1.0,
) -> dict[str, list[WrkResult]]:
    """Load each (server, path) target in turn, in the same order each round, after one warm-up run each:
    two figures meant to be compared (two servers, or two endpoints of one) are then taken minutes apart at
    most, never in separate blocks. After each run, wait until that server is idle again (Next.js and a
    10,000-route Starlette are still answering queued requests when wrk stops, on the core the next server
    needs)."""

    def load(s: Running, path: str, seconds: float) -> WrkResult:
        result = wrk(s.port, path, seconds, connections)
        wait_idle(s.process.pid)  # the backlog is served before the other server's turn
        return result

    if warmup > 0:
        for s, path in targets.values():
            load(s, path, warmup)
    samples: dict[str, list[WrkResult]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (s, path) in targets.items():
            samples[name].append(load(s, path, duration))
    return samples
