"""`framework check`: the project against the conventions, as text or JSON."""

from __future__ import annotations

import click

from .common import Command, CommandError, checked_root, root_option

EXAMPLES = """\b
examples:
  framework check                         every convention, text report; exit 0 clean, 1 findings, 2 usage
  framework check --root path/to/project --format json | jq '.findings[].rule'
  framework check --strict                warnings fail too (as `strict = true` in pyproject.toml)
  framework check --list-rules            the rule ids, their severity and what they check

\b
exit codes: 0 no errors (warnings are printed but pass unless --strict), 1 errors, 2 usage or config error.
configure in pyproject.toml [tool.framework.check] (disable, severity, forbidden-imports, exempt, strict);
silence one line with `# framework: ignore[rule-id]`. Every rule: `framework check --list-rules`, and in
detail docs/conventions.md in the framework's repository.
"""


@click.command(cls=Command, epilog=EXAMPLES)
@root_option
@click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True, help="report format"
)
@click.option("--strict", is_flag=True, help="warnings fail too (exit 1)")
@click.option("--list-rules", is_flag=True, help="print the rules and exit")
def check(root: str, output: str, strict: bool, list_rules: bool) -> int:
    """Report every convention the project breaks: file:line, severity, rule id, what, the fix."""
    from ..check import ConfigError, check_project, format_json, format_rules, format_text

    if list_rules:
        click.echo(format_rules())
        return 0
    path = checked_root(root)
    try:
        report = check_project(path, strict=strict)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    click.echo(format_json(report) if output == "json" else format_text(report))
    return report.exit_code
