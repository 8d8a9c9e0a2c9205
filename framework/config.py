"""`[tool.framework]` in pyproject.toml: the project's settings, checked at startup, one clear error per bad key.

```toml
[tool.framework]
base_path = "/shop"                       # the whole app under a prefix; route_url() includes it
trailing_slash = false                    # true: /about/ is the canonical URL, /about answers 308 to it
env_file = ".env"                         # loaded at startup; never overrides a real environment variable
max_body_size = "10MiB"                   # and max_head_size, head_timeout, max_concurrency (docs/security.md)
trusted_origins = ["https://app.example"]
allowed_hosts = ["mybox.local"]           # framework dev only
openapi = true                            # framework start serves /_framework/openapi.json and /_framework/docs

[[tool.framework.headers]]                # response headers by path (the proxy's matcher syntax)
source = "/api/:path*"
headers = { "cache-control" = "no-store" }

[[tool.framework.redirects]]              # before the proxy; 308 when permanent, else 307
source = "/blog/:slug"
destination = "/posts/:slug"
permanent = true
```

Command-line options win over the file. `load_settings` gives the effective `Settings` and, for each,
where it came from; `framework config` prints both. `[tool.framework.check]` belongs to `framework check`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .patterns import MatcherError, compile_matcher
from .settings import (
    HeaderRule,
    RedirectRule,
    Settings,
    normalise_origin,
    parse_allowed_host,
    parse_body_size,
    parse_concurrency,
    parse_head_size,
    parse_seconds,
)
from .urls import ENV_BASE_PATH, ENV_TRAILING_SLASH

PYPROJECT = "pyproject.toml"
DEFAULT = "default"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DESTINATION_PARAMS = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_TABLES = ("check",)  # sub-tables read by other commands


class ConfigError(ValueError):
    """A `[tool.framework]` value the framework cannot use; the message names the key and what to write."""


@dataclass(frozen=True, slots=True)
class Effective:
    """The settings in force and, for each field, where its value came from (`default`, `pyproject.toml`,
    or the command-line option that set it)."""

    settings: Settings
    sources: Mapping[str, str]


def _text(key: str, value: object) -> str:
    """A scalar written in TOML as a number or a string: `max_body_size = 1048576` or `"1MiB"`."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a number or a string, got {type(value).__name__}")
    return str(value)


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _strings(key: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('expected a list of strings, like ["https://app.example"]')
    return value


def _base_path(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError('expected a string like "/shop"')
    if value in ("", "/"):
        return ""
    parts = value.split("/")
    if (
        not value.startswith("/")
        or value.endswith("/")
        or any(p in ("", ".", "..") for p in parts[1:])
        or any(c in value for c in "?#%\\ ")
    ):
        raise ValueError(
            'expected a path like "/shop" or "/docs/v2": a leading `/`, no trailing `/`, no `.`, '
            "`..`, empty segments, spaces, `?`, `#`, `%` or backslashes"
        )
    return value


def _source(where: str, value: object, *, named: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f'{where}: `source` is missing or not a string; write one like "/api/:path*"')
    try:
        compile_matcher(value, named=named)
    except MatcherError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return value


def _entries(key: str, value: object, fields: set[str]) -> list[tuple[str, dict[str, Any]]]:
    example = {
        "headers": "[[tool.framework.headers]] with source and headers",
        "redirects": "[[tool.framework.redirects]] with source, destination and permanent",
    }[key]
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise ValueError(f"expected a list of tables: write {example}")
    out = []
    for i, entry in enumerate(value):
        where = f"entry {i + 1}"
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise ValueError(f"{where}: unknown key `{unknown[0]}`{_did_you_mean(unknown[0], fields)}")
        out.append((where, entry))
    return out


def _headers(key: str, value: object) -> tuple[HeaderRule, ...]:
    rules = []
    for where, entry in _entries(key, value, {"source", "headers"}):
        headers = entry.get("headers")
        if not isinstance(headers, dict) or not headers:
            raise ValueError(f'{where}: `headers` must be a table like {{ "x-frame-options" = "DENY" }}')
        for name, text in headers.items():
            if (
                not _TOKEN.fullmatch(name)
                or not isinstance(text, str)
                or any(c in "\r\n\0" or ord(c) > 255 for c in text)
            ):
                raise ValueError(
                    f"{where}: header {name!r} needs a token name and a Latin-1 string value without CR or LF"
                )
        rules.append(HeaderRule(_source(where, entry.get("source")), tuple(headers.items())))
    return tuple(rules)


def _redirects(key: str, value: object) -> tuple[RedirectRule, ...]:
    rules = []
    for where, entry in _entries(key, value, {"source", "destination", "permanent"}):
        source = _source(where, entry.get("source"), named=True)
        destination = entry.get("destination")
        if not isinstance(destination, str) or not destination.startswith(("/", "http://", "https://")):
            raise ValueError(f'{where}: `destination` must be a path like "/posts/:slug" or an http(s) URL')
        named = set(compile_matcher(source, named=True).groupindex)
        missing = [p for p in _DESTINATION_PARAMS.findall(destination.split("://", 1)[-1]) if p not in named]
        if missing:
            raise ValueError(
                f"{where}: `destination` uses `:{missing[0]}`, which `source` does not capture"
                f"{_did_you_mean(missing[0], named)}"
            )
        permanent = entry.get("permanent", True)
        if not isinstance(permanent, bool):
            raise ValueError(f"{where}: `permanent` must be true (308) or false (307)")
        rules.append(RedirectRule(source, destination, permanent))
    return tuple(rules)


def _parsed(parse: Callable[[str], Any]) -> Callable[[str, object], Any]:
    return lambda key, value: parse(_text(key, value))


# key -> how to read its TOML value into the Settings field of the same name
READERS: Mapping[str, Callable[[str, object], Any]] = {
    "base_path": _base_path,
    "trailing_slash": _flag,
    "env_file": lambda key, value: _text(key, value),
    "max_body_size": _parsed(parse_body_size),
    "max_head_size": _parsed(parse_head_size),
    "head_timeout": _parsed(parse_seconds),
    "max_concurrency": _parsed(parse_concurrency),
    "trusted_origins": lambda key, value: tuple(map(normalise_origin, _strings(key, value))),
    "allowed_hosts": lambda key, value: tuple(map(parse_allowed_host, _strings(key, value))),
    "headers": _headers,
    "redirects": _redirects,
    "openapi": _flag,
}


def _did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def read_table(root: Path) -> dict[str, Any]:
    """`[tool.framework]` from `root/pyproject.toml` (empty without one), or ConfigError for unreadable TOML."""
    path = root / PYPROJECT
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{PYPROJECT}: cannot be read ({exc}); fix the file, it is TOML") from None
    table = data.get("tool", {}).get("framework", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{PYPROJECT}: [tool.framework] must be a table")
    return table


def load_settings(root: Path, overrides: Mapping[str, tuple[Any, str]] | None = None) -> Effective:
    """The effective settings for the project at `root`: defaults, then `[tool.framework]`, then `overrides`
    (field -> (value, the option that set it), from the command line). One ConfigError per bad key."""
    values: dict[str, Any] = {}
    sources = {field.name: DEFAULT for field in dataclasses.fields(Settings)}
    for key, value in read_table(root).items():
        if key in _TABLES:
            continue
        reader = READERS.get(key)
        if reader is None:
            raise ConfigError(
                f"{PYPROJECT} [tool.framework]: unknown key `{key}`{_did_you_mean(key, READERS)} "
                f"Known keys: {', '.join(READERS)}."
            )
        try:
            values[key] = reader(key, value)
        except ValueError as exc:
            raise ConfigError(f"{PYPROJECT} [tool.framework] `{key}`: {exc}") from None
        sources[key] = PYPROJECT
    for key, (value, option) in (overrides or {}).items():
        values[key], sources[key] = value, option
    return Effective(Settings(**values), sources)


def project_root(root: str | os.PathLike[str]) -> Path:
    """Resolve the project root and make it the project of this process: first on `sys.path`, so routes can
    `from lib.controllers import ...`, and its URL settings in the environment for `route_url()`, unless
    the environment has them already (a server sets them from its effective settings)."""
    path = Path(root).resolve()
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    if ENV_BASE_PATH not in os.environ or ENV_TRAILING_SLASH not in os.environ:
        try:
            table = read_table(path)
            os.environ.setdefault(ENV_BASE_PATH, _base_path("base_path", table.get("base_path", "")))
            os.environ.setdefault(
                ENV_TRAILING_SLASH, "1" if _flag("trailing_slash", table.get("trailing_slash", False)) else ""
            )
        except ValueError:  # ConfigError included: reported where the settings are loaded, with the key
            pass
    return path


def publish_url_settings(settings: Settings) -> None:
    """Put the app's URL settings where `route_url()` reads them: this process and the workers it starts."""
    os.environ[ENV_BASE_PATH] = settings.base_path
    os.environ[ENV_TRAILING_SLASH] = "1" if settings.trailing_slash else ""


def load_env_file(root: Path, settings: Settings) -> list[str]:
    """Set the variables of `settings.env_file` that the environment does not have already; the names set.

    A missing file is a ConfigError (the setting names it); a real environment variable always wins.
    """
    if settings.env_file is None:
        return []
    from dotenv import dotenv_values

    path = root / settings.env_file
    if not path.is_file():
        raise ConfigError(
            f"{PYPROJECT} [tool.framework] `env_file`: {settings.env_file} does not exist in {root}; "
            "create it or remove the key"
        )
    added = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            added.append(name)
    return added
