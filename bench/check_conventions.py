"""How long `framework check` takes as a project grows: N routes, each with a controller and a builder.

    python bench/check_conventions.py 100 500 1000

Prints, per size, the median of 5 runs of `check_project` with the router's import step and without it
(`imports=False`, the ast rules only). Figures go in the report, never in assertions.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from framework.check import check_project


def make_project(root: Path, n: int) -> None:
    builders = ["from framework.urls import route_url\n"]
    for i in range(n):
        folder = root / "app" / "api" / f"item{i}" / "[id]"
        folder.mkdir(parents=True)
        (folder / "route.py").write_text(
            "from starlette.responses import RedirectResponse, PlainTextResponse\n"
            f"from lib.controllers.c{i} import act\n"
            "from lib.urls import get_home_url\n\n\n"
            "def GET(request, context):\n"
            "    result = act(context.params['id'])\n"
            "    if result.error:\n"
            "        return PlainTextResponse(result.error.status_text, status_code=result.error.status)\n"
            "    return RedirectResponse(get_home_url())\n",
            encoding="utf-8",
        )
        ctrl = root / "lib" / "controllers" / f"c{i}.py"
        ctrl.parent.mkdir(parents=True, exist_ok=True)
        ctrl.write_text(
            "from framework.controllers import Result\n\n\ndef act(id):\n    return Result(data=id)\n", encoding="utf-8"
        )
        builders.append(f"\n\ndef get_item{i}_url(id):\n    return route_url('/api/item{i}/[id]', {{'id': id}})\n")
    (root / "app" / "route.py").write_text("def GET(request): ...\n", encoding="utf-8")
    builders.append("\n\ndef get_home_url():\n    return route_url('/')\n")
    (root / "lib" / "urls").mkdir(parents=True)
    (root / "lib" / "__init__.py").write_text("", encoding="utf-8")
    (root / "lib" / "controllers" / "__init__.py").write_text("", encoding="utf-8")
    (root / "lib" / "urls" / "__init__.py").write_text("".join(builders), encoding="utf-8")


def median_seconds(root: Path, imports: bool, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        report = check_project(root, imports=imports)
        times.append(time.perf_counter() - start)
        assert not report.findings, report.findings[:3]
    return statistics.median(times)


def main(sizes: list[int]) -> None:
    print(f"{'routes':>7}  {'with imports':>12}  {'ast only':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_project(root, n)
            full, ast_only = median_seconds(root, True), median_seconds(root, False)
            print(f"{n:>7}  {full * 1000:>10.0f}ms  {ast_only * 1000:>7.0f}ms")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 500])
