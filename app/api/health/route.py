"""GET /api/health: a liveness probe for load balancers and the benchmarks."""

from starlette.responses import PlainTextResponse


def GET(request) -> PlainTextResponse:
    """Liveness probe: `ok` while the process serves."""
    return PlainTextResponse("ok")
