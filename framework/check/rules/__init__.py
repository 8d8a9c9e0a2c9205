"""Every rule, in the order `--list-rules`, the pytest plugin and docs/conventions.md show them.

Each is declared once with `@rule(...)` in the module of its concern; this tuple only orders them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..registry import Rule
from .exports import route_exports, syntax_error
from .handlers import sync_body_read
from .imports import forbidden_import
from .responses import api_returns_json, controller_framework_free
from .router import router_error
from .urls import hard_coded_url, url_builder_mismatch, url_builder_missing

RULES: tuple[Rule, ...] = (
    router_error,
    syntax_error,
    route_exports,
    sync_body_read,
    forbidden_import,
    url_builder_missing,
    url_builder_mismatch,
    hard_coded_url,
    api_returns_json,
    controller_framework_free,
)
RULE_IDS: Mapping[str, Rule] = {r.id: r for r in RULES}
