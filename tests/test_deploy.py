"""deploy/: the files docs/deploy.md tells people to copy stay true to the framework and to each other.

Always: nginx's limits equal framework start's defaults, the headers --proxy-headers reads are set,
the systemd unit and the Dockerfile start what the docs say. Where the tool is installed: `nginx`
serves the real config in front of `framework start` over TLS on 127.0.0.1, `systemd-analyze verify`
accepts the unit, and `docker build` builds the image; elsewhere those are skipped with the reason
(they are not part of the README's test command's requirements).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from framework.settings import Settings
from tests.helpers import REPO, Server, free_port, run_framework, stop, wait_for

DEPLOY = REPO / "deploy"
NGINX_SIZES = {"k": 1024, "m": 1024**2, "g": 1024**3}


def nginx_directives() -> dict[str, list[str]]:
    """`name -> arguments` of each simple directive in deploy/nginx.conf (the last one wins, as in nginx)."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "nginx.conf").read_text().splitlines():
        statement = line.split("#", 1)[0].strip()
        if statement.endswith(";"):
            name, *args = statement[:-1].split()
            found[name] = args
    return found


def nginx_size(text: str) -> int:
    return int(text[:-1]) * NGINX_SIZES[text[-1].lower()] if text[-1].isalpha() else int(text)


def test_nginx_limits_are_the_framework_defaults() -> None:
    defaults, nginx = Settings(), nginx_directives()
    assert nginx_size(nginx["client_max_body_size"][0]) == defaults.max_body_size
    count, size = nginx["large_client_header_buffers"]
    assert int(count) * nginx_size(size) == defaults.max_head_size
    assert nginx["client_header_timeout"] == [f"{defaults.head_timeout:g}s"]


def test_nginx_sets_what_proxy_headers_reads_and_passes_websocket_upgrades() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    for header, value in [
        ("Host", "$host"),
        ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Forwarded-Host", "$host"),
        ("Upgrade", "$http_upgrade"),
        ("Connection", "$connection_upgrade"),
    ]:
        assert re.search(rf"proxy_set_header\s+{re.escape(header)}\s+{re.escape(value)};", text), header
    assert "proxy_http_version 1.1;" in text


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(DEPLOY / "framework.service")
    return parser


def test_the_systemd_unit_starts_the_production_server() -> None:
    service = unit()["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/bin/framework") and command[1] == "start"
    assert {"--proxy-headers", "--workers", "--host"} <= set(command)
    assert command[command.index("--host") + 1] == "127.0.0.1"  # only nginx on this machine reaches it
    assert service["EnvironmentFile"] == "/etc/framework-app/env"
    assert service["Restart"] == "on-failure" and service["User"] not in ("root", "0")


def test_the_dockerfile_installs_the_postgres_extra_and_runs_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "postgres" in extras and "pip install '.[postgres]'" in text
    assert re.search(r"^USER app$", text, re.M) and "/api/health" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None and '"--proxy-headers"' in cmd.group(1) and '"start"' in cmd.group(1)
    for path in re.findall(r"^COPY (?!--from)(.+) \./\S*$", text, re.M):
        for part in path.split():
            assert (REPO / part).exists(), f"the Dockerfile copies {part}, which does not exist"


def test_the_example_environment_names_only_known_settings() -> None:
    known = (REPO / "lib" / "config.py").read_text() + "FORWARDED_ALLOW_IPS"
    names = re.findall(r"^#?\s*([A-Z][A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.M)
    assert names and all(f"`{name}`" in known or name == "FORWARDED_ALLOW_IPS" for name in names), names


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the unit's own syntax is not checked here)")
    framework = Path(sys.executable).parent / "framework"
    text = (DEPLOY / "framework.service").read_text().replace("/srv/app/.venv/bin/framework", str(framework))
    copy = tmp_path / "framework-app.service"
    copy.write_text(text)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# -- nginx in front of framework start, for real ----------------------------------------------


@dataclass
class Proxied:
    https: str  # nginx's https base URL
    http: str  # its plain-http one
    app: Server


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """deploy/nginx.conf with its ports, certificate and upstream swapped for test ones, in front of
    `framework start --proxy-headers` on the example app."""
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx and openssl are not installed (apt-get install -y nginx-light openssl)")
    tmp = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=app.example.com"),
            *("-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    env = {"AUTH_DB_PATH": str(tmp / "auth.sqlite3"), "DEMO_USER": "1", "PASSWORD_HASH_N": "1024"}
    with run_framework(REPO, "start", "--proxy-headers", "--no-access-log", env=env) as app:
        http_port, https_port = free_port(), free_port()
        site = (DEPLOY / "nginx.conf").read_text()
        site = site.replace("server 127.0.0.1:3000", f"server 127.0.0.1:{app.port}")
        site = re.sub(r"listen 80;", f"listen 127.0.0.1:{http_port};", site)
        site = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl;", site)
        site = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", site)
        site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {tmp / 'cert.pem'};", site)
        site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {tmp / 'key.pem'};", site)
        (tmp / "site.conf").write_text(site)
        temp = "".join(
            f"{kind}_temp_path {tmp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp / "nginx.conf").write_text(
            f"{'user root;' if os.geteuid() == 0 else ''}\nworker_processes 1;\n"
            f"pid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\nevents {{ worker_connections 64; }}\n"
            f"http {{\n access_log off;\n{temp} include {tmp / 'site.conf'};\n}}\n"
        )
        check = subprocess.run([nginx, "-t", "-c", str(tmp / "nginx.conf")], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        process = subprocess.Popen(
            [nginx, "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            base = f"https://127.0.0.1:{https_port}"
            wait_for(lambda: httpx.get(f"{base}/api/health", verify=False, timeout=2).status_code == 200, timeout=30)
            yield Proxied(base, f"http://127.0.0.1:{http_port}", app)
        finally:
            stop(process)


def test_through_nginx_https_gives_secure_host_prefixed_cookies(behind_nginx: Proxied) -> None:
    """X-Forwarded-Proto reaches the app: the login over https sets `__Host-` cookies, which then work."""
    with httpx.Client(base_url=behind_nginx.https, verify=False, follow_redirects=False, timeout=10) as c:
        r = c.post("/login", data={"username": "demo", "password": "demo-password"}, headers={"host": "127.0.0.1"})
        assert r.status_code == 303, r.text
        sent = r.headers.get_list("set-cookie")
        assert sorted(h.split("=", 1)[0] for h in sent) == ["__Host-access_token", "__Host-refresh_token"]
        assert all("Secure" in h.split("; ") for h in sent)
        assert c.get("/dashboard").status_code == 200


def test_nginx_refuses_what_the_app_would_refuse_before_it_reaches_the_app(behind_nginx: Proxied) -> None:
    with httpx.Client(base_url=behind_nginx.https, verify=False, timeout=30) as c:
        too_big = c.post("/login", content=b"x" * (Settings().max_body_size + 1))
        assert too_big.status_code == 413 and "nginx" in too_big.text
        long_header = c.get("/api/health", headers={"x-filler": "y" * 17 * 1024})  # over one 16k buffer
        assert long_header.status_code in (400, 431, 494) and "nginx" in long_header.text
    assert "Traceback" not in behind_nginx.app.log()


def test_plain_http_is_sent_to_https(behind_nginx: Proxied) -> None:
    r = httpx.get(f"{behind_nginx.http}/dashboard?tab=1", headers={"host": "app.example.com"}, timeout=10)
    assert (r.status_code, r.headers["location"]) == (301, "https://app.example.com/dashboard?tab=1")


# -- Docker --------------------------------------------------------------------------------------


def test_the_image_builds(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no Docker client installed: the image is not built here")
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        pytest.skip(f"no Docker engine answers (`docker info`: {(info.stderr or info.stdout).strip()[:200]})")
    tag = f"framework-deploy-test:{tmp_path.name.lower()}"
    build = subprocess.run(
        [docker, "build", "-f", str(DEPLOY / "Dockerfile"), "-t", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        user = subprocess.run(
            [docker, "run", "--rm", tag, "python", "-c", "import os, psycopg, framework; print(os.getuid())"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert user.returncode == 0 and user.stdout.strip() != "0", user.stdout + user.stderr
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120)
