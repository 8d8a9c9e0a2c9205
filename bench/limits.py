"""What the server limits cost: req/s of uvicorn's protocols against the framework's limited ones.

    python -m bench.limits                      5 variants x 2 connection modes x 3 rounds of 8 s (about 5 min)
    python -m bench.limits --rounds 1 --duration 2      a smoke run
    python -m bench.limits serve VARIANT PORT   one server (what the run starts, pinned to the server core)

Then the cost per request in-process (no sockets, no wrk: steadier on a shared machine), and
last one 20 MiB header is sent to uvicorn's httptools protocol and to the limited one, and each
server's RSS is read before and after.

The app is a bare ASGI callable answering `ok`, so the protocol is as large a share of each request
as it can be: these ratios are the worst case, a real route costs more and the limits the same.
Each variant runs in its own process pinned to one core, wrk on the other; rounds alternate the
variants so slow minutes on a shared machine hit them all; medians are reported.

Modes: `keep-alive` (wrk's 64 connections reused: the per-request cost) and `close` (a new
connection per request: the per-connection cost, where the head timer is armed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import harness

VARIANTS = {
    "httptools": "uvicorn's httptools protocol, no limits (before this change)",
    "httptools+cap": "the same with limit_concurrency=1000",
    "limited": "framework.limits httptools protocol + cap (framework start's default)",
    "h11": "uvicorn's h11 protocol, no limits",
    "limited-h11": "framework.limits h11 protocol + cap (the fallback without httptools)",
}
MODES = {"keep-alive": [], "close": ["-H", "Connection: close"]}


async def tiny_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def variant_options(name: str) -> dict[str, Any]:
    """The uvicorn.run keyword arguments of one variant."""
    from framework.limits import protocol_class
    from framework.settings import Settings

    s = Settings()
    return {
        "httptools": {"http": "httptools"},
        "httptools+cap": {"http": "httptools", "limit_concurrency": s.max_concurrency},
        "limited": {
            "http": protocol_class(s.max_head_size, s.head_timeout, True),
            "limit_concurrency": s.max_concurrency,
        },
        "h11": {"http": "h11"},
        "limited-h11": {
            "http": protocol_class(s.max_head_size, s.head_timeout, False),
            "limit_concurrency": s.max_concurrency,
            "h11_max_incomplete_event_size": s.max_head_size,
        },
    }[name]


def serve(name: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        tiny_app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        access_log=False,
        log_level="warning",
        lifespan="off",
        **variant_options(name),
    )


def load(port: int, mode: str, duration: float, connections: int) -> harness.WrkResult:
    """One wrk run on the load core with the mode's headers."""
    return harness.wrk(port, "/", duration, connections, extra=MODES[mode])


def measure(rounds: int, duration: float, connections: int, logdir: Path) -> dict[str, dict[str, list[float]]]:
    """req/s per variant and mode, one sample per round."""
    samples: dict[str, dict[str, list[float]]] = {v: {m: [] for m in MODES} for v in VARIANTS}
    for round_no in range(rounds):
        for name in VARIANTS:
            port = harness.free_port()
            command = [sys.executable, "-m", "bench.limits", "serve", name, str(port)]
            with harness.server(name, command, port, "/", logdir) as running:
                for mode in MODES:
                    harness.wait_idle(running.process.pid)
                    result = load(port, mode, duration, connections)
                    if result.errors:
                        raise harness.BenchError(f"{name} {mode}: {result.errors} errors; log {running.log}")
                    samples[name][mode].append(result.requests_per_s)
            print(
                f"round {round_no + 1}/{rounds} {name}: "
                + ", ".join(f"{m} {samples[name][m][-1]:,.0f}" for m in MODES),
                flush=True,
            )
    return samples


class _Transport:
    """Just enough of an asyncio transport for a protocol to serve requests into (no socket)."""

    def __init__(self) -> None:
        self.written = 0
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 3000)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def per_request_us(
    names: Sequence[str] = tuple(VARIANTS), requests: int = 20_000, batches: int = 9
) -> dict[str, dict[str, float]]:
    """The protocol's cost per GET in this process, in microseconds, fastest of `batches` with the
    variants interleaved (far steadier than req/s on a shared machine). The request is fed to
    `data_received`, the app task runs, the response goes to a counting transport. `keep-alive`: one
    connection for all requests; `close`: a new protocol instance (connection) per request."""
    import asyncio
    import time

    import uvicorn
    import uvloop
    from uvicorn.server import ServerState

    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

    async def batch(name: str, mode: str) -> float:
        config = uvicorn.Config(
            tiny_app, lifespan="off", log_level="warning", access_log=False, **variant_options(name)
        )
        config.load()
        state = ServerState()

        def connect() -> tuple[Any, _Transport]:
            protocol = config.http_protocol_class(config=config, server_state=state, app_state={})
            transport = _Transport()
            protocol.connection_made(transport)
            return protocol, transport

        protocol, transport = connect()
        written = 0
        start = time.perf_counter()
        for _ in range(requests):
            if mode == "close":
                protocol, transport = connect()
            protocol.data_received(request)
            await asyncio.sleep(0)  # the app task runs and writes the response
            written += transport.written
            if mode == "close":
                protocol.connection_lost(None)
        elapsed = time.perf_counter() - start
        if mode != "close":
            written = transport.written
            protocol.connection_lost(None)
        assert written > requests * 50, f"{name}: the requests were not answered"
        return elapsed / requests * 1e6

    async def run() -> dict[str, dict[str, float]]:
        best = {name: {mode: float("inf") for mode in MODES} for name in names}
        for _ in range(batches):
            for mode in MODES:
                for name in names:
                    best[name][mode] = min(best[name][mode], await batch(name, mode))
        return best

    return uvloop.run(run())


def head_memory(name: str, logdir: Path, head_mib: int = 20) -> dict[str, Any]:
    """Send one `head_mib` MiB header in 64 KiB writes; the server's RSS before and after, in MiB, and
    how much it took before cutting the connection."""
    import re
    import socket

    def rss(field: str = "VmRSS") -> float:
        status = Path(f"/proc/{running.process.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) / 1024  # type: ignore[union-attr]

    port = harness.free_port()
    with harness.server(
        name, [sys.executable, "-m", "bench.limits", "serve", name, str(port)], port, "/", logdir
    ) as running:
        before, sent, cut, chunk = rss(), 0, False, b"a" * 65536
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            try:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
                for _ in range(head_mib * 16):
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:  # reset or broken pipe: the server cut the connection
                cut = True
            harness.wait_idle(running.process.pid)
            during = rss()  # the head is still open (unless it was cut): what the server holds for it
        harness.wait_idle(running.process.pid)
        return {
            "rss_before_mib": before,
            "rss_with_head_open_mib": during,
            "rss_after_close_mib": rss(),
            "peak_rss_mib": rss("VmHWM"),
            "sent_mib": sent / 2**20,
            "cut": cut,
        }


def table(samples: dict[str, dict[str, list[float]]]) -> str:
    base = {m: statistics.median(samples["httptools"][m]) for m in MODES}
    rows = [
        "| variant | keep-alive req/s | vs httptools | new connection per request, req/s | vs httptools |",
        "|---|---|---|---|---|",
    ]
    for name, what in VARIANTS.items():
        cells = []
        for mode in MODES:
            median = statistics.median(samples[name][mode])
            cells += [f"{median:,.0f}", f"{median / base[mode]:.2f}"]
        rows.append(f"| `{name}`: {what} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        if len(argv) != 3 or argv[1] not in VARIANTS:
            raise SystemExit(f"usage: python -m bench.limits serve {{{','.join(VARIANTS)}}} PORT")
        serve(argv[1], int(argv[2]))
        return 0
    p = argparse.ArgumentParser(
        prog="python -m bench.limits", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds, each running every variant (default 3)")
    p.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run (default 8)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--skip-load", action="store_true", help="only the in-process and memory measurements")
    args = p.parse_args(argv)
    samples: dict[str, dict[str, list[float]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-limits-") as logdir:
            if not args.skip_load:
                samples = measure(args.rounds, args.duration, args.connections, Path(logdir))
            micro = per_request_us()
            memory = {name: head_memory(name, Path(logdir)) for name in ("httptools", "limited")}
    except harness.BenchError as exc:
        print(f"bench.limits: {exc}", file=sys.stderr)
        return 1
    if samples:
        print(table(samples))
    print("\nper request in-process (fastest of 9 batches of 20,000), microseconds:")
    for name, us in micro.items():
        print(
            f"  {name:<14} "
            + ", ".join(f"{mode} {us[mode]:.2f} ({us[mode] - micro['httptools'][mode]:+.2f})" for mode in MODES)
        )
    print("\none 20 MiB header, server RSS (MiB):")
    for name, m in memory.items():
        print(
            f"  {name:<10} before {m['rss_before_mib']:.1f}, head open {m['rss_with_head_open_mib']:.1f}, "
            f"after close {m['rss_after_close_mib']:.1f}, peak {m['peak_rss_mib']:.1f}; {m['sent_mib']:.1f} MiB "
            "sent" + (", then the connection was cut" if m["cut"] else ", all read")
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"req_per_s": samples, "head_memory": memory, "per_request_us": micro}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
