"""GET /api/health: a liveness probe for load balancers and the benchmarks."""

from starlette.responses import PlainTextResponse


def GET(request):
    return PlainTextResponse("ok")
