"""`instrumentation.py` beside `app/` (Next.js's name and role): code that runs with the server, not per route.

Every part is optional:

```python
# instrumentation.py
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

async def register():  # once per process, before the first request (each --workers process runs it)
    ...

async def shutdown():  # once, when the process stops
    ...

def on_request_error(error, request, context):  # every unhandled handler error
    print(f"{context.method} {context.route} ({context.file}): {error!r}")

middleware = [Middleware(CORSMiddleware, allow_origins=["https://app.example"])]
```

| name               | when                                      | a failure                                           |
|--------------------|-------------------------------------------|-----------------------------------------------------|
| `register()`       | the ASGI lifespan's startup               | start: exit 1 naming file and line; dev: every request gets the error page until fixed |
| `shutdown()`       | the lifespan's shutdown                   | logged with the file                                |
| `on_request_error` | after a handler raised, before the 500 goes out | logged with the file; the 500 is sent all the same |
| `middleware`       | a list of Starlette `Middleware`, outside the router | not a list of Middleware: a load problem with file and line |

Sync functions run in the thread pool, async ones on the server's loop. Stdlib and Starlette only.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp

from .errors import Problem, location
from .loader import Failure, import_or_failure, is_async
from .locations import line_of, project_location

log = logging.getLogger("framework")

INSTRUMENTATION_FILE = "instrumentation.py"
HOOKS = ("register", "shutdown", "on_request_error")
NEXT_NAMES = {"onRequestError": "on_request_error", "instrument": "register"}  # what Next.js users may write
ENV_STARTUP_REPORT = "FRAMEWORK_STARTUP_REPORT"  # a file `framework start` reads when a worker failed to start


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """The third argument of `on_request_error(error, request, context)`: where the error happened.

    | field        | example                          | None when                                 |
    |--------------|----------------------------------|-------------------------------------------|
    | `route`      | `"/api/users/[id]"`              | no file route matched (the proxy, not_found.py on an unmatched URL) |
    | `file`       | `"app/api/users/[id]/route.py"`, `"proxy.py"`, `"app/not_found.py"` |  |
    | `method`     | `"GET"`, `"POST"`, `"WEBSOCKET"` |                                           |
    | `route_type` | `"route"`, `"proxy"`, `"not_found"` (Next.js's `routeType`) |                |
    """

    route: str | None
    file: str
    method: str
    route_type: str = "route"


@dataclass(frozen=True, slots=True)
class Instrumentation:
    """The loaded `instrumentation.py`: each hook (None when not defined) and its middleware."""

    file: str
    register: Callable[[], Any] | None = None
    shutdown: Callable[[], Any] | None = None
    on_request_error: Callable[[BaseException, HTTPConnection, ErrorContext], Any] | None = None
    middleware: tuple[Middleware, ...] = ()


InstrumentationLoad = tuple[Instrumentation | Failure | None, tuple[str, ...]]


def load_instrumentation(root: Path) -> InstrumentationLoad:
    """Import the root `instrumentation.py`, if any: (its hooks, or the Failure stopping it, or None; warnings)."""
    file = INSTRUMENTATION_FILE
    if not (root / file).is_file():
        return None, ()
    module = import_or_failure(root, file)
    if isinstance(module, Failure):
        return module, ()
    warnings = []
    for name in vars(module):
        meant = NEXT_NAMES.get(name) or next(iter(difflib.get_close_matches(name, HOOKS, n=1, cutoff=0.8)), None)
        if meant is not None and meant != name and not name.startswith("_"):
            warnings.append(f"{location(file, line_of(module, name))}: `{name}` is not read; did you mean `{meant}`?")
    hooks: dict[str, Any] = {}
    for name in HOOKS:
        value = getattr(module, name, None)
        if value is not None and not callable(value):
            return Failure(file, _problem(module, name, f"`{name}` is a {type(value).__name__}, not a function")), ()
        hooks[name] = value
    middleware = getattr(module, "middleware", [])
    if not isinstance(middleware, (list, tuple)) or not all(isinstance(m, Middleware) for m in middleware):
        bad = (
            middleware
            if not isinstance(middleware, (list, tuple))
            else next(m for m in middleware if not isinstance(m, Middleware))
        )
        return Failure(
            file,
            _problem(
                module, "middleware", f"`middleware` holds {type(bad).__name__} {bad!r:.60}, not a list of Middleware"
            ),
        ), ()
    return Instrumentation(file, middleware=tuple(middleware), **hooks), tuple(warnings)


def _problem(module: Any, name: str, what: str) -> Problem:
    fix = (
        "Write `middleware = [Middleware(CORSMiddleware, allow_origins=[...])]` "
        "(from starlette.middleware import Middleware)."
        if name == "middleware"
        else f"Define `def {name}(...): ...` (sync or async), or rename the variable."
    )
    return Problem("instrumentation-bad-value", f"{what}.", fix, (INSTRUMENTATION_FILE,), line_of(module, name))


async def call(func: Callable[..., Any], *args: Any) -> None:
    """Run a hook: awaited when async, in the thread pool when not."""
    if is_async(func):
        await func(*args)
    else:
        await run_in_threadpool(func, *args)


async def report_error(
    instrumentation: Instrumentation | None, error: BaseException, request: HTTPConnection, context: ErrorContext
) -> None:
    """`on_request_error(error, request, context)`, if defined; what it raises is logged with the file and
    swallowed, so the client still gets the original 500."""
    if instrumentation is None or instrumentation.on_request_error is None:
        return
    try:
        await call(instrumentation.on_request_error, error, request, context)
    except Exception:
        log.exception(
            "%s: on_request_error() raised while reporting %s from %s; the request was answered all the same",
            instrumentation.file,
            type(error).__name__,
            context.file,
        )


class StartupFailed(Exception):
    """`register()` raised under `framework start`: the server must not serve. The message is the problem."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure.problem))
        self.failure = failure


def register_failure(root: Path, file: str, exc: BaseException) -> Failure:
    """A `register()` that raised, as a Failure naming the innermost project file and line."""
    where, line = project_location(root, exc)
    where = where or file
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    problem = Problem(
        "register-failed",
        f"register() in {file} raised {detail}.",
        "Fix it and start again: register() runs once per process, before the first request.",
        (where,) if where == file else (where, file),
        line,
    )
    return Failure(file, problem, exc)


OnFailure = Callable[[Failure], ASGIApp]


class Lifecycle:
    """`register()` and `shutdown()` of the instrumentation a process serves with: each once per process
    (under `framework dev`, once per version of the file: a reload runs the old `shutdown()`, then the
    new `register()`).

    Without `on_failure` (start), a failing `register()` raises `StartupFailed`. With it (dev), the
    failure becomes `broken`, the error page answering every request until a version registers.
    """

    def __init__(self, root: Path, on_failure: OnFailure | None = None) -> None:
        self.root = root
        self.on_failure = on_failure
        self.running = False  # the lifespan has started and not stopped
        self.current: Instrumentation | None = None  # the version applied last
        self.registered = False  # its register() succeeded (or it has none): shutdown() runs
        self.broken: ASGIApp | None = None

    async def start(self, instrumentation: Instrumentation | None) -> None:
        self.running = True
        self.current, self.registered, self.broken = instrumentation, False, None
        if instrumentation is None:
            return
        try:
            if instrumentation.register is not None:
                await call(instrumentation.register)
        except Exception as exc:
            failure = register_failure(self.root, instrumentation.file, exc)
            if self.on_failure is None:
                _leave_report(str(failure.problem))
                raise StartupFailed(failure) from exc
            self.broken = self.on_failure(failure)
            return
        self.registered = True

    async def stop(self) -> None:
        self.running = False
        instrumentation, registered, self.registered = self.current, self.registered, False
        if not registered or instrumentation is None or instrumentation.shutdown is None:
            return
        try:
            await call(instrumentation.shutdown)
        except Exception:
            log.exception("%s: shutdown() raised", instrumentation.file)

    async def switch(self, instrumentation: Instrumentation | None) -> None:
        """framework dev: a table with another version of the file is about to be served."""
        if instrumentation is self.current:
            return
        if not self.running:  # before the lifespan: start() registers whatever is served then
            self.current = instrumentation
            return
        await self.stop()
        await self.start(instrumentation)


def _leave_report(text: str) -> None:
    """For `framework start`: the problem in the file it named, so a worker's failure reaches the parent."""
    path = os.environ.get(ENV_STARTUP_REPORT)
    if path:
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            pass
