"""The example app against its own OpenAPI document, by an outside tool: schemathesis with every check
(no 5xx, statuses, content types, headers and bodies as documented, valid data accepted, invalid data
refused, 405 with `Allow` for other methods), once signed out (well-formed requests: the proxy answers
those to sign in before any input is read) and once signed in afresh for each case (all requests).
Between the two runs every status the document names must have been answered at least once.

Users run the same on their project (README, OpenAPI):
`framework openapi --out openapi.json && schemathesis run openapi.json --url http://127.0.0.1:3000 --checks all`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.helpers import REPO, run_cli, run_framework, subprocess_env

BIN = Path(sys.executable).parent
EXAMPLES = "10"  # per operation and phase: the two runs take some seconds each


def schemathesis(doc: Path, port: int, cassette: Path, mode: str, **env: str) -> str:
    """`schemathesis run` to completion (in the report's folder: it keeps a cache in `.schemathesis/`)."""
    command = [str(BIN / "schemathesis"), "run", str(doc), "--url", f"http://127.0.0.1:{port}", "--checks", "all"]
    command += ["--mode", mode, "--max-examples", EXAMPLES, "--seed", "1"]
    command += ["--report", "vcr", "--report-vcr-path", str(cassette)]
    result = subprocess.run(
        command,
        cwd=cassette.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(NO_COLOR="1", **env),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def answered(cassette: Path, doc: dict[str, Any]) -> set[tuple[str, str, int]]:
    """(path template, method, status) of every exchange recorded, for the documented operations."""
    templates = {p: re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$") for p in doc["paths"]}
    found = set()
    for exchange in yaml.safe_load(cassette.read_text(encoding="utf-8"))["http_interactions"]:
        path, method = urlsplit(exchange["request"]["uri"]).path, exchange["request"]["method"].lower()
        for template, regex in templates.items():
            if regex.match(path) and method in doc["paths"][template]:
                found.add((template, method, int(exchange["response"]["status"]["code"])))
    return found


def documented(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (path, method, status)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        for status in operation["responses"]
        if status != "default"
    }


def test_schemathesis_finds_nothing_and_sees_every_documented_status(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    assert run_cli("openapi", "--root", str(REPO), "--out", str(out)).returncode == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    env = {
        "AUTH_DB_PATH": str(tmp_path / "auth.sqlite3"),
        "DEMO_USER": "1",  # the signed-in run logs in as demo
        "PASSWORD_HASH_N": "1024",  # a fast scrypt
        "LOGIN_LIMIT_PER_ADDRESS": "100000",  # every request comes from 127.0.0.1
    }
    with run_framework(REPO, "start", "--no-access-log", env=env) as server:
        # Signed out, proxy.py sends every GET under /api/files to sign in (307) before the name is looked at,
        # as it must: so that run sends well-formed requests only; the signed-in run sends malformed ones too.
        schemathesis(out, server.port, tmp_path / "anonymous.yaml", "positive")
        signed_in = {"SCHEMATHESIS_HOOKS": "tests.schemathesis_signed_in", "SIGN_IN_PORT": str(server.port)}
        schemathesis(out, server.port, tmp_path / "signed-in.yaml", "all", **signed_in)
    seen = answered(tmp_path / "anonymous.yaml", doc) | answered(tmp_path / "signed-in.yaml", doc)
    missing = {
        (path, method, status)
        for path, method, status in documented(doc)
        if not any(
            (p, m) == (path, method) and (str(s) == status or (status.endswith("XX") and str(s)[0] == status[0]))
            for p, m, s in seen
        )
    }
    assert missing == set(), f"documented but never answered: {sorted(missing)}; answered: {sorted(seen)}"
