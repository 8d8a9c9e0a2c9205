"""`framework check` and `framework new`: the command-line side of `conventions` and `scaffold`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import UsageError, add_root, checked_root

EPILOG_CHECK = """examples:
  framework check                         every convention, text report; exit 0 clean, 1 findings, 2 usage
  framework check --root examples/shop --format json | jq '.findings[].rule'
  framework check --strict                warnings fail too (as `strict = true` in pyproject.toml)
  framework check --list-rules            the rule ids, their severity and what they check

exit codes: 0 no errors (warnings are printed but pass unless --strict), 1 errors, 2 usage or config error.
configure in pyproject.toml [tool.framework.check] (disable, severity, forbidden-imports, exempt, strict);
silence one line with `# framework: ignore[rule-id]`. Every rule: docs/conventions.md.
"""

EPILOG_NEW = """examples:
  framework new route api/refresh-token
  framework new route api/users/[id] --methods GET,POST
  framework new route "api/files/[...path]" --root examples/shop

writes app/<path>/route.py, a controller in lib/controllers/, a builder in lib/urls/ and a test in
tests/; existing files are never overwritten (exit 1 and nothing written if one is in the way).
"""


def cmd_check(args: argparse.Namespace) -> int:
    from .check import ConfigError, check_project, format_json, format_rules, format_text

    if args.list_rules:
        print(format_rules())
        return 0
    root = checked_root(args.root)
    try:
        report = check_project(root, strict=args.strict)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    print(format_json(report) if args.format == "json" else format_text(report))
    return report.exit_code


def cmd_new(args: argparse.Namespace) -> int:
    from .check.scaffold import ScaffoldInputError, ScaffoldRefused, parse_methods, plan_route, write_changes

    root = Path(args.root).resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root}: no such directory. Pass your project's folder.")
    try:
        changes = plan_route(root, args.path, parse_methods(args.methods))
    except ScaffoldInputError as exc:
        raise UsageError(str(exc)) from None
    except ScaffoldRefused as exc:
        print(f"framework new: refused: {exc}")
        return 1
    write_changes(root, changes)
    width = max(len(c.path) for c in changes)
    for change in changes:
        print(f"{change.action:<8} {change.path:<{width}}  {change.detail}")
    test = changes[-1].path
    print(f"\nnext: framework check, then python -m pytest {test}")
    return 0


def register_check(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "check", help="check the project against the conventions", epilog=EPILOG_CHECK,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Report every convention the project breaks: file:line, severity, rule id, what, the fix.",
    )
    add_root(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text", help="report format (default: text)")
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    parser.add_argument("--list-rules", action="store_true", help="print the rules and exit")
    parser.set_defaults(func=cmd_check)


def register_new(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "new", help="scaffold a route that passes every check", epilog=EPILOG_NEW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Scaffold a route: its route.py, a controller, a URL builder and a test.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    route = kinds.add_parser(
        "route", help="app/<path>/route.py with controller, URL builder and test", epilog=EPILOG_NEW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Scaffold app/<path>/route.py; [param] folders become the builder's arguments.",
    )
    route.add_argument("path", help="the URL path as folders under app/, like api/users/[id]")
    route.add_argument("--methods", default="GET", help="comma-separated methods (default: GET)")
    add_root(route)
    route.set_defaults(func=cmd_new)
