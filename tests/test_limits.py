"""Server limits on real sockets: request head size (431), head timeout (408), concurrency (503).

Each limit is driven against a real `python -m framework start` (uvicorn and `--server granian`) and a
real `framework dev`, and the two protocol variants (httptools, h11) against a real uvicorn server in
this process. Where granian answers otherwise (docs/security.md, "Servers"), the test asserts what it
does. Every loop is bounded and every socket has a timeout; nothing asserts how fast anything was.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import uvicorn

from framework.limits import HAVE_HTTPTOOLS, protocol_class
from framework.settings import Settings
from tests.helpers import Server, free_port, run_cli, run_framework, wait_for, write_tree

KiB, MiB = 1024, 1024 * 1024
ROUTE = """
from starlette.responses import PlainTextResponse

def GET(request):
    return PlainTextResponse("ok")

async def POST(request):
    return PlainTextResponse(str(len(await request.body())))
"""
REQUEST = b"GET /api/ok HTTP/1.1\r\nHost: 127.0.0.1\r\n"
COMMANDS = ["start", "dev"]
SERVERS = {"start": ("start",), "dev": ("dev",), "granian": ("start", "--server", "granian")}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("limits") / "proj", {"app/api/ok/route.py": ROUTE})


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest, project: Path) -> Iterator[Server]:
    """One server per command and server, with a 1 s head timeout so the slow-client tests finish quickly."""
    with run_framework(project, *SERVERS[request.param], "--head-timeout", "1") as running:
        yield running


def on_granian(server: Server) -> bool:
    return "granian" in server.process.args


def serving_pid(server: Server) -> int:
    """The process that reads the requests: granian's worker (the child of `framework start`), or the server."""
    pid = server.process.pid
    if not on_granian(server):
        return pid
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


# --- raw HTTP over sockets ------------------------------------------------------------------------


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def send(sock: socket.socket, data: bytes) -> bool:
    """Send all of `data`; False if the server closed the connection first."""
    try:
        sock.sendall(data)
        return True
    except OSError:  # EPIPE / ECONNRESET: the server cut us off
        return False


def read_reply(sock: socket.socket, limit: int = 64 * KiB) -> bytes:
    """Everything the server sends until it closes (or `limit` bytes, or the socket timeout).
    A reset connection counts as closed: whatever arrived before it is returned."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(limit - len(data))
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def status(reply: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", reply)
    return int(match.group(1)) if match else None


def one_response(sock: socket.socket) -> bytes:
    """One response on a keep-alive connection: head plus a `content-length` body."""
    data = b""
    for _ in range(100):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            if len(rest) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    raise AssertionError(f"no complete response: {data[:300]!r}")


def get_ok(port: int) -> bool:
    with connect(port) as sock:
        sock.sendall(REQUEST + b"Connection: close\r\n\r\n")
        reply = read_reply(sock)
    return status(reply) == 200 and reply.endswith(b"ok")


def rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert match, f"no VmRSS for pid {pid}"
    return int(match.group(1))


# --- request head size ----------------------------------------------------------------------------

HEADS_OVER = {
    "one 70 KiB header": b"X-Big: " + b"a" * (70 * KiB) + b"\r\n",
    "1,100 headers of 64 bytes": b"".join(b"X-H%04d: %s\r\n" % (i, b"v" * 54) for i in range(1100)),
    "a 70 KiB URL": b"",  # built in the test: the request line itself
}


@pytest.mark.parametrize("shape", list(HEADS_OVER))
def test_a_head_over_64_kib_gets_431_and_the_server_keeps_serving(server: Server, shape: str) -> None:
    granian = on_granian(server)
    if shape == "a 70 KiB URL":
        head = b"GET /api/ok?q=" + b"a" * (70 * KiB) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    elif granian and shape == "one 70 KiB header":
        # granian (hyper) checks between reads, and a head that arrives in one read may pass up to twice
        # the limit: past that, it is refused however it arrives
        head = REQUEST + b"X-Big: " + b"a" * (130 * KiB) + b"\r\n\r\n"
    else:
        head = REQUEST + HEADS_OVER[shape] + b"\r\n"
    with connect(server.port) as sock:
        send(sock, head)
        reply = read_reply(sock)
    # 431 is written before the close; a client still sending when the server closes may see a reset first;
    # granian answers a request line over 64 KiB with 414 URI Too Long
    assert status(reply) in ((431, 414, None) if granian else (431, None)), reply[:200]
    if not granian:  # granian refuses without a log line
        wait_for(lambda: "request head over 65536 bytes: 431" in server.log(), what="the 431 log line")
    assert get_ok(server.port)


def test_granian_cuts_a_head_that_arrives_in_pieces_at_the_limit(project: Path) -> None:
    """What granian checks between reads: 70 KiB of headers in 1 KiB writes is refused near 64 KiB."""
    with run_framework(project, *SERVERS["granian"]) as srv, connect(srv.port) as sock:
        data, sent = REQUEST + b"X-Big: " + b"a" * (70 * KiB) + b"\r\n\r\n", 0
        while sent < len(data) and send(sock, data[sent : sent + KiB]):
            sent += KiB
            time.sleep(0.001)  # separate reads on the server's side
        assert status(read_reply(sock)) in (431, None)
        assert get_ok(srv.port)


def test_a_head_under_the_limit_and_a_body_in_the_same_read_are_served(server: Server) -> None:
    """60 KiB of headers pass, and 200 KiB of body sent with the head are not counted as head."""
    with connect(server.port) as sock:
        sock.sendall(REQUEST + b"X-Big: " + b"a" * (60 * KiB) + b"\r\n\r\n")
        assert status(one_response(sock)) == 200
        body = b"b" * (200 * KiB)
        sock.sendall(b"POST /api/ok HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        reply = one_response(sock)
    assert status(reply) == 200 and reply.endswith(str(len(body)).encode())


def test_a_20_mib_head_is_cut_off_early_and_memory_stays_bounded(server: Server) -> None:
    """Accepting the head would cost at least its 20 MiB in the parser; the server must stop reading
    after 64 KiB, so its RSS grows by far less (what remains is socket buffers and allocator noise)."""
    pid = serving_pid(server)
    assert get_ok(server.port)  # warm: the first request allocates what every request uses
    before = rss_kib(pid)
    chunk = b"a" * (64 * KiB)
    sent = 0
    with connect(server.port) as sock:
        if send(sock, REQUEST + b"X-Big: "):
            for _ in range(20 * MiB // len(chunk)):
                if not send(sock, chunk):
                    break
                sent += len(chunk)
        read_reply(sock)
    after = rss_kib(pid)
    assert sent < 20 * MiB, "the server read the whole 20 MiB head instead of cutting it off"
    assert after - before < 8 * 1024, f"RSS grew from {before} KiB to {after} KiB"
    assert get_ok(server.port)


# --- slow clients -----------------------------------------------------------------------------------


def test_a_client_trickling_its_head_is_disconnected_while_others_are_served(server: Server) -> None:
    served = 0
    with connect(server.port) as slow:
        assert send(slow, REQUEST)
        for _ in range(40):  # about 8 s at most, against a 1 s head timeout
            if not send(slow, b"X-A: b\r\n"):
                break
            assert get_ok(server.port)
            served += 1
            time.sleep(0.2)
        reply = read_reply(slow)
    assert status(reply) in (408, None), reply[:200]
    if not on_granian(server):  # granian closes the connection, without a 408 or a log line
        wait_for(lambda: "request head not complete within 1 s: 408" in server.log(), what="the 408 log line")
    assert served >= 1 and get_ok(server.port)


def test_a_connection_that_sends_nothing_is_closed_without_a_response(server: Server) -> None:
    with connect(server.port, timeout=8) as idle:
        assert idle.recv(100) == b""  # closed by the server after the 1 s head timeout (a hang raises timeout)


def test_a_slow_second_head_on_a_keep_alive_connection_is_cut(server: Server) -> None:
    with connect(server.port) as sock:
        sock.sendall(REQUEST + b"\r\n")
        assert status(one_response(sock)) == 200
        sock.sendall(REQUEST)  # the second head, never finished
        assert status(read_reply(sock)) == (None if on_granian(server) else 408)  # granian: closed, no 408


# --- concurrency -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_over_max_concurrency_gets_503(project: Path, command: str) -> None:
    with run_framework(project, command, "--max-concurrency", "3") as srv, ExitStack() as stack:
        assert get_ok(srv.port)
        held = [stack.enter_context(connect(srv.port)) for _ in range(3)]  # connected, head not sent yet
        with connect(srv.port) as sock:
            sock.sendall(REQUEST + b"\r\n")
            reply = read_reply(sock)
        assert status(reply) == 503, reply[:200]
        for sock in held:
            sock.close()
        wait_for(lambda: get_ok(srv.port), what="200 once the held connections are closed")


def test_granian_over_max_concurrency_queues_new_connections(project: Path) -> None:
    """granian's `backpressure` has no 503: past the cap a new connection waits, unanswered, in the listen
    queue until a place frees (here the head timeout of 10 s is far off, so only closing frees one)."""
    with run_framework(project, *SERVERS["granian"], "--max-concurrency", "3") as srv, ExitStack() as stack:
        assert get_ok(srv.port)
        held = [stack.enter_context(connect(srv.port)) for _ in range(3)]
        with connect(srv.port, timeout=2) as sock:
            sock.sendall(REQUEST + b"Connection: close\r\n\r\n")
            with pytest.raises(TimeoutError):
                sock.recv(100)  # no answer while the three places are taken
            held[0].close()
            sock.settimeout(10)
            reply = read_reply(sock)
        assert status(reply) == 200, reply[:200]


# --- worker processes --------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["start", "granian"])
def test_workers_enforce_the_limits_they_were_given(project: Path, server: str) -> None:
    limit = 8 * KiB if server == "granian" else 2 * KiB  # granian holds no less than 8 KiB
    with run_framework(project, *SERVERS[server], "--workers", "2", "--max-head-size", str(limit)) as srv:
        for _ in range(4):  # the kernel spreads connections over both workers
            with connect(srv.port) as sock:
                send(sock, REQUEST + b"X-Big: " + b"a" * (3 * limit) + b"\r\n\r\n")
                assert status(read_reply(sock)) in (431, None)
            with connect(srv.port) as sock:
                sock.sendall(REQUEST + b"X-Small: " + b"a" * KiB + b"\r\nConnection: close\r\n\r\n")
                assert status(read_reply(sock)) == 200
        if server == "start":
            wait_for(lambda: "request head over 2048 bytes: 431" in srv.log(), what="the 431 log line")


# --- both protocol variants, in this process ---------------------------------------------------------


async def tiny_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
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


@contextmanager
def uvicorn_server(use_httptools: bool, max_head_size: int, head_timeout: float) -> Iterator[int]:
    """A real uvicorn server on 127.0.0.1 in a thread, with the limited protocol of one variant."""
    port = free_port()
    config = uvicorn.Config(
        tiny_app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        http=protocol_class(max_head_size, head_timeout, use_httptools),
        h11_max_incomplete_event_size=max_head_size,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), what="uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


VARIANTS = [
    pytest.param(True, id="httptools", marks=pytest.mark.skipif(not HAVE_HTTPTOOLS, reason="no httptools")),
    pytest.param(False, id="h11"),
]


@pytest.mark.parametrize("use_httptools", VARIANTS)
def test_each_protocol_variant_enforces_head_size_and_timeout(use_httptools: bool) -> None:
    with uvicorn_server(use_httptools, 4 * KiB, 0.5) as port:
        assert get_ok(port)
        with connect(port) as sock:
            send(sock, REQUEST + b"X-Big: " + b"a" * (5 * KiB) + b"\r\n\r\n")
            assert status(read_reply(sock)) in (431, None)
        with connect(port) as sock:
            sock.sendall(REQUEST + b"X-Fits: " + b"a" * (3 * KiB) + b"\r\n\r\n")
            assert status(one_response(sock)) == 200
            sock.sendall(REQUEST)  # a keep-alive second request that never finishes its head
            assert status(read_reply(sock)) == 408
        with connect(port) as sock:
            sock.sendall(REQUEST[:10])  # the first request, never finished
            assert status(read_reply(sock)) == 408
        assert get_ok(port)


@pytest.mark.parametrize("use_httptools", VARIANTS)
def test_each_protocol_variant_cuts_a_head_sent_in_small_pieces(use_httptools: bool) -> None:
    """The limit counts every read, not one read at a time."""
    with uvicorn_server(use_httptools, 4 * KiB, 5.0) as port, connect(port, timeout=4) as sock:
        cut = not send(sock, REQUEST)
        for _ in range(200):  # 200 x 100 bytes, far past 4 KiB
            if cut or not send(sock, b"X-Piece: " + b"p" * 89 + b"\r\n"):
                cut = True
                break
            time.sleep(0.001)
        reply = read_reply(sock)
    assert cut or status(reply) == 431, reply[:200]


# --- the options ------------------------------------------------------------------------------------


def parse(command: str, *argv: str, root: Path | None = None) -> Settings:
    """The Settings a command line fills for the project at `root` (none: no pyproject.toml), without running it."""
    from framework.cli import cli
    from framework.cli.common import effective_settings

    command_line = cli.commands[command]
    with command_line.make_context(command, list(argv)) as context:
        fields = {
            "max_body_size",
            "max_head_size",
            "head_timeout",
            "max_concurrency",
            "trusted_origins",
            "allowed_hosts",
        }
        limits = {k: v for k, v in context.params.items() if k in fields}
        return effective_settings(root or Path("/nonexistent"), limits)


@pytest.mark.parametrize("command", COMMANDS)
def test_options_fill_the_settings(command: str) -> None:
    assert parse(command) == Settings()
    settings = parse(
        command,
        "--max-body-size",
        "50MiB",
        "--max-head-size",
        "16KiB",
        "--head-timeout",
        "2.5",
        "--max-concurrency",
        "200",
        "--trusted-origin",
        "HTTPS://App.Example:443/",
        "--trusted-origin",
        "http://localhost:5173",
    )
    assert settings == Settings(
        max_body_size=50 * MiB,
        max_head_size=16 * KiB,
        head_timeout=2.5,
        max_concurrency=200,
        trusted_origins=("https://app.example", "http://localhost:5173"),
    )
    assert parse(command, "--max-body-size", "none", "--max-concurrency", "NONE") == Settings(
        max_body_size=None, max_concurrency=None
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "option, value, says",
    [
        (
            "--max-body-size",
            "10 parsecs",
            "is not a size; write bytes or a number with a unit, like 65536, 64KiB or 10MiB",
        ),
        ("--max-body-size", "0", "write `none` for no cap"),
        ("--max-head-size", "100", "is below 1KiB"),
        ("--max-head-size", "none", "is not a size"),
        ("--head-timeout", "0", "write one like 10 or 2.5"),
        ("--head-timeout", "inf", "write one like 10 or 2.5"),
        ("--max-concurrency", "-5", "write one like 1000, or `none` for no cap"),
        ("--max-concurrency", "1.5", "is not a whole number above 0"),
        ("--trusted-origin", "app.example", "write an origin like https://app.example"),
        ("--trusted-origin", "https://app.example/login", "has more than an origin"),
        ("--trusted-origin", "https://app.example:99999", "is not an origin"),
    ],
)
def test_bad_values_are_usage_errors_saying_what_to_write(command: str, option: str, value: str, says: str) -> None:
    result = run_cli(command, option, value)
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr and says in result.stderr, result.stderr


def test_a_bad_value_exits_2_without_starting(project: Path) -> None:
    result = run_cli("start", "--root", str(project), "--max-head-size", "lots")
    assert result.returncode == 2
    assert "Invalid value for '--max-head-size': 'lots' is not a size" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_limit(command: str) -> None:
    out = run_cli(command, "--help").stdout
    for option in (
        "--max-body-size SIZE",
        "--max-head-size SIZE",
        "--head-timeout SECONDS",
        "--max-concurrency N",
        "--trusted-origin ORIGIN",
    ):
        assert option in out, option


@pytest.mark.parametrize("use_httptools", VARIANTS)
def test_pipelined_requests_in_one_read_are_all_answered(use_httptools: bool) -> None:
    """Three heads in one write, together over the limit, each under it: none is refused."""
    one = REQUEST + b"X-Pad: " + b"p" * (2 * KiB) + b"\r\n\r\n"
    with uvicorn_server(use_httptools, 4 * KiB, 5.0) as port, connect(port) as sock:
        sock.sendall(one * 3)
        received = b""
        for _ in range(100):
            if received.count(b"\r\n\r\nok") == 3:
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 3, received
