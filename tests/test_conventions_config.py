"""`[tool.framework.check]` in pyproject.toml and inline `# framework: ignore[rule-id]`."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.check import ConfigError, check_project
from framework.check.config import CONFIGURED, parse_config
from tests.helpers import write_tree
from tests.test_conventions_rules import BASE, PING_ROUTE

JSON_ROUTE = PING_ROUTE + "\n\ndef POST(request):\n    return {'a': 1}\n"  # api-returns-json at line 10
HARD_CODED = "from starlette.responses import RedirectResponse\n\ndef go():\n    return RedirectResponse('/api/ping')\n"


def project(tmp_path: Path, config: str, **files: str) -> Path:
    return write_tree(
        tmp_path,
        {
            **BASE,
            "pyproject.toml": "[tool.framework.check]\n" + config,
            **{k.replace("__", "/"): v for k, v in files.items()},
        },
    )


def rules(root: Path) -> list[tuple[str, str, int | None, str]]:
    return [(f.rule, f.file, f.line, f.severity) for f in check_project(root).findings]


def test_disable_a_rule(tmp_path: Path) -> None:
    files = {"app/api/ping/route.py": JSON_ROUTE}
    on = write_tree(tmp_path / "on", {**BASE, **files})
    assert rules(on) == [("api-returns-json", "app/api/ping/route.py", 10, "warning")]
    off = project(tmp_path / "off", 'disable = ["api-returns-json"]\n', **{"app__api__ping__route.py": JSON_ROUTE})
    assert rules(off) == []


def test_change_a_severity_and_the_exit_code_follows(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'severity = { hard-coded-url = "warning", api-returns-json = "error" }\n',
        **{"lib__helpers.py": HARD_CODED, "app__api__ping__route.py": JSON_ROUTE},
    )
    report = check_project(root)
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("api-returns-json", "error"),
        ("hard-coded-url", "warning"),
    ]
    assert report.exit_code == 1


def test_warnings_alone_pass_unless_strict(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "a", {**BASE, "app/api/ping/route.py": JSON_ROUTE})
    assert (check_project(root).exit_code, check_project(root, strict=True).exit_code) == (0, 1)
    strict = project(tmp_path / "b", "strict = true\n", **{"app__api__ping__route.py": JSON_ROUTE})
    assert check_project(strict).exit_code == 1


def test_extend_forbidden_imports(tmp_path: Path) -> None:
    route = "import smtplib\n" + PING_ROUTE
    root = project(tmp_path, 'forbidden-imports = ["smtplib"]\n', **{"app__api__ping__route.py": route})
    [finding] = check_project(root).findings
    assert (finding.rule, finding.file, finding.line) == ("forbidden-import", "app/api/ping/route.py", 1)
    assert finding.message.startswith(f"imports `smtplib`, {CONFIGURED}")
    assert rules(write_tree(tmp_path / "default", {**BASE, "app/api/ping/route.py": route})) == []


@pytest.mark.parametrize("route", ["/api/ping", "app/api/ping/route.py"])
def test_exempt_a_route_with_a_reason(tmp_path: Path, route: str) -> None:
    root = project(
        tmp_path,
        f'[[tool.framework.check.exempt]]\nroute = "{route}"\nrules = ["api-returns-json"]\n'
        'reason = "a partner system reads this JSON"\n',
        **{"app__api__ping__route.py": "import sqlite3\n" + JSON_ROUTE},
    )
    assert rules(root) == [("forbidden-import", "app/api/ping/route.py", 1, "error")]  # only the listed rule


def test_exempt_without_rules_covers_every_rule_for_that_route(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        '[[tool.framework.check.exempt]]\nroute = "/api/ping"\nreason = "legacy, see #12"\n',
        **{"app__api__ping__route.py": "import sqlite3\n" + JSON_ROUTE},
    )
    assert rules(root) == []


@pytest.mark.parametrize(
    "config, message",
    [
        (
            '[[tool.framework.check.exempt]]\nroute = "/api/ping"\nrules = ["api-returns-json"]\n',
            "exempt[0] (/api/ping): an exemption needs a reason",
        ),
        ('[[tool.framework.check.exempt]]\nroute = "/api/pong"\nreason = "x"\n', "exempt[0]: no route '/api/pong'"),
        (
            'disable = ["api-return-json"]\n',
            "disable: unknown rule 'api-return-json'; did you mean `api-returns-json`?",
        ),
        ('severity = { hard-coded-url = "fatal" }\n', "severity.hard-coded-url: 'fatal' is not a severity"),
        ('disabled = ["hard-coded-url"]\n', "unknown key 'disabled'"),
        ('forbidden-imports = "boto3"\n', "forbidden-imports: expected a list of module names"),
        ('strict = "yes"\n', "strict: expected true or false"),
    ],
)
def test_bad_configuration_is_refused_with_the_key(tmp_path: Path, config: str, message: str) -> None:
    root = project(tmp_path, config)
    with pytest.raises(ConfigError) as raised:
        check_project(root)
    assert message in str(raised.value)
    assert str(raised.value).startswith("pyproject.toml [tool.framework.check]")


def test_no_pyproject_means_defaults() -> None:
    config = parse_config({})
    assert (config.disabled, config.strict, config.exempt) == (frozenset(), False, ())
    assert config.forbidden_imports["sqlite3"] == "a database driver"


def test_inline_ignore_silences_that_rule_on_that_line_only(tmp_path: Path) -> None:
    source = (
        "from starlette.responses import RedirectResponse\n\n"
        "def a():\n    return RedirectResponse('/api/ping')  # framework: ignore[hard-coded-url]\n\n"
        "def b():\n    return RedirectResponse('/api/ping')  # framework: ignore[forbidden-import]\n\n"
        "import sqlite3, httpx  # framework: ignore[ forbidden-import , hard-coded-url ]\n"
    )
    root = write_tree(tmp_path, {**BASE, "app/api/ping/_helpers.py": source})
    assert rules(root) == [("hard-coded-url", "app/api/ping/_helpers.py", 7, "error")]
