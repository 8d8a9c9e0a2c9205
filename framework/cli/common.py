"""What every command shares: the project root, logging, the server and limit options, the errors.

Errors print one paragraph and what to do next, never a traceback. Exit codes: 0 ok, 1 the project
has a problem (`ProjectError`, a refused route tree), 2 a usage error (click's `UsageError`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from click.core import ParameterSource

from .. import settings as values  # the value parsers, shared with [tool.framework]
from ..config import ConfigError, load_settings
from ..errors import RouteTreeError
from ..escape import EscapingFormatter
from ..settings import Settings

log = logging.getLogger("framework")
F = TypeVar("F", bound=Callable[..., Any])
DEFAULTS = Settings()
DEFAULT_PORT = 3000  # as next dev


class CommandError(click.ClickException):
    """One line, `framework start: error: ...`, and exit code 2: bad input."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        context = click.get_current_context(silent=True)  # raised while the command runs: name it
        self.command = context.command_path if context is not None else "framework"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.command}: error: {self.format_message()}", err=True)


class ProjectError(CommandError):
    """The project cannot be served or checked as it is: exit 1 with the message (it names the files)."""

    exit_code = 1


class Command(click.Command):
    """A command whose refused route tree (`RouteTreeError`) is a `ProjectError` (exit 1, the problems), and
    whose bad configuration (`ConfigError`) a usage error (exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RouteTreeError as exc:
            raise ProjectError(str(exc)) from None
        except ConfigError as exc:  # a bad [tool.framework] key or env_file: a usage error naming it
            raise CommandError(str(exc)) from None


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter("framework: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


def checked_root(value: str) -> Path:
    """`--root` as a resolved folder that holds `app/`, or a usage error saying what to pass."""
    root = Path(value).resolve()
    if not root.is_dir():
        raise CommandError(f"--root {value}: no such directory. Pass the folder that holds your `app/` folder.")
    if not (root / "app").is_dir():
        raise CommandError(
            f"no `app/` folder in {root}. Run the command from your project's root, or pass --root PATH; "
            "routes live in app/**/route.py."
        )
    return root


class Parsed(click.ParamType[Any, Any]):
    """An option value read by one of `settings`' parsers; their ValueError becomes a usage error."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default, already parsed
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def root_option(func: F) -> F:
    return click.option("--root", default=".", show_default=True, help="project folder holding app/")(func)


def server_options(func: F) -> F:
    func = click.option(
        "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="port to bind"
    )(func)
    return click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")(func)


def _limit(flag: str, parse: Callable[[str], Any], metavar: str, help: str, default: Any = None) -> Callable[[F], F]:
    """One option of the limits group; a `default` of None means a repeatable option (a tuple of values)."""
    dest = flag.removeprefix("--").replace("-", "_") + ("s" if default is None else "")
    if default is None:
        return click.option(flag, dest, type=Parsed(metavar, parse), multiple=True, help=f"{help} (repeatable)")
    return click.option(flag, dest, type=Parsed(metavar, parse), default=default, help=help)


def limit_options(*, dev: bool = False) -> Callable[[F], F]:
    """The limits of `framework start` / `framework dev` (docs/security.md), filling one `Settings`."""
    d = DEFAULTS
    options = [
        _limit(
            "--max-body-size",
            values.parse_body_size,
            "SIZE",
            "largest request body; 413 beyond it; `none` for no cap  [default: 10MiB]",
            d.max_body_size,
        ),
        _limit(
            "--max-head-size",
            values.parse_head_size,
            "SIZE",
            "largest request line + headers; 431 and close beyond it  [default: 64KiB]",
            d.max_head_size,
        ),
        _limit(
            "--head-timeout",
            values.parse_seconds,
            "SECONDS",
            "a client must send its whole request head within this "
            f"time; 408 and close otherwise  [default: {d.head_timeout:g}]",
            d.head_timeout,
        ),
        _limit(
            "--max-concurrency",
            values.parse_concurrency,
            "N",
            "connections and requests in flight per process; 503 "
            f"beyond it; `none` for no cap  [default: {d.max_concurrency}]",
            d.max_concurrency,
        ),
        _limit(
            "--trusted-origin",
            values.normalise_origin,
            "ORIGIN",
            "an origin allowed to send cross-origin unsafe requests, like https://app.example",
        ),
    ]
    if dev:
        options.append(
            _limit(
                "--allowed-host",
                values.parse_allowed_host,
                "NAME",
                "a Host name this dev server answers besides localhost, 127.0.0.1, ::1 and the --host address",
            )
        )

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def command_line_overrides(limits: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """The limit options given on this command line: setting -> (value, the option). An option left at its
    default does not override `[tool.framework]`."""
    context = click.get_current_context()
    flags = {p.name: p.opts[0] for p in context.command.params}
    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return {name: (value, flags[name]) for name, value in limits.items() if context.get_parameter_source(name) in given}


def effective_settings(root: Path, limits: dict[str, Any]) -> Settings:
    """The project's `[tool.framework]` with the options given on this command line on top; a bad key in
    the file raises ConfigError (a usage error naming it)."""
    return load_settings(root, command_line_overrides(limits)).settings
