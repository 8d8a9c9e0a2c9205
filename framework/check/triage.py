"""Which findings are reported: inline ignores and exemptions applied, duplicates dropped, sorted by place.

    return RedirectResponse("/legacy/path")  # framework: ignore[hard-coded-url]

silences `hard-coded-url` on that line; `[[tool.framework.check.exempt]]` silences rules for one
route's `route.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from .config import Config, Exemption
from .project import Project
from .report import Finding
from .source import Source

_IGNORE = re.compile(r"#\s*framework:\s*ignore\[([^\]]*)\]")


def triage(findings: Iterable[Finding], project: Project, config: Config) -> tuple[Finding, ...]:
    """The findings to report, sorted by file and line; each one once."""
    patterns = {r.file: r.pattern for r in project.routes}
    kept: dict[tuple[str, str, int | None, str], Finding] = {}
    for f in findings:
        src = project.sources.get(f.file)
        if src is not None and ignored_on_line(src.text, f.line, f.rule):
            continue
        if exemption_for(f, config.exempt, patterns) is not None:
            continue
        kept.setdefault((f.rule, f.file, f.line, f.message), f)
    return tuple(one_per_unparsable(sorted(kept.values(), key=lambda f: f.sort_key), project.sources))


def one_per_unparsable(findings: Sequence[Finding], sources: Mapping[str, Source]) -> Iterator[Finding]:
    """A file that does not parse gets one finding: its syntax error, or the router's import error naming it.

    Other rules cannot read such a file, so what they would say about it (a route "without a builder"
    whose builder call is in the broken part) is a guess; only the router's verdict on its folders stays.
    """
    routed = {(f.file, f.line) for f in findings if f.rule == "router-error"}
    for f in findings:
        src = sources.get(f.file)
        if (
            src is None
            or src.error is None
            or f.rule == "router-error"
            or (f.rule == "syntax-error" and (f.file, f.line) not in routed)
        ):
            yield f


def ignored_on_line(text: str, line: int | None, rule: str) -> bool:
    """`x = "/api/x"  # framework: ignore[hard-coded-url, forbidden-import]` silences those rules on that line."""
    lines = text.splitlines()
    if not line or line > len(lines):
        return False
    match = _IGNORE.search(lines[line - 1])
    return match is not None and rule in {r.strip() for r in match.group(1).split(",")}


def exemption_for(finding: Finding, exempt: Iterable[Exemption], patterns: Mapping[str, str]) -> Exemption | None:
    """The exemption covering a finding in a route's `route.py`; `patterns` maps route files to their URL patterns."""
    if finding.file not in patterns:
        return None
    for ex in exempt:
        if ex.route in (finding.file, patterns[finding.file]) and (not ex.rules or finding.rule in ex.rules):
            return ex
    return None
