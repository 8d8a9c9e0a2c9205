"""The benchmark's own machinery at a tiny size: generators, servers, wrk and callgrind parsing, ratios, CLI checks.

The parser reads outputs recorded from real wrk 4.1.0 runs (tests/data/). The peer and typed parts run at
a tiny size (1 round of 1 s) with wrk: skipped without it (`apt-get install -y wrk`), except in CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import gen, harness, run
from bench.harness import WrkResult

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("wrk-health.txt", WrkResult(5199.29, 10.21, 35.11, 5258, 0)),
        ("wrk-404.txt", WrkResult(5627.52, 2.08, 97.34, 5630, 5630)),
    ],
)
def test_parse_wrk_reads_recorded_output(sample: str, expected: WrkResult) -> None:
    assert harness.parse_wrk((DATA / sample).read_text()) == expected


@pytest.mark.parametrize(
    ("line", "p50_ms"),
    [("     50%  812.00us", 0.812), ("     50%    1.50s", 1500.0), ("     50%    2.00m", 120000.0)],
)
def test_parse_wrk_converts_latency_units(line: str, p50_ms: float) -> None:
    text = (DATA / "wrk-health.txt").read_text().replace("     50%   10.21ms", line)
    assert harness.parse_wrk(text).p50_ms == pytest.approx(p50_ms)


def test_parse_wrk_counts_socket_errors() -> None:
    text = (
        (DATA / "wrk-health.txt")
        .read_text()
        .replace("  5258 requests in", "  Socket errors: connect 1, read 2, write 3, timeout 4\n  5258 requests in")
    )
    assert harness.parse_wrk(text).errors == 10


def test_parse_wrk_refuses_output_without_latency_distribution() -> None:
    with pytest.raises(ValueError, match="--latency"):
        harness.parse_wrk("Running 1s test @ http://127.0.0.1:1/\nRequests/sec: 10.0\n")


@pytest.mark.parametrize(
    ("folder", "path"),
    [
        ("api/health", "/api/health"),
        ("api/users/[id]", "/api/users/{id}"),
        ("g2/[org]/orders/[order]", "/g2/{org}/orders/{order}"),
        ("g3/files/[...path]", "/g3/files/{path:path}"),
    ],
)
def test_starlette_path(folder: str, path: str) -> None:
    assert gen.starlette_path(folder) == path


def test_scaling_routes_mix_and_target_last() -> None:
    routes = gen.scaling_routes(9)
    assert len(routes) == 9
    assert [r.folder for r in routes[:4]] == [
        "g0/items",
        "g1/items/[id]",
        "g2/[org]/orders/[order]",
        "g3/files/[...path]",
    ]
    assert routes[-1] == gen.GenRoute("api/users/[id]", "/api/users/42")
    assert len({r.folder for r in routes}) == 9
    assert gen.scaling_routes(1) == [gen.GenRoute("api/users/[id]", "/api/users/42")]


def test_both_generated_apps_serve_the_same_answers(tmp_path: Path) -> None:
    """5 generated routes (all four shapes + the target) plus health, served by real uvicorn servers."""
    routes = [*gen.scaling_routes(5), gen.GenRoute("api/health", gen.HEALTH_URL)]
    root = gen.write_project(tmp_path / "project", routes)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("route.py")) == sorted(
        f"app/{r.folder}/route.py" for r in routes
    )
    expected = {
        "/g0/items": {"route": "g0/items", "params": {}},
        "/g1/items/7": {"route": "g1/items/[id]", "params": {"id": "7"}},
        "/g2/acme/orders/9": {"route": "g2/[org]/orders/[order]", "params": {"org": "acme", "order": "9"}},
        "/g3/files/a/b.txt": {"route": "g3/files/[...path]", "params": {"path": ["a", "b.txt"]}},
        "/api/users/42": {"id": "42"},
        "/api/health": {"status": "ok"},
    }
    answers: dict[str, dict[str, object]] = {}
    for kind in ("framework", "starlette"):
        with harness.python_server(kind, root, tmp_path, gen.TARGET_URL, timeout=60) as server:
            assert server.peak_rss_mb() > 10  # VmHWM read from /proc: a real, resident Python process
            answers[kind] = {}
            for url in expected:
                status, body = harness.get(server.port, url)
                answers[kind][url] = {"status": status, "body": json.loads(body)}
            assert harness.get(server.port, "/g0/nope")[0] == 404
        assert server.process.poll() is not None, "the server must be stopped when the block ends"
    assert answers["framework"] == answers["starlette"]
    assert answers["framework"] == {url: {"status": 200, "body": body} for url, body in expected.items()}


def test_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    port = harness.free_port()
    command = [sys.executable, "-c", "import sys; print('boom: no app here'); sys.exit(3)"]
    with (
        pytest.raises(harness.BenchError, match=r"(?s)exited with 3.*boom: no app here"),
        harness.server("broken", command, port, "/", tmp_path, timeout=30),
    ):
        pass


def _wrk(rps: float) -> WrkResult:
    return WrkResult(rps, 1.0, 2.0, int(rps), 0)


def test_load_rows_medians_ranges_and_ratios_per_pair() -> None:
    samples = {"framework": [_wrk(100), _wrk(300), _wrk(200)], "starlette": [_wrk(100), _wrk(150), _wrk(400)]}
    rows = {r["server"]: r for r in run.load_rows("static", samples)}
    assert rows["framework"]["rps"] == {"median": 200, "min": 100, "max": 300}
    assert rows["framework"]["ratio_vs_starlette_per_pair"] == [1.0, 2.0, 0.5]
    assert rows["framework"]["ratio_vs_starlette"] == {"median": 1.0, "min": 0.5, "max": 2.0}
    assert "ratio_vs_starlette" not in rows["starlette"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "speed"], "unknown part(s) speed"),
        (["--only", "nextjs"], "needs --with-nextjs"),
        (["--sizes", "1,x"], "comma-separated integers"),
    ],
)
def test_bad_arguments_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run.parse_args(argv)
    assert message in str(exc.value) + capsys.readouterr().err
    assert exc.value.code not in (0, None)


def test_quick_defaults() -> None:
    args = run.parse_args(["--quick"])
    assert (args.rounds, args.duration, args.sizes, args.startup_sizes) == (2, 1.0, [1, 100, 1000], [1, 1000])
    assert args.parts == {"throughput", "scaling", "startup", "profile", "reload"}


def test_missing_wrk_fails_with_the_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no wrk on PATH
    assert run.main(["--only", "throughput", "--out", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert "`wrk` is not installed" in err and "apt-get install -y wrk" in err
    assert not (tmp_path / "results").exists()


def test_server_env_writes_bytecode_and_finds_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = harness.env()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert str(harness.REPO) in env["PYTHONPATH"].split(os.pathsep)


def test_wait_idle_sees_a_busy_process_group_then_an_idle_one() -> None:
    """CPU ticks are read per process group from /proc: a spinning server counts, a sleeping one is idle."""
    import subprocess

    from tests.helpers import wait_for

    spin = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 30\nwhile time.time() < end: pass"],
        start_new_session=True,
    )
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        first = harness.group_cpu_ticks(spin.pid)
        wait_for(lambda: harness.group_cpu_ticks(spin.pid) > first + 5, timeout=20, what="spinning group's CPU ticks")
        assert harness.wait_idle(sleeper.pid, timeout=10) < 10
    finally:
        harness.stop(spin)  # type: ignore[arg-type]
        harness.stop(sleeper)  # type: ignore[arg-type]
    assert spin.poll() is not None and sleeper.poll() is not None


def reload_report(rows: list[dict[str, Any]]) -> str:
    """`run.markdown` of a result holding only `rows` as the reload part."""
    machine = {"cpu": "x", "nproc": "2", "python": "3", "starlette": "s", "uvicorn": "u", "wrk": "w"}
    return run.markdown(
        {
            "started": "t",
            "command": "c",
            "settings": {},
            "elapsed_s": 1.0,
            "reload": rows,
            "machine": {**machine, "loadavg_at_start": ["0", "0", "0"]},
        }
    )


def test_reload_rows_from_a_reload_module_appear_in_the_report(tmp_path: Path) -> None:
    """`bench/reload.py` arrives with the dev server; any module with `run(trials)` is called and reported."""
    stand_in = tmp_path / "reload.py"
    stand_in.write_text(
        "def run(trials=10):\n"
        "    return [{'scenario': 'new route', 'server': 'framework dev', 'samples_ms': [float(t) for t in range(trials)],\n"
        "             'median_ms': 41.0, 'p95_ms': 77.0}]\n"
    )
    args = run.parse_args(["--reload-trials", "4"])
    rows = run.part_reload(args, stand_in)
    assert rows == [
        {
            "scenario": "new route",
            "server": "framework dev",
            "samples_ms": [0.0, 1.0, 2.0, 3.0],
            "median_ms": 41.0,
            "p95_ms": 77.0,
        }
    ]
    report = reload_report(rows)
    assert "| new route | framework dev | 41 | 77 | 4 / 4 |" in report
    assert run.part_reload(args, tmp_path / "absent.py") is None


def test_reload_module_with_wrong_rows_is_reported(tmp_path: Path) -> None:
    stand_in = tmp_path / "reload.py"
    stand_in.write_text("def run(trials=10):\n    return [{'scenario': 'x', 'server': 'y'}]\n")
    with pytest.raises(harness.BenchError, match=r"lack.*median_ms"):
        run.part_reload(run.parse_args([]), stand_in)


def test_spy_summary_own_and_inclusive_shares() -> None:
    raw = (
        "<module> (a.py:1);run (a.py:5);app (routing.py:221) 6\n"
        "<module> (a.py:1);run (a.py:5) 3\n"
        "<module> (a.py:1);other (b.py:2);app (routing.py:221) 1\n"
    )
    summary = run.spy_summary(raw)
    assert summary["samples"] == 10
    assert summary["own_pct"] == [["app", 70.0], ["run", 30.0]]
    assert dict(summary["inclusive_pct"]) == {
        "<module>": 100.0,
        "run": 90.0,
        "app": 70.0,
        "other": 10.0,
    }


def test_a_server_that_never_showed_the_change_reads_never_seen() -> None:
    rows = [
        {
            "scenario": "new route",
            "server": "uvicorn --reload",
            "samples_ms": [],
            "median_ms": None,
            "p95_ms": None,
            "missed": 10,
        }
    ]
    report = reload_report(rows)
    assert "| new route | uvicorn --reload | never seen | never seen | 0 / 10 |" in report


def test_bench_limits_in_process_cost_and_table_at_a_tiny_size() -> None:
    """`python -m bench.limits`' in-process part runs every variant (no wrk needed) and its table reads samples."""
    from bench import limits

    micro = limits.per_request_us(requests=50, batches=1)
    assert set(micro) == set(limits.VARIANTS)
    assert all(0 < us[mode] < 100_000 for us in micro.values() for mode in limits.MODES)
    samples = {name: {mode: [1000.0, 2000.0, 3000.0] for mode in limits.MODES} for name in limits.VARIANTS}
    samples["limited"] = {mode: [900.0, 1800.0, 2700.0] for mode in limits.MODES}
    table = limits.table(samples)
    assert "| `limited`: " in table and "| 1,800 | 0.90 | 1,800 | 0.90 |" in table


def test_bench_route_config_project_has_each_slow_handler_with_and_without_the_cache(tmp_path: Path) -> None:
    """`python -m bench.route_config` loads what it names: the `-cached` twins alone answer from the cache."""
    from starlette.testclient import TestClient

    from bench import route_config
    from framework import create_app

    route_config.write_project(tmp_path)
    with TestClient(create_app(tmp_path)) as client:
        for folder in route_config.CASES.values():
            labels = [client.get(f"/{folder}").headers.get("x-framework-cache") for _ in range(2)]
            assert labels == (["MISS", "HIT"] if folder.endswith("-cached") else [None, None])


# --- the peer table and typed validation (bench/peers.py, bench/typed.py) ---------------------------

# Load tests run wrk: skipped where it is missing, except in CI, whose .ci/run installs it.
needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None and not os.environ.get("CI"),
    reason="wrk is not installed: apt-get install -y wrk (CI's .ci/run installs it)",
)

ROW_KEYS = {"server", "fillers", "endpoint", "app", "rps", "p50_ms", "p99_ms", "errors", "samples_rps", "vs"}


def _load_module(path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import the file at `path` as module `name` (in sys.modules until the test ends: Litestar looks it up)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_every_peer_app_answers_every_generated_url_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The FastAPI and Litestar modules bench/peers.py writes hold the same routes as Starlette's and the
    framework's app/ (all four filler shapes and both endpoints), answering the same JSON; the bare
    callable answers the two endpoints and 404s the rest."""
    from starlette.testclient import TestClient

    from bench import bare_app, peers
    from framework import create_app

    routes = peers.peer_routes(4)
    root = peers.write_project(tmp_path / "project", routes)
    apps = {
        "bare": bare_app.app,
        "framework": create_app(root),
        **{
            name: _load_module(root / f"{name}_app.py", f"peer_{name}_app", monkeypatch).app
            for name in ("starlette", "fastapi", "litestar")
        },
    }
    answers: dict[str, dict[str, Any]] = {}
    for name, app in apps.items():
        with TestClient(app) as client:
            answers[name] = {}
            for route in routes:
                reply = client.get(route.url)
                answers[name][route.url] = (reply.status_code, reply.json())
            assert client.get("/nope/7").status_code == 404
    assert answers["framework"]["/g3/files/a/b.txt"] == (
        200,
        {"route": "g3/files/[...path]", "params": {"path": ["a", "b.txt"]}},
    )
    for name in ("starlette", "fastapi", "litestar"):
        assert answers[name] == answers["framework"], name
    assert answers["bare"] == {
        url: answers["framework"][url] if url in peers.EXPECTED else (404, {"detail": "Not Found"})
        for url in answers["framework"]
    }
    assert {url: answers["framework"][url] for url in peers.EXPECTED} == {
        url: (200, body) for url, body in peers.EXPECTED.items()
    }


@pytest.mark.parametrize(
    ("folder", "path"),
    [
        ("g1/items/[id]", "/g1/items/{id:str}"),
        ("g3/files/[...path]", "/g3/files/{path:path}"),
        ("api/health", "/api/health"),
    ],
)
def test_litestar_path(folder: str, path: str) -> None:
    from bench import peers

    assert peers.litestar_path(folder) == path


def test_peer_rows_ratios_to_every_other_app_per_round() -> None:
    from bench import peers

    samples = {"bare": [_wrk(400), _wrk(300)], "framework": [_wrk(200), _wrk(300)], "fastapi": [_wrk(100), _wrk(100)]}
    rows = {r["app"]: r for r in peers.rows_of(samples, server="uvicorn", fillers=0, endpoint="static")}
    assert set(rows["framework"]) == ROW_KEYS
    assert rows["framework"]["rps"] == {"median": 250, "min": 200, "max": 300}
    assert rows["framework"]["vs"] == {
        "bare": {"median": 0.75, "min": 0.5, "max": 1.0},
        "fastapi": {"median": 2.5, "min": 2.0, "max": 3.0},
    }
    assert set(rows["bare"]["vs"]) == {"framework", "fastapi"}
    # what the app adds to the bare callable's time per request: 1/200 - 1/400 s and 0, median 1,250 µs
    assert peers.over_bare_us(rows["framework"], list(rows.values())) == pytest.approx(1250.0)
    assert peers.over_bare_us(rows["bare"], list(rows.values())) is None


def test_typed_cost_is_the_difference_of_the_per_request_times() -> None:
    from bench import typed

    samples = {"fastapi": {"typed": [_wrk(1000), _wrk(2000)], "untyped": [_wrk(2000), _wrk(2000)]}}
    (cost,) = typed.costs(samples)
    assert cost["typed_over_untyped"] == {"median": 0.75, "min": 0.5, "max": 1.0}
    assert cost["extra_us"] == {"median": 250.0, "min": 0.0, "max": 500.0}  # 1/1000 s - 1/2000 s = 500 µs


@pytest.mark.parametrize(
    ("argv", "parts"),
    [
        (["peers"], {"peers", "typed"}),
        (["peers", "--only", "typed"], {"typed"}),
        ([], {"throughput", "scaling", "startup", "profile", "reload"}),
    ],
)
def test_peers_preset_and_opt_in_parts(argv: list[str], parts: set[str]) -> None:
    args = run.parse_args(argv)
    assert args.parts == parts
    assert (args.peer_rounds, args.peer_duration, args.rounds, args.duration) == (3, 5.0, 5, 3.0)
    assert (args.servers, args.fillers) == (["uvicorn", "granian"], [0, 2000])
    shown = run.settings(args)  # the report's settings line names the rounds of the parts that run
    assert ("peers_rounds" in shown, "rounds" in shown) == (bool(parts & {"peers", "typed"}), "scaling" in parts)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["peers", "--servers", "hypercorn"], "unknown server(s) hypercorn"),
        (["peers", "--apps", "flask"], "unknown app(s) flask"),
    ],
)
def test_bad_peer_arguments_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(argv)
    assert message in capsys.readouterr().err


def test_a_framework_path_without_the_package_is_refused(tmp_path: Path) -> None:
    from bench import peers

    with pytest.raises(harness.BenchError, match=r"no framework/__init__\.py"):
        peers.checkouts([str(tmp_path)])
    (this,) = peers.checkouts(None)
    assert (this.name, this.path) == ("framework", harness.REPO)
    names = [c.name for c in peers.checkouts([f"before={harness.REPO}", str(harness.REPO)])]
    assert names == ["framework@before", f"framework@{harness.REPO.name}"]


@needs_wrk
def test_peers_tiny_run_on_both_servers(tmp_path: Path) -> None:
    """Every app on uvicorn and granian, 3 fillers, 1 round of 1 s on the param route: one row per app and
    server, each with its ratio to every other app of the round, and the markdown table."""
    from bench import peers

    result = peers.run(
        tmp_path,
        fillers=(3,),
        rounds=1,
        duration=1,
        warmup=0,
        endpoints={"param GET /api/users/[id]": gen.TARGET_URL},
    )
    assert result["failed"] == {}
    rows = result["rows"]
    assert [(r["server"], r["app"]) for r in rows] == [(s, a) for s in peers.SERVERS for a in peers.APPS]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["fillers"] == 3 and row["errors"] == 0 and len(row["samples_rps"]) == 1
        assert row["rps"]["median"] > 0
        assert set(row["vs"]) == set(peers.APPS) - {row["app"]}
        other = next(r for r in rows if r["server"] == row["server"] and r["app"] == "bare")
        if row["app"] != "bare":
            assert row["vs"]["bare"]["median"] == pytest.approx(row["rps"]["median"] / other["rps"]["median"], abs=0.01)
    report = "\n".join(peers.markdown(result))
    assert "| granian | 3 | param GET /api/users/[id] | framework |" in report
    assert "--factory" not in report or "app_from_environment" in report
    assert "python -m granian --interface asgi" in report


@needs_wrk
def test_typed_tiny_run_over_http_and_in_process(tmp_path: Path) -> None:
    """The typed endpoint in the framework, FastAPI and Litestar, typed and untyped: req/s, the µs typing
    adds, and the in-process µs per request of all four endpoints."""
    from bench import typed

    result = typed.run(tmp_path, rounds=1, duration=1, warmup=0, requests=20, batches=1)
    assert [(r["app"], r["endpoint"]) for r in result["rows"]] == [
        (app, kind) for kind in ("typed", "untyped") for app in typed.APPS
    ]
    assert all(r["errors"] == 0 and r["rps"]["median"] > 0 for r in result["rows"])
    assert [c["app"] for c in result["cost"]] == list(typed.APPS)
    for cost in result["cost"]:
        typed_rps, untyped_rps = cost["typed_rps"]["median"], cost["untyped_rps"]["median"]
        assert cost["extra_us"]["median"] == pytest.approx((1 / typed_rps - 1 / untyped_rps) * 1e6, abs=0.02)
    assert [r["app"] for r in result["in_process"]] == list(typed.APPS)
    for row in result["in_process"]:
        assert set(row["us"]) == {"static", "param", "typed", "untyped"}
        assert all(0 < us < 100_000 for us in row["us"].values())
        assert row["extra_us"] == pytest.approx(row["us"]["typed"] - row["us"]["untyped"], abs=0.02)
    report = "\n".join(typed.markdown(result))
    assert "| framework |" in report and "typed - untyped µs" in report


@needs_wrk
def test_two_framework_checkouts_in_the_same_rounds(tmp_path: Path) -> None:
    """`--framework-path`: each tree's own `framework` serves (a copy whose serving_app raises fails alone),
    and the working ones are compared round by round."""
    from bench import peers

    good = tmp_path / "good"
    shutil.copytree(harness.REPO / "framework", good / "framework", ignore=shutil.ignore_patterns("__pycache__"))
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    app_py = broken / "framework" / "app.py"
    app_py.write_text(
        app_py.read_text().replace(
            "    app = create_app(root, settings=settings)\n", "    raise SystemExit('broken copy')\n"
        )
    )
    result = peers.run(
        tmp_path / "work",
        servers=("uvicorn",),
        apps=("framework",),
        fillers=(0,),
        framework_paths=[f"copy={good}", f"broken={broken}", f"this={harness.REPO}"],
        rounds=1,
        duration=1,
        warmup=0,
        endpoints={"static GET /api/health": gen.HEALTH_URL},
    )
    assert list(result["failed"]) == ["framework@broken on uvicorn, 0 fillers"]
    assert "broken copy" in result["failed"]["framework@broken on uvicorn, 0 fillers"]
    assert [c["name"] for c in result["checkouts"]] == ["framework@copy", "framework@broken", "framework@this"]
    copy, this = result["rows"]
    assert (copy["app"], this["app"]) == ("framework@copy", "framework@this")
    assert copy["vs"]["framework@this"]["median"] == pytest.approx(
        copy["rps"]["median"] / this["rps"]["median"], abs=0.01
    )


@needs_wrk
def test_workers_tiny_run_starts_framework_start_with_each_worker_count(tmp_path: Path) -> None:
    """`framework start --workers 1` and `2` on uvicorn, 1 round of 1 s: a row per worker count and endpoint,
    each with its ratio to one worker's req/s of the same round (the worker count itself: test_servers.py)."""
    from bench import workers

    assert workers.command("granian", 2, tmp_path, 1234)[2:] == [
        "framework", "start", "--root", str(tmp_path), "--server", "granian", "--workers", "2",
        "--host", "127.0.0.1", "--port", "1234", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    result = workers.run(tmp_path, servers=("uvicorn",), workers=(1, 2), rounds=1, duration=1, warmup=0)
    rows = result["rows"]
    assert [(r["workers"], r["endpoint"]) for r in rows] == [
        (n, label) for label, _ in workers.ENDPOINTS for n in (1, 2)
    ]
    for row in rows:
        one = next(r for r in rows if r["endpoint"] == row["endpoint"] and r["workers"] == 1)
        assert row["errors"] == 0 and row["rps"]["median"] > 0
        assert row["vs_one"]["median"] == pytest.approx(row["rps"]["median"] / one["rps"]["median"], abs=0.01)
    report = "\n".join(workers.markdown(result))
    assert "| uvicorn | static GET /api/health | 2 |" in report


needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None and not os.environ.get("CI"),
    reason="valgrind is not installed: apt-get install -y valgrind (the README's test command and CI install it)",
)


def test_callgrind_count_is_read_from_recorded_output() -> None:
    from bench import instructions

    assert instructions.collected((DATA / "callgrind-stderr.txt").read_text()) == 88_200_955
    with pytest.raises(instructions.InstructionsError, match="no `Collected :` line"):
        instructions.collected("==1== Callgrind, a call-graph generating cache profiler\n")


@pytest.mark.parametrize("app", ["bare", "starlette", "framework"])
def test_the_counted_child_serves_every_request_with_a_200(tmp_path: Path, app: str) -> None:
    from bench import instructions

    root = gen.write_project(tmp_path / "two", gen.two_endpoints())
    done = subprocess.run(
        [sys.executable, "-m", "bench.instructions", "--child", app, str(root), gen.TARGET_URL, "20"],
        capture_output=True,
        text=True,
        env=harness.env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(instructions.WARM + 20)]  # requests answered 200


def test_a_child_whose_answers_are_not_200_fails(tmp_path: Path) -> None:
    from bench import instructions

    root = gen.write_project(tmp_path / "two", gen.two_endpoints())
    with pytest.raises(instructions.InstructionsError, match="not 200"):
        instructions.child("bare", root, "/nowhere", 3)


@needs_valgrind
def test_instructions_tiny_run_counts_the_framework_above_the_bare_callable(tmp_path: Path) -> None:
    """Two small counted processes per app under real valgrind: the framework's request takes more
    instructions than the bare callable's, the report says by how many, and a second count is the same."""
    from bench import instructions

    root = gen.write_project(tmp_path / "two", gen.two_endpoints())
    result = instructions.run(root, (gen.HEALTH_URL,), harness.env(), ("bare", "framework"), (20, 120))
    bare, framework = result["rows"]
    assert (bare["app"], framework["app"]) == ("bare", "framework")
    assert 0 < bare["instructions"] < framework["instructions"]
    assert framework["over_bare"] == framework["instructions"] - bare["instructions"] and bare["over_bare"] == 0
    report = "\n".join(run.instructions_markdown(result))
    assert f"| {gen.HEALTH_URL} | framework | {framework['instructions']:,} |" in report
    # the same count again: str hashing is fixed in the counted processes (PYTHONHASHSEED=0)
    assert instructions.count("bare", root, gen.HEALTH_URL, harness.env(), (20, 120)) == bare["instructions"]
