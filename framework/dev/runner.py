"""Run `framework dev`: uvicorn plus the watch loop in one process, on a socket that outlives the process.

Reloads happen in the process: the next table is built in a worker thread while the current one
keeps serving, then swapped in with one assignment. Only a change that cannot be applied in
process (pyproject.toml, the framework's own source) restarts: the process stops serving
gracefully and replaces itself with `os.execv`, keeping the listening socket open across the exec
(it is inheritable and its number travels in FRAMEWORK_DEV_FD). Connections arriving meanwhile
wait in the kernel's accept queue, so none is refused. One process and one pid throughout, so
Ctrl+C and SIGTERM need no forwarding and nothing is left orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from watchfiles import Change

from ..apidocs import docs_routes
from ..application import FrameworkApp, starlette_app
from ..config import load_env_file, load_settings, project_root, publish_url_settings
from ..endpoints import Endpoint, SocketWatch
from ..limits import uvicorn_options
from ..loader import Failure
from ..settings import Settings
from .errorpage import report_app, report_exception, report_problem
from .hints import dev_exception_handlers
from .hosts import allowed_names, host_guard, is_loopback
from .plan import Plan, plan, relative
from .ports import TRIES, bind, bind_first_free
from .reloader import Outcome, Reloader
from .requestlog import request_log
from .terminal import Console
from .treepage import tree_error_page
from .watch import (
    DEBOUNCE_MS,
    STEP_MS,
    WATCH_HINT,
    DevFilter,
    changed_since,
    framework_source,
    saved_since,
    watcher,
)

ENV_FD = "FRAMEWORK_DEV_FD"
ENV_RESTARTED = "FRAMEWORK_DEV_RESTARTED"  # "<file>:<epoch seconds>" of the change that caused a restart
ACCEPTED_GRACE_S = 0.1
WATCH_AFTER_S = 0.1  # with no request by then, install the watches anyway
FOLLOW_UP_S = 0.25  # a second look at app/ after a folder change, for a file event the OS did not deliver


def listening_socket(host: str, port: int, on_busy: Callable[[int, int], None] | None = None) -> socket.socket:
    """The socket inherited across a restart, or a new one bound to host:port (inheritable, for the next exec);
    with `on_busy`, a port in use is reported to it and the next ones are tried (`ports.bind_first_free`)."""
    inherited = os.environ.get(ENV_FD)
    if inherited:
        sock = socket.socket(fileno=int(inherited))
    else:
        sock = bind(host, port) if on_busy is None else bind_first_free(host, port, TRIES, on_busy)
        os.environ[ENV_FD] = str(sock.fileno())
    sock.set_inheritable(True)
    return sock


def noting_answers(app: ASGIApp, answered: asyncio.Event) -> ASGIApp:
    """Set `answered` once a request (HTTP or WebSocket) has been answered: the watches wait for it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            if scope["type"] != "lifespan":
                answered.set()

    return wrapped


def one_line_errors(app: ASGIApp, root: Path, console: Console) -> ASGIApp:
    """Print one line per handler exception (the page was already sent by Starlette's 500 handler)
    instead of uvicorn's full traceback in the terminal.

    A WebSocket's exception before the handshake was answered refuses it with the page (500); after,
    `endpoints.websocket_app` has already closed the socket with 1011."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        watch = SocketWatch(receive, send) if scope["type"] == "websocket" else None
        try:
            if watch is None:
                await app(scope, receive, send)
            else:
                await app(scope, watch.receive, watch.send)
        except Exception as exc:
            if scope["type"] == "http":
                console.error(report_exception(root, exc), f" ({scope.get('method')} {scope.get('path')})")
            elif watch is not None:
                report = report_exception(root, exc)
                console.error(report, f" (WebSocket {scope.get('path')})")
                if not watch.answered:
                    await report_app(report)(scope, receive, send)
            else:
                raise

    return wrapped


class _Uvicorn(uvicorn.Server):
    """uvicorn's server without its habit of re-raising SIGINT/SIGTERM after a graceful stop:
    we decide after `serve()` returns whether to exit or exec."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting first, then give connections accepted a moment ago time to send their request:
        uvicorn closes connections with no request under way, and one just accepted has none yet."""
        for server in getattr(self, "servers", []):
            server.close()
        await asyncio.sleep(ACCEPTED_GRACE_S)
        await super().shutdown(sockets)


def framework_imports() -> str | None:
    """Before a restart: can a fresh interpreter import the framework? The error when it cannot."""
    result = subprocess.run(
        [sys.executable, "-c", "import framework.cli, framework.dev.runner"], capture_output=True, text=True, timeout=60
    )
    if result.returncode == 0:
        return None
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"


class DevServer:
    """uvicorn and the watch loop for `root`; `log_requests` prints a line per request (`requestlog.py`),
    `try_next_ports` takes the next free port when `port` is in use (`ports.py`)."""

    def __init__(
        self,
        root: Path,
        host: str,
        port: int,
        console: Console,
        settings: Settings | None = None,
        *,
        log_requests: bool = True,
        try_next_ports: bool = False,
    ) -> None:
        self.root = root
        self.log_requests = log_requests
        self.try_next_ports = try_next_ports
        self.host, self.port = host, port
        self.settings = dataclasses.replace(settings or Settings(), dev=True)  # no response cache in dev
        self.console = console
        self.framework_dir = framework_source()
        self.filter = DevFilter(root, self.framework_dir)
        self.reloader = Reloader(root, self.settings)
        self.restart_file: str | None = None
        self.stop = asyncio.Event()
        self.answered = asyncio.Event()  # set once the first request has been answered
        self.watching = asyncio.Event()  # set once the watches are in place (or could not be)
        self.follow_up: asyncio.Task[None] | None = None
        self.look_in: set[str] = set()  # folders (relative) the follow-up looks in
        self.swapping = asyncio.Lock()
        self.app: FrameworkApp | None = None
        self.server: _Uvicorn | None = None
        self.bound = host
        self.frozen = False  # the first table is frozen (`_thaw`)

    def run(self) -> int:
        started = time.perf_counter()
        restarted = os.environ.pop(ENV_RESTARTED, None)
        sock = listening_socket(self.host, self.port, self._port_in_use if self.try_next_ports else None)
        self.bound = str(sock.getsockname()[0])
        self.port = int(sock.getsockname()[1])  # the port actually used: the next free one, or the inherited one
        self.reloader.lazy_report = self._imported
        first = self.reloader.start()
        gc.freeze()  # see `_thaw`
        self.frozen = True
        assert first.table is not None  # the first reload always builds a table (a tree error gets its own)
        self.app = starlette_app(
            self.root,
            first.table,
            self.settings,
            self._register_failed,
            exception_handlers=dev_exception_handlers(),
            routes=docs_routes(self.settings),
        )
        served = one_line_errors(tree_error_page(self.app, lambda: self.reloader.tree_error), self.root, self.console)
        served = noting_answers(served, self.answered)
        if self.log_requests:  # one line per request, printed after the error line a failing one gets
            served = request_log(served, self.console)
        # The Host check is the outermost layer: a refused request reaches nothing, not even the terminal.
        served = host_guard(served, allowed_names((self.host, self.bound), self.settings.allowed_hosts))
        config = uvicorn.Config(
            served,
            log_level="warning",
            access_log=False,
            server_header=False,
            lifespan="auto",
            **uvicorn_options(self.settings),
        )
        self.server = _Uvicorn(config)
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(self._main(sock, first, started, restarted))
        self._thaw()
        if self.restart_file is not None:
            self._exec()
        self.console.line("framework dev stopped")
        return 0

    def _thaw(self) -> None:
        """The first table is built with the collector paused and then frozen (`gc.freeze`), as `framework
        start` does: left young, the first collection would walk all of it (22 ms at 10,000 routes) before
        the first answer. Once a reload replaces it, or the server stops, it is handed back to the collector."""
        if self.frozen:
            self.frozen = False
            gc.unfreeze()

    def _imported(self, result: Failure | Endpoint) -> None:
        """A route of the first table imported on demand: its problem or its warnings in the terminal."""
        if isinstance(result, Failure):
            report = report_problem(self.root, result.problem, result.error)
            self.console.error(report, " (this route answers 500 until fixed)")
        else:
            for warning in result.warnings:
                self.console.warning(warning)

    def _port_in_use(self, port: int, then: int) -> None:
        self.console.warning(f"port {port} is in use, trying {then} instead")

    async def _main(self, sock: socket.socket, first: Outcome, started: float, restarted: str | None) -> None:
        assert self.server is not None
        serving = asyncio.create_task(self.server.serve(sockets=[sock.dup()]))
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.005)
        watching: asyncio.Task[None] | None = None
        if self.server.started:
            self._banner(first, started, restarted)
            with contextlib.suppress(TimeoutError):  # the first request first: see `_watch`
                await asyncio.wait_for(self.answered.wait(), WATCH_AFTER_S)
            watching = asyncio.create_task(self._watch())
            await self.watching.wait()
            await asyncio.to_thread(self.reloader.warm)
        try:
            await serving
        finally:
            self.stop.set()
            if self.follow_up is not None:
                self.follow_up.cancel()
            if watching is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await watching

    def _banner(self, first: Outcome, started: float, restarted: str | None) -> None:
        ms = (time.perf_counter() - started) * 1000
        why = None
        if restarted:
            file, _, at = restarted.rpartition(":")
            with contextlib.suppress(ValueError):
                ms = (time.time() - float(at)) * 1000
            why = file
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.console.banner(f"http://{host}:{self.port}", first.routes, ms, str(self.root), why)
        if not is_loopback(self.bound):
            self.console.warning(
                f"listening on {self.host}{f' ({self.bound})' if self.bound != self.host else ''}, which other "
                "machines can reach: the dev error page "
                f"shows source code and file paths to anyone who can reach port {self.port}. Use the default "
                "--host 127.0.0.1 unless you need this; requests are answered only for the Host names "
                "localhost, 127.0.0.1, ::1, the --host address and each --allowed-host NAME."
            )
        for warning in first.warnings:
            self.console.warning(warning)
        for failure in first.failures:
            self.console.error(failure, " (this route answers 500 until fixed)")
        if first.tree_error is not None:
            self.console.tree_error(first.tree_error, serving=False)

    async def _watch(self) -> None:
        """Install the watches, reload what was saved since the first walk began (`watch.saved_since`), then
        reload on each batch of events until the server stops.

        This starts once the first request has been answered, or WATCH_AFTER_S after the port opened with
        none: installing watches holds the GIL (0.3-0.4 s for the 30,000 folders of a 10,000-route tree),
        time the first answer should not wait for. A file saved meanwhile is found by its mtime."""
        try:
            notify = await asyncio.to_thread(watcher, self.filter.paths())
        except OSError as exc:
            self.console.failure(f"framework dev cannot watch {self.root} for changes ({exc}); {WATCH_HINT}")
            return
        finally:
            self.watching.set()  # the warm-up may start: a route saved since the walk is left to the reload below
        with notify:
            # path -> the mtime the catch-up reload below reads it at
            applied = await asyncio.to_thread(saved_since, self.reloader.started_at, self.filter)
            if applied:
                await self.handle(set(applied))
            while self.restart_file is None:
                raw = await asyncio.to_thread(notify.watch, DEBOUNCE_MS, STEP_MS, 0, self.stop)
                if raw == "stop":
                    return
                if isinstance(raw, set) and (paths := {p for c, p in raw if self.filter(Change(c), p)}):
                    if applied:  # a save made while the watches went in: its event follows the catch-up reload
                        paths = await asyncio.to_thread(changed_since, paths, applied)
                    if paths:
                        await self.handle(paths)

    async def handle(self, paths: set[str]) -> None:
        """One batch of changes. A failure here is the framework's, not the project's: say so and keep watching."""
        try:
            await self._handle(paths)
        except Exception as exc:  # never let one bad batch stop the reloading for the rest of the session
            self.console.failure(
                f"framework dev could not apply {', '.join(sorted(paths))[:200]}: {type(exc).__name__}: {exc}"
            )

    async def _handle(self, paths: set[str]) -> None:
        todo = plan(paths, self.root, self.framework_dir)
        if todo.restart:
            await self._restart(todo.restart)
            return
        if todo.empty:
            return
        await self._apply(todo)
        if todo.folders:
            self.look_in |= {
                rel
                for p in paths
                if (rel := relative(p, self.root)) and rel.startswith("app/") and not rel.endswith(".py")
            }
            if self.follow_up is None or self.follow_up.done():
                self.follow_up = asyncio.create_task(self._look_again())

    async def _apply(self, todo: Plan) -> None:
        async with self.swapping:  # tables are swapped in the order they were built
            outcome = await asyncio.to_thread(self.reloader.apply, todo)
            if outcome.table is not None:
                await self.app.swap(outcome.table)  # type: ignore[union-attr]  # hooks, then the table: one assignment
                self._thaw()
        self.console.report(outcome, serving=self.reloader.manifest is not None)

    def _register_failed(self, failure: Failure) -> ASGIApp:
        """instrumentation.py's register() raised: one terminal line, and the page every request gets."""
        report = report_problem(self.root, failure.problem, failure.error)
        self.console.error(report, " (every request answers 500 until fixed)")
        return report_app(report)

    async def _look_again(self) -> None:
        """A moment after folders changed, look inside them (not the whole tree) for a route file
        whose event the OS never delivered; walk the tree only if one is there."""
        await asyncio.sleep(FOLLOW_UP_S)
        folders, self.look_in = self.look_in, set()
        if await asyncio.to_thread(self.reloader.unseen, folders):
            await self._apply(Plan(rescan=True, folders=True, tree=frozenset(folders)))

    async def _restart(self, file: str) -> None:
        problem = await asyncio.to_thread(framework_imports)
        if problem is not None:
            self.console.failure(
                f"cannot restart after {file} changed: the framework does not import "
                f"({problem}); still serving the old code"
            )
            return
        self.console.restart(file)
        self.restart_file = file
        assert self.server is not None
        self.server.should_exit = True

    def _exec(self) -> None:
        os.environ[ENV_RESTARTED] = f"{self.restart_file}:{time.time()}"
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run_dev(root: Path, host: str, port: int, settings: Settings | None = None, **options: bool) -> int:
    """Serve `root` for development; `options` are DevServer's (`log_requests`, `try_next_ports`)."""
    root = project_root(root)
    settings = settings or load_settings(root).settings
    publish_url_settings(settings)
    load_env_file(root, settings)
    return DevServer(root, host, port, Console(), settings, **options).run()
