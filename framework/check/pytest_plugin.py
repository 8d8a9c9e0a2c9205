"""The convention checks as pytest items, one per rule, in a project that opts in.

Registered through the `pytest11` entry point `framework` (`-p framework.check.pytest_plugin` in a
source checkout), so it is present wherever the framework is installed; it adds its items only when

| the project...                                                    | items |
|-------------------------------------------------------------------|-------|
| has `[tool.framework.check]` in its pyproject.toml (`framework init` writes it) | yes |
| is run with `pytest -p framework` (or `-p framework.check.pytest_plugin`) | yes |
| has an `app/` folder and nothing else (another framework's project, say) | no |
| is run on files only (`pytest tests/test_x.py`)                   | no    |
| sets `framework_check = false` in `[tool.pytest.ini_options]`, or runs `-p no:framework` | no |

A failing rule shows the same text as `framework check`, with no traceback; warnings pass (unless
`strict`) and are shown in pytest's warnings summary.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from ..config import read_table
from . import ERROR, RULES, Config, ConfigError, Report, Rule, check_project, load_config

INI = "framework_check"
_CONFIG = pytest.StashKey[Config]()
_REPORT = pytest.StashKey["Report | ConfigError"]()


class ConventionWarning(UserWarning):
    """A convention finding with severity `warning`."""


class ConventionFailure(Exception):
    """Raised by a rule's item; `repr_failure` prints `text` as it is."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI,
        type="bool",
        default=True,
        help="collect the `framework check` rules as test items in a project with [tool.framework.check] (default: true)",
    )


def _report(config: pytest.Config) -> Report | ConfigError:
    """One check per session, shared by every rule's item, with the configuration read at collection."""
    if _REPORT not in config.stash:
        try:
            config.stash[_REPORT] = check_project(config.rootpath, config.stash.get(_CONFIG, None))
        except ConfigError as exc:
            config.stash[_REPORT] = exc
    return config.stash[_REPORT]


class RuleItem(pytest.Item):
    """`framework-check[<rule id>]`: passes when the project has no failing finding of that rule."""

    def __init__(self, *, rule: Rule | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule

    def runtest(self) -> None:
        report = _report(self.config)
        if isinstance(report, ConfigError):
            raise ConventionFailure(f"framework check: {report}")
        if self.rule is None:  # the config item: the configuration loaded after all
            return
        mine = [f for f in report.findings if f.rule == self.rule.id]
        failing = [f for f in mine if f.severity == ERROR or report.strict]
        for finding in mine:
            if finding not in failing:
                warnings.warn(ConventionWarning(finding.one_line()), stacklevel=1)
        if failing:
            head = f"{len(failing)} finding{'s' * (len(failing) != 1)} for rule `{self.rule.id}` ({self.rule.doc}):"
            raise ConventionFailure(head + "\n\n" + "\n\n".join(str(f) for f in failing))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ConventionFailure):
            return excinfo.value.text
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def opted_in(config: pytest.Config) -> bool:
    """The project asked for the checks (module table), and this run is not on single files."""
    if not config.getini(INI) or not (config.rootpath / "app").is_dir():
        return False
    if config.args and all(Path(config.invocation_params.dir, a.split("::")[0]).is_file() for a in config.args):
        return False  # `pytest tests/test_x.py`: the checks belong to a run of the project, not of one file
    requested = {"framework", __name__}
    if requested & set(config.option.plugins or ()):
        return True
    try:
        return "check" in read_table(config.rootpath)
    except ValueError:
        return True  # an unreadable pyproject.toml: the config item reports it


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not opted_in(config):
        return
    app = config.rootpath / "app"
    try:
        config.stash[_CONFIG] = checked = load_config(config.rootpath)
    except ConfigError:
        items.append(RuleItem.from_parent(session, name=_name("config"), nodeid=_name("config"), rule=None, path=app))
        return
    for rule in RULES:
        if rule.id not in checked.disabled:
            name = _name(rule.id)
            items.append(RuleItem.from_parent(session, name=name, nodeid=name, rule=rule, path=app))


def _name(rule: str) -> str:
    """The item's name and node id, for `-k` and `--deselect`: `framework-check[forbidden-import]`."""
    return f"framework-check[{rule}]"
