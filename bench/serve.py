"""Launch one benchmark server: `python -m bench.serve framework|starlette ROOT PORT`.

Both kinds run under the same `uvicorn.run` settings, so the app is the only difference.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

UVICORN_SETTINGS: dict[str, Any] = {
    "host": "127.0.0.1",
    "http": "httptools",
    "loop": "uvloop",
    "workers": 1,
    "access_log": False,
    "log_level": "warning",
}


def load_app(kind: str, root: Path) -> Any:
    """`framework`: `serving_app(root)` (as `framework start`); `starlette`: the generated `starlette_app.app` in `root`."""
    if kind == "framework":
        from framework.app import serving_app

        os.environ.setdefault("FRAMEWORK_ENV", "production")  # as `framework start` sets it

        return serving_app(root)  # what `framework start` serves, gc.freeze() included
    if kind == "starlette":
        sys.path.insert(0, str(root))
        import starlette_app  # type: ignore[import-not-found]

        return starlette_app.app
    raise SystemExit(f"bench.serve: unknown server kind {kind!r}; use framework or starlette")


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit("usage: python -m bench.serve framework|starlette ROOT PORT")
    import uvicorn

    kind, root, port = argv
    uvicorn.run(load_app(kind, Path(root).resolve()), port=int(port), **UVICORN_SETTINGS)


if __name__ == "__main__":
    main(sys.argv[1:])
