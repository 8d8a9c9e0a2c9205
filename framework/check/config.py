"""`[tool.framework.check]` in `pyproject.toml`, validated into a `Config`; anything unusable is a `ConfigError`.

disable = ["api-returns-json"]                 # rules not run at all
severity = { hard-coded-url = "warning" }      # "error" or "warning", per rule
forbidden-imports = ["boto3", "stripe"]        # added to the built-in list
strict = true                                  # warnings fail too
[[tool.framework.check.exempt]]
route = "/api/export"                          # a URL pattern, or a file: "app/api/export/route.py"
rules = ["api-returns-json"]                   # leave out for every rule
reason = "a partner's system reads this JSON"  # required
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..manifest import Route
from .registry import ERROR, WARNING, Severity
from .rules import RULE_IDS
from .rules.imports import FORBIDDEN_IMPORTS

CONFIGURED = "an import forbidden in [tool.framework.check]"
WHERE = "pyproject.toml [tool.framework.check]"
_KEYS = ("disable", "severity", "forbidden-imports", "exempt", "strict")
_SEVERITIES: Mapping[str, Severity] = {ERROR: ERROR, WARNING: WARNING}


@dataclass(frozen=True, slots=True)
class Exemption:
    """A route (URL pattern or route file) whose `route.py` the listed rules (all if empty) skip."""

    route: str
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    forbidden_imports: Mapping[str, str] = field(default_factory=lambda: dict(FORBIDDEN_IMPORTS))
    exempt: tuple[Exemption, ...] = ()
    strict: bool = False


class ConfigError(ValueError):
    """`[tool.framework.check]` cannot be used: the message names the file, the key and the fix."""


def load_config(root: Path) -> Config:
    """`[tool.framework.check]` from `root/pyproject.toml`; the defaults when there is none."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml: not valid TOML ({exc}); fix the file.") from None
    return parse_config(data.get("tool", {}).get("framework", {}).get("check", {}))


def parse_config(table: Mapping[str, object]) -> Config:
    """Validate the `[tool.framework.check]` table (see the module's docstring for every key)."""
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{WHERE}: unknown key {unknown[0]!r}; the keys are {', '.join(_KEYS)}.")
    disable = table.get("disable", [])
    if not isinstance(disable, list):
        raise ConfigError(f'{WHERE} disable: expected a list of rule ids, like disable = ["api-returns-json"].')
    severity = _severities(table.get("severity", {}))
    extra = table.get("forbidden-imports", [])
    if not isinstance(extra, list) or not all(isinstance(m, str) and m for m in extra):
        raise ConfigError(f'{WHERE} forbidden-imports: expected a list of module names, like ["boto3"].')
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{WHERE} strict: expected true or false.")
    exempt = _exemptions(table.get("exempt", []))
    return Config(
        disabled=frozenset(_rule_id(r, "disable") for r in disable),
        severity=severity,
        forbidden_imports={**FORBIDDEN_IMPORTS, **dict.fromkeys(extra, CONFIGURED)},
        exempt=exempt,
        strict=strict,
    )


def _rule_id(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in RULE_IDS:
        close = difflib.get_close_matches(str(value), RULE_IDS, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known rules: {', '.join(RULE_IDS)}."
        raise ConfigError(f"{WHERE} {where}: unknown rule {value!r}; {hint}")
    return value


def _severities(table: object) -> dict[str, Severity]:
    if not isinstance(table, dict):
        raise ConfigError(f'{WHERE} severity: expected a table, like severity = {{ hard-coded-url = "warning" }}.')
    severities: dict[str, Severity] = {}
    for rule, level in table.items():
        rule_id = _rule_id(rule, "severity")
        severity = _SEVERITIES.get(level) if isinstance(level, str) else None
        if severity is None:
            raise ConfigError(f'{WHERE} severity.{rule}: {level!r} is not a severity; use "error" or "warning".')
        severities[rule_id] = severity
    return severities


def _exemptions(entries: object) -> tuple[Exemption, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{WHERE} exempt: expected [[tool.framework.check.exempt]] entries.")
    exemptions = []
    for i, entry in enumerate(entries):
        at = f"{WHERE} exempt[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("route"), str):
            raise ConfigError(f'{at}: give the route, like route = "/api/export" (a URL pattern or a route.py path).')
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f'{at} ({entry["route"]}): an exemption needs a reason = "..." saying why.')
        rules = entry.get("rules", [])
        if not isinstance(rules, list):
            raise ConfigError(f"{at}: rules is a list of rule ids; leave it out to exempt the route from every rule.")
        bad = sorted(set(entry) - {"route", "reason", "rules"})
        if bad:
            raise ConfigError(f"{at}: unknown key {bad[0]!r}; an exemption has route, rules and reason.")
        exemptions.append(Exemption(entry["route"], reason, tuple(_rule_id(r, f"exempt[{i}].rules") for r in rules)))
    return tuple(exemptions)


def check_exemptions(exempt: Iterable[Exemption], routes: Iterable[Route]) -> None:
    """An exemption naming no existing route is an error, so stale exemptions do not pile up."""
    known = {r.file for r in routes} | {r.pattern for r in routes}
    for i, ex in enumerate(exempt):
        if ex.route not in known:
            close = difflib.get_close_matches(ex.route, sorted(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f'{WHERE} exempt[{i}]: no route {ex.route!r} (give a URL pattern like "/api/export" '
                f'or a file like "app/api/export/route.py").{hint}'
            )
