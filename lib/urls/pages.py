"""URL builders for the example app's own routes: one per route, so `framework check` can track their uses."""

from framework.urls import route_url


def get_home_url() -> str:
    """The index page (app/route.py)."""
    return route_url("/")


def get_health_url() -> str:
    """The liveness probe (app/api/health/route.py)."""
    return route_url("/api/health")
