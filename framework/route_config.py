"""Route segment config: module-level names in a `route.py` (Next.js's `export const revalidate = 60`), read
once at load time; a bad value is a load problem with the file, line and allowed values.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from .errors import Problem, location
from .locations import line_of

Dynamic = Literal["auto", "force-dynamic", "force-static"]
# loader.METHODS (the loader imports this module, so the names are written here again; a test keeps them equal)
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")
FOREVER = math.inf  # `RouteConfig.cache_seconds` of `dynamic = "force-static"`: kept for the life of the process


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """Module-level settings of one route (Next.js's route segment config), read once at load time.

    | name                        | values                     | effect                                         |
    |-----------------------------|----------------------------|------------------------------------------------|
    | `revalidate = 60`           | int >= 0 (0: not cached)   | GET/HEAD responses cached per URL, stale-while-revalidate |
    | `dynamic = "force-static"`  | "auto", "force-dynamic", "force-static" | "force-static": GET computed once per URL |
    | `cache_private = True`      | bool                       | cache also requests with cookies or `Authorization` |
    | `max_duration = 30`         | seconds > 0, or None       | a longer request is cancelled: 504             |
    | `max_body_size = 1_000_000` | int >= 1, or None (no cap) | this route's request-body cap instead of the server's |
    | `allow_cross_origin = True` | bool                       | skip the cross-origin check (webhooks, public APIs) |
    | `tags = ["todos"]`          | a list of strings          | the OpenAPI tags of the route's operations     |
    | `responses = {404: "..."}`  | status -> text, or method -> that | more statuses in the OpenAPI document      |
    | `openapi_extra = {"POST": {...}}` | method -> OpenAPI operation fields | merged into that operation (a body read by hand) |
    """

    max_body_size: int | None = None
    own_body_cap: bool = False  # False: `max_body_size` was not set, the server's cap applies
    allow_cross_origin: bool = False
    revalidate: int = 0
    dynamic: Dynamic = "auto"
    cache_private: bool = False
    max_duration: float | None = None
    tags: tuple[str, ...] | None = None  # None: from the URL (framework.openapi)
    responses: tuple[tuple[str, int, str], ...] = ()  # (method, or "" for every one; status; description)
    openapi_extra: tuple[tuple[str, Any], ...] = ()  # (method, operation fields merged into its document)

    @property
    def cache_seconds(self) -> float | None:
        """How long a cached GET response stays fresh: None when the route is not cached, `FOREVER` for
        `dynamic = "force-static"` alone (with a `revalidate` too, it is refreshed every `revalidate` s).

        >>> RouteConfig().cache_seconds, RouteConfig(revalidate=5).cache_seconds, RouteConfig(dynamic="force-static").cache_seconds
        (None, 5, inf)
        """
        if self.revalidate > 0:
            return self.revalidate
        return FOREVER if self.dynamic == "force-static" else None


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _tags(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(t, str) and t.strip() for t in value)


def _statuses(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(_whole(k, 100) and k <= 599 and isinstance(v, str) and v.strip() for k, v in value.items())
    )


def _responses(value: object) -> bool:
    """`{404: "No such todo"}` for every method, `{"POST": {303: "Signed in"}}` for one; both may mix."""
    if not isinstance(value, dict) or not value:
        return False
    flat = {k: v for k, v in value.items() if not isinstance(k, str)}
    methods = {k: v for k, v in value.items() if isinstance(k, str)}
    return (not flat or _statuses(flat)) and all(k in _METHODS and _statuses(v) for k, v in methods.items())


def _extra(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(k in _METHODS and isinstance(v, dict) and all(isinstance(f, str) for f in v) for k, v in value.items())
    )


def response_rows(value: dict[Any, Any]) -> tuple[tuple[str, int, str], ...]:
    """`responses` as (method or "", status, description) rows.

    >>> response_rows({404: "No such todo", "POST": {201: "Created"}})
    (('', 404, 'No such todo'), ('POST', 201, 'Created'))
    """
    rows = []
    for key, text in value.items():
        if isinstance(key, str):
            rows += [(key, status, words) for status, words in text.items()]
        else:
            rows.append(("", key, text))
    return tuple(rows)


def _seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@dataclass(frozen=True, slots=True)
class ConfigName:
    """One module-level name a route may set: what it accepts, and what to say when it is something else."""

    name: str
    accepts: Callable[[object], bool]
    wrong: str  # follows "`name = value` "
    fix: str


DYNAMIC_VALUES: tuple[Dynamic, ...] = ("auto", "force-dynamic", "force-static")
CONFIG = (
    ConfigName(
        "revalidate",
        lambda v: _whole(v, 0),
        "is not a whole number of seconds (0 or more)",
        "Write e.g. `revalidate = 60`: GET responses are cached for 60 s, then refreshed in the background; "
        '0 (the default) never caches. To keep a response for the life of the process, write `dynamic = "force-static"`.',
    ),
    ConfigName(
        "dynamic",
        lambda v: v in DYNAMIC_VALUES,
        "is not one of the allowed values",
        'Write `dynamic = "auto"` (the default: not cached), "force-dynamic" (the same, said explicitly) or '
        '"force-static" (the GET response of each URL computed once and kept).',
    ),
    ConfigName(
        "cache_private",
        lambda v: isinstance(v, bool),
        "is not True or False",
        "Write `cache_private = True` to cache (and share) GET responses also for requests that carry cookies or "
        "an Authorization header; only for responses that are the same for everyone.",
    ),
    ConfigName(
        "max_duration",
        lambda v: v is None or _seconds(v),
        "is not a number of seconds above 0",
        "Write e.g. `max_duration = 30` or `max_duration = 2.5`: a request running longer is answered 504; "
        "None (the default) sets no limit.",
    ),
    ConfigName(
        "max_body_size",
        lambda v: v is None or _whole(v, 1),
        "is not a size in bytes",
        "Write a whole number of bytes, e.g. `max_body_size = 50 * 1024 * 1024`, or None for no cap.",
    ),
    ConfigName(
        "allow_cross_origin",
        lambda v: isinstance(v, bool),
        "is not True or False",
        "Write `allow_cross_origin = True` to accept cross-origin unsafe requests on this route.",
    ),
    ConfigName(
        "tags",
        _tags,
        "is not a list of strings",
        'Write e.g. `tags = ["todos"]`: the OpenAPI tags of this route\'s operations (by default the first '
        "folder under app/api).",
    ),
    ConfigName(
        "responses",
        _responses,
        "is not a map of statuses to descriptions",
        'Write e.g. `responses = {404: "No such todo"}` (every method) or `{"POST": {303: "Signed in"}}` (one '
        "method): statuses from 100 to 599, each with a non-empty description, for the OpenAPI document.",
    ),
    ConfigName(
        "openapi_extra",
        _extra,
        "is not a map of methods to OpenAPI operation fields",
        'Write e.g. `openapi_extra = {"POST": {"requestBody": {...}}}`: fields merged into that method\'s '
        "operation in the OpenAPI document, for what a handler reads by hand instead of through its annotations.",
    ),
)
CONFIG_NAMES = tuple(c.name for c in CONFIG)
DEFAULT = RouteConfig()  # shared by every route that sets no config: one object, not one per route


def read_config(file: str, module: ModuleType) -> RouteConfig | Problem:
    """The route's `RouteConfig`, or the problem with a value it cannot take (file, line, allowed values)."""
    namespace = vars(module)
    if "__getattr__" not in namespace:  # else a name may come from the module's own __getattr__
        if namespace.keys().isdisjoint(CONFIG_NAMES):
            return DEFAULT
        namespace = {name: namespace[name] for name in CONFIG_NAMES if name in namespace}
    values: dict[str, Any] = {}
    for spec in CONFIG:
        if spec.name in namespace or hasattr(module, spec.name):
            value = getattr(module, spec.name)
            if not spec.accepts(value):
                return _config_problem(
                    file, module, spec.name, f"`{spec.name} = {_shown(value)}` {spec.wrong}.", spec.fix
                )
            values[spec.name] = value
    dynamic, revalidate = values.get("dynamic"), values.get("revalidate")
    if dynamic == "force-dynamic" and revalidate:
        return _config_problem(
            file,
            module,
            "dynamic",
            f'`dynamic = "force-dynamic"` contradicts `revalidate = {revalidate}`.',
            "Remove one: force-dynamic never caches, revalidate caches GET responses.",
        )
    if dynamic == "force-static" and revalidate == 0:
        return _config_problem(
            file,
            module,
            "dynamic",
            '`dynamic = "force-static"` contradicts `revalidate = 0`.',
            "Remove `revalidate = 0` to keep responses for the life of the process, or set it above 0 to refresh them.",
        )
    if "tags" in values:
        values["tags"] = tuple(values["tags"])
    if "responses" in values:
        values["responses"] = response_rows(values["responses"])
    if "openapi_extra" in values:
        values["openapi_extra"] = tuple(values["openapi_extra"].items())
    return RouteConfig(own_body_cap="max_body_size" in values, **values)


def _config_problem(file: str, module: ModuleType, name: str, message: str, fix: str) -> Problem:
    return Problem("bad-route-config", message, fix, (file,), line_of(module, name))


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def config_suggestion(name: str) -> str | None:
    """The route config name a module-level name was meant to be, by name alone.

    >>> config_suggestion("revalidte"), config_suggestion("maxDuration"), config_suggestion("users")
    ('revalidate', 'max_duration', None)
    """
    if name.startswith("_") or name in CONFIG_NAMES:
        return None
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    if snake in CONFIG_NAMES:
        return snake
    close = difflib.get_close_matches(snake, CONFIG_NAMES, n=1, cutoff=0.8)
    return close[0] if close else None


def config_warnings(file: str, module: ModuleType, config: RouteConfig, methods: Collection[str]) -> list[str]:
    """Config that changes nothing: a misspelled name (`revalidte = 10`, `maxDuration = 5`), caching on a
    route without GET, `cache_private` on a route that is not cached. Functions, classes and modules are
    never taken for misspelled config."""
    found: list[str] = []
    for name, value in vars(module).items():
        if name[:1] == "_" or callable(value) or inspect.ismodule(value):  # `_x`: never a suggestion
            continue
        if suggestion := config_suggestion(name):
            where = location(file, line_of(module, name))
            found.append(f"{where}: `{name}` is not route config, so it changes nothing. Did you mean `{suggestion}`?")
    if config.cache_seconds is not None and "GET" not in methods:
        name = "revalidate" if config.revalidate else "dynamic"
        found.append(
            f"{location(file, line_of(module, name))}: `{name}` changes nothing here: only GET (and HEAD) "
            "responses are cached, and this route exports no GET."
        )
    if config.cache_private and config.cache_seconds is None:
        found.append(
            f"{location(file, line_of(module, 'cache_private'))}: `cache_private = True` changes nothing without "
            '`revalidate = N` or `dynamic = "force-static"`.'
        )
    return found
