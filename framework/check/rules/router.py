"""`router-error`: the router's own verdict. The one impure part of the check: it imports user code.

Every other rule reads sources with `ast`. This one imports each `route.py` through the loader, as
the server does, because only an import shows a missing module or an exception at import time;
`isolated_imports` keeps one project's `lib` from answering for another's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from ...loader import Failure, load_route
from ..project import Project
from ..registry import ERROR, Hit, rule


@rule(
    "router-error",
    ERROR,
    "everything the router refuses: bad folder names, conflicting routes, a route.py beside a page.py, "
    "a route.py that fails to import",
)
def router_error(project: Project) -> Iterator[Hit]:
    """The server would refuse to start (or answer 500) with exactly this message.

    A route that imports but binds a method name to something not callable, or a WEBSOCKET to a plain
    function, is `route-exports`'s finding, which this rule also sees (the source alone cannot tell
    `GET = make()` apart).
    """
    for problem in project.tree.problems:
        yield Hit.of(problem)
    if not project.import_routes or not project.routes:
        return
    # A route printing at import time must not end up inside `--format json` output.
    with isolated_imports(project.root), redirect_stdout(sys.stderr):
        loaded = [load_route(project.root, route) for route in project.routes]
    for result in loaded:
        if isinstance(result, Failure):
            exports = result.problem.code in ("handler-not-callable", "websocket-not-async")
            yield Hit.of(result.problem, "route-exports" if exports else None)


@contextmanager
def isolated_imports(root: Path) -> Iterator[None]:
    """Import user modules with `root` first on `sys.path`; afterwards drop what they added.

    Modules named like something in `root` (`lib`, `app/api/x/route`) but loaded from another
    project are set aside meanwhile and put back after, so one project's `lib` never answers for
    another's. Third-party modules imported on the way stay imported, as any import leaves them.
    """
    local = {p.name.removesuffix(".py") for p in root.iterdir() if p.is_dir() or p.suffix == ".py"}

    def is_local(name: str) -> bool:
        return re.split(r"[./]", name, maxsplit=1)[0] in local

    saved = {name: module for name, module in sys.modules.items() if is_local(name)}
    for name, module in saved.items():
        if not _under(module, root):
            del sys.modules[name]
    saved_path = list(sys.path)

    def shadows(entry: str) -> bool:
        """Another folder on sys.path holding its own `lib` (a regular package beats our namespace one)."""
        base = Path(entry or ".").resolve()
        if base == root or any(base.is_relative_to(Path(pre).resolve()) for pre in {sys.prefix, sys.base_prefix}):
            return False  # installed packages and the standard library stay importable
        return any((base / n).is_dir() or (base / f"{n}.py").is_file() for n in local)

    sys.path[:] = [str(root), *(p for p in saved_path if not shadows(p))]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if is_local(n) and n not in saved]:
            del sys.modules[name]
        sys.modules.update(saved)


def _under(module: object, root: Path) -> bool:
    """The module was loaded from a file or package folder inside `root`."""
    places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    for place in filter(None, places):
        try:
            Path(place).resolve().relative_to(root)
            return True
        except (ValueError, OSError):
            continue
    return False
