"""One URL builder per route, each through `route_url` with the route's literal pattern.

Pages, the proxy and controllers link to routes only through these, so every use of a route can
be found (and `framework check` can verify the patterns and params).
"""

from __future__ import annotations

from framework.urls import route_url


def get_home_url() -> str:
    return route_url("/")


def get_health_url() -> str:
    return route_url("/api/health")


def get_login_url(return_to: str | None = None) -> str:
    """`/login`, or `/login?returnTo=...` to come back after signing in."""
    return route_url("/login", query={"returnTo": return_to})


def get_logout_url() -> str:
    return route_url("/api/logout")


def get_dashboard_url() -> str:
    return route_url("/dashboard")


def get_refresh_token_url(return_to: str) -> str:
    """The reference page's `getRefreshTokenUrl`: rotate the tokens, then go back to `return_to`."""
    return route_url("/api/refresh-token", query={"returnTo": return_to})


def get_file_url(name: str) -> str:
    return route_url("/api/files/[name]", {"name": name})
