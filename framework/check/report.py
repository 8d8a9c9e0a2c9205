"""What `framework check` prints: findings, the report, and its text, JSON and `--list-rules` forms.

app/api/ping/route.py:1: error[forbidden-import] imports `sqlite3`, a database driver: ...
  fix: Move the code that uses `sqlite3` into a function in lib/controllers/ ...

1 error, 0 warnings in 2 files (1 route): failed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..errors import location
from .registry import ERROR, WARNING, Severity
from .rules import RULES

JSON_VERSION = 1


@dataclass(frozen=True, slots=True)
class Finding:
    """One convention broken: where (`file` relative to the root, `/`-separated; `line` when known), what, the fix.

    The field order is the JSON report's key order, which is stable.
    """

    rule: str
    severity: Severity
    file: str
    line: int | None
    message: str
    fix: str

    @property
    def location(self) -> str:
        return location(self.file, self.line)

    @property
    def headline(self) -> str:
        return f"{self.location}: {self.severity}[{self.rule}] {self.message}"

    def __str__(self) -> str:
        """The paragraph `framework check` prints: the headline, then `  fix: ...` on its own line."""
        return f"{self.headline}\n  fix: {self.fix}"

    def one_line(self) -> str:
        """For pytest's warnings summary, which shows one line per warning."""
        return f"{self.headline} Fix: {self.fix}"

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        """By file, then line (none first), then rule: the order of both reports."""
        return (self.file, self.line or 0, self.rule, self.message)


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]
    files: int  # `.py` files read under app/ and lib/
    routes: int  # `route.py` files that parse as routes
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def failed(self) -> bool:
        """Errors fail; warnings fail too under `strict`."""
        return self.errors > 0 or (self.strict and self.warnings > 0)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def format_text(report: Report) -> str:
    """One paragraph per finding (`file:line: severity[rule] message` + `fix:`), then a summary line."""
    scope = f"{_count(report.files, 'file')} ({_count(report.routes, 'route')})"
    if not report.findings:
        return f"no problems in {scope}."
    verdict = "failed" if report.failed else "passed (warnings do not fail without --strict)"
    summary = f"{_count(report.errors, 'error')}, {_count(report.warnings, 'warning')} in {scope}: {verdict}."
    return "\n\n".join([*(str(f) for f in report.findings), summary])


def format_json(report: Report) -> str:
    """Stable JSON: `{"version": 1, "findings": [...], "errors", "warnings", "files", "routes", "failed"}`.

    Each finding has exactly `rule, severity, file, line (int or null), message, fix`, sorted by file and line.
    """
    return json.dumps(
        {
            "version": JSON_VERSION,
            "findings": [asdict(f) for f in report.findings],
            "errors": report.errors,
            "warnings": report.warnings,
            "files": report.files,
            "routes": report.routes,
            "failed": report.failed,
        },
        indent=2,
        ensure_ascii=False,
    )


def format_rules() -> str:
    """`--list-rules`: one line per rule, `id  severity  what it checks`, read from the registry."""
    width = max(len(r.id) for r in RULES)
    return "\n".join(f"{r.id:<{width}}  {r.severity:<7}  {r.doc}" for r in RULES)
