"""Shared test helpers: real project trees on disk and real servers on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write `{relative path: source}` under `root` (sources are dedented); returns `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One HTTP request with the path sent exactly as given (http.client does not normalise it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    log_path: Path

    def get(self, path: str, **kw: object) -> Reply:
        return request(self.port, "GET", path, **kw)  # type: ignore[arg-type]

    def request(self, method: str, path: str, **kw: object) -> Reply:
        return request(self.port, method, path, **kw)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def run_framework(
    root: Path, command: str = "start", *args: str, ready_timeout: float = 30.0, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """Run `python -m framework <command> --root <root> --port <free>` and wait until it answers HTTP."""
    port = free_port()
    log_path = root.parent / f"{root.name}-{command}-{port}.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "framework", command, "--root", str(root), "--port", str(port), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env(**(env or {})),
        )
    server = Server(process, port, log_path)
    try:
        wait_until_serving(server, ready_timeout)
        yield server
    finally:
        stop(process)


@contextmanager
def run_uvicorn(project: Path, target: str, *args: str) -> Iterator[Server]:
    """Run `python -m uvicorn <target>` in `project` (an app built with `create_app`, maybe mounted) on a free port."""
    port = free_port()
    log_path = project.parent / f"uvicorn-{port}.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", target, "--port", str(port), *args],
            cwd=project,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env=subprocess_env(),
        )
    running = Server(process, port, log_path)
    try:
        wait_until_serving(running, 30)
        yield running
    finally:
        stop(process)


def wait_until_serving(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            request(server.port, "GET", "/__framework_probe__", timeout=2)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server did not answer within {timeout}s:\n{server.log()}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Completed:
    """What a command printed and returned, like `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> Completed:
    """`framework ARGS` to completion, in this process (click's runner), capturing output.

    What a command leaves behind is undone afterwards: modules imported from the project, `sys.path`
    entries, environment variables, the working directory and the framework's log handlers.
    """
    import logging

    from click.testing import CliRunner

    from framework.cli import main

    modules, path, environ, here = set(sys.modules), list(sys.path), dict(os.environ), os.getcwd()
    loggers = {name: list(logging.getLogger(name).handlers) for name in ("framework", "uvicorn", "uvicorn.error")}
    try:
        if cwd is not None:
            os.chdir(cwd)
        with CliRunner().isolation() as (out, err, _):
            code = main(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    finally:
        os.chdir(here)
        for name, handlers in loggers.items():
            logging.getLogger(name).handlers[:] = handlers
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(environ)
        for name in set(sys.modules) - modules:
            if _project_module(sys.modules[name]):
                del sys.modules[name]
    return Completed(code, stdout, stderr)


def _project_module(module: object) -> bool:
    """Imported from a project (a temp tree, the repository's app/ and lib/), not the framework or a package."""
    file = getattr(module, "__file__", None) or ""
    return not file.startswith((sys.prefix, sys.base_prefix, str(REPO / "framework")))


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate()` until it returns a truthy value or the deadline passes (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # e.g. connection refused while a server restarts
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def plugin_args() -> tuple[str, ...]:
    """`-p framework.check.pytest_plugin` unless the installed package already registers it via `pytest11`.

    Loading it both ways fails ("Plugin already registered under a different name"); in a plain checkout
    (PYTHONPATH only) the entry point does not exist, once `pip install -e .` ran it does.
    """
    from importlib.metadata import entry_points

    installed = any(ep.name == "framework" for ep in entry_points(group="pytest11"))
    return () if installed else ("-p", "framework.check.pytest_plugin")
