"""`framework check`: the team's conventions for `app/` and `lib/`, checked by reading the code.

    from framework.check import check_project, format_text
    print(format_text(check_project(".")))

The command line, the pytest plugin (`framework.check.pytest_plugin`) and `framework new`
(`framework.check.scaffold`) all build on this package. User modules are read with `ast`, never
imported, except by the `router-error` rule (`rules/router.py`), which asks the router's own loader
whether each `route.py` imports, as the server will.
"""

from .config import Config, ConfigError, load_config
from .registry import ERROR, WARNING, Rule
from .report import Finding, Report, format_json, format_rules, format_text
from .rules import RULES
from .run import check_project

__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "Config",
    "ConfigError",
    "Finding",
    "Report",
    "Rule",
    "check_project",
    "format_json",
    "format_rules",
    "format_text",
    "load_config",
]
