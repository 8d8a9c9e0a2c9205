"""A rule is declared once, beside its function: id, default severity, one-line doc.

    @rule("forbidden-import", ERROR, "code under app/ importing an HTTP client or a database driver")
    def forbidden_import(project: Project) -> Iterator[Hit]:
        '''Why the convention exists (the function's docstring).'''
        yield Hit("app/api/x/route.py", 1, "imports `sqlite3`, ...", "Move the code ...")

`rules.RULES` lists the declared rules in report order; `check_project` runs the enabled ones and
turns their hits into findings, while `--list-rules`, the pytest plugin's items and
docs/conventions.md read the same `Rule` values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..errors import Problem
from .project import Project

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule function yields: where and what. The run adds the rule id and the configured severity."""

    file: str
    line: int | None
    message: str
    fix: str
    rule: str | None = None  # another rule's id, when a rule finds that rule's problem (see `router-error`)

    @classmethod
    def of(cls, problem: Problem, rule: str | None = None) -> Hit:
        """A router `Problem` in the router's own wording, at its first file."""
        return cls(problem.files[0], problem.line, problem.message, problem.fix, rule)


RuleFunction = Callable[[Project], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One convention. `id` is what configuration and `# framework: ignore[...]` name."""

    id: str
    severity: Severity
    doc: str
    run: RuleFunction = field(compare=False, repr=False)


def rule(rule_id: str, severity: Severity, doc: str) -> Callable[[RuleFunction], Rule]:
    """Declare the decorated function as the rule `rule_id`; the name it is bound to is then that `Rule`."""

    def declare(run: RuleFunction) -> Rule:
        return Rule(rule_id, severity, doc, run)

    return declare
