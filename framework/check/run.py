"""`check_project`: read the project once, run the rules, report what is left after configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .config import Config, check_exemptions, load_config
from .project import Project, load_project
from .report import Finding, Report
from .rules import RULE_IDS, RULES
from .triage import triage


def check_project(
    root: Path | str, config: Config | None = None, *, imports: bool = True, strict: bool = False
) -> Report:
    """Every enabled rule over the project at `root`. Raises `ConfigError` for unusable configuration.

    `imports=False` leaves out the router's import of each `route.py` (the only step running user code).
    """
    path = Path(root).resolve()
    config = config or load_config(path)
    project = load_project(path, config.forbidden_imports, import_routes=imports)
    check_exemptions(config.exempt, project.routes)
    findings = triage(run_rules(project, config), project, config)
    return Report(findings, len(project.sources), len(project.routes), strict or config.strict)


def run_rules(project: Project, config: Config) -> Iterator[Finding]:
    """Each enabled rule's hits as findings with the configured severity; a disabled rule is never called."""
    for rule in RULES:
        if rule.id in config.disabled:
            continue
        for hit in rule.run(project):
            rule_id = hit.rule or rule.id
            if rule_id in config.disabled:  # reported under another rule's id, one that is off
                continue
            severity = config.severity.get(rule_id, RULE_IDS[rule_id].severity)
            yield Finding(rule_id, severity, hit.file, hit.line, hit.message, hit.fix)
