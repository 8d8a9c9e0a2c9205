"""A port in use, with real occupied sockets on 127.0.0.1: `framework dev` takes the next free one unless
--port was given; `framework start` and an exhausted search exit 1 with one line."""

from __future__ import annotations

import errno
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from framework.dev.ports import TRIES, BindError, bind_first_free
from tests.helpers import Server, run_cli, stop, subprocess_env, wait_for, wait_until_serving, write_tree

OK = "from starlette.responses import PlainTextResponse\ndef GET(request):\n    return PlainTextResponse('ok')\n"
DEFAULT = 3000


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "p", {"app/ok/route.py": OK})


@contextmanager
def held(ports: range) -> Iterator[None]:
    """Every port of `ports` in use while inside: listened on here, or already in use by another program."""
    with ExitStack() as stack:
        for port in ports:
            try:
                stack.enter_context(socket.create_server(("127.0.0.1", port)))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
        yield


def free_run(count: int) -> int:
    """The first of `count` consecutive free ports (below the ephemeral range other tests draw from)."""
    for _ in range(200):
        base = random.randrange(20000, 30000)
        try:
            with ExitStack() as probes:
                for port in range(base, base + count):
                    probes.enter_context(socket.create_server(("127.0.0.1", port)))
            return base
        except OSError:
            continue
    raise AssertionError(f"no {count} consecutive free ports found")


def test_the_next_free_port_is_taken_and_each_busy_one_reported() -> None:
    base = free_run(3)
    busy: list[tuple[int, int]] = []
    with held(range(base, base + 2)), bind_first_free("127.0.0.1", base, 3, lambda *p: busy.append(p)) as sock:
        assert sock.getsockname()[1] == base + 2
    assert busy == [(base, base + 1), (base + 1, base + 2)]


def test_every_port_in_use_is_one_error_naming_the_range() -> None:
    base = free_run(3)
    with held(range(base, base + 3)), pytest.raises(BindError) as info:
        bind_first_free("127.0.0.1", base, 3, lambda *p: None)
    assert info.value.strerror == (
        f"cannot listen on 127.0.0.1: ports {base} to {base + 2} are all in use. "
        "Pass a free one with --port, or stop the programs using them."
    )


def dev_without_port(project: Path, log: Path) -> subprocess.Popen[str]:
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "framework", "dev", "--root", str(project)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env(),
        )


def test_dev_without_port_takes_the_next_free_one_and_says_so(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "dev.log"
    with held(range(DEFAULT, DEFAULT + 1)):
        process = dev_without_port(project, log)
        try:
            banner = wait_for(
                lambda: re.search(r"ready in \d+ ms: http://127\.0\.0\.1:(\d+) ", log.read_text()), what="the banner"
            )
            port = int(banner.group(1))
            assert DEFAULT < port < DEFAULT + TRIES
            server = Server(process, port, log)
            wait_until_serving(server, 30)
            assert server.get("/ok").text == "ok"
        finally:
            stop(process)
    lines = log.read_text().splitlines()
    assert lines[0] == f"warning port {DEFAULT} is in use, trying {DEFAULT + 1} instead"
    assert f"http://127.0.0.1:{port} " in next(line for line in lines if "ready in" in line)


def test_dev_gives_up_after_ten_ports(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "dev.log"
    with held(range(DEFAULT, DEFAULT + TRIES)):
        process = dev_without_port(project, log)
        try:
            assert process.wait(timeout=60) == 1
        finally:
            stop(process)
    lines = log.read_text().splitlines()
    assert lines[:-1] == [f"warning port {p} is in use, trying {p + 1} instead" for p in range(DEFAULT, 3009)]
    assert lines[-1] == (
        f"framework dev: error: cannot listen on 127.0.0.1: ports {DEFAULT} to {DEFAULT + TRIES - 1} are all in use. "
        "Pass a free one with --port, or stop the programs using them."
    )


def test_dev_with_a_given_port_in_use_exits_1_without_trying_others(project: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_cli("dev", "--root", str(project), "--port", str(port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"framework dev: error: cannot listen on 127.0.0.1:{port}: Address already in use. "
        f"Pass another --port, or stop the program using it. Leave --port out to take the next free port from {DEFAULT}.\n"
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_start_with_its_port_in_use_exits_1_with_one_line(project: Path, workers: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_cli("start", "--root", str(project), "--port", str(port), "--workers", workers)
    assert result.returncode == 1
    assert result.stderr == (
        f"framework start: error: cannot listen on 127.0.0.1:{port}: Address already in use. "
        "Pass another --port, or stop the program using it.\n"
    )


def test_a_host_that_is_not_this_machine_says_so(project: Path) -> None:
    result = run_cli("start", "--root", str(project), "--host", "nosuch.invalid")
    assert result.returncode == 1
    assert result.stderr.startswith("framework start: error: cannot listen on nosuch.invalid:3000: ")
    assert "while attempting" not in result.stderr and result.stderr.count("\n") == 1
