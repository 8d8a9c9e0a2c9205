"""GET /api/refresh-token?returnTo=...: rotate the tokens, then go back to `returnTo` (the reference page's route).

Unlike the page's literal code, `returnTo` is followed only when it stays on this site (`safe_redirect`).
"""

from starlette.responses import PlainTextResponse

from framework.server import safe_redirect
from lib.controllers.token_controller import refresh_token
from lib.urls import get_dashboard_url


def GET(request):
    return_to = request.query_params.get("returnTo")

    result = refresh_token()

    if result.error:
        return PlainTextResponse(result.error.status_text, status_code=result.error.status)

    return safe_redirect(request, return_to, fallback=get_dashboard_url())
