"""GET /api/refresh-token?returnTo=...: rotate the tokens, then go back to `returnTo` (the reference page's route).

Unlike the page's literal code, `returnTo` is followed only when it stays on this site (`safe_redirect`).
"""

from pydantic import BaseModel, Field
from starlette.responses import PlainTextResponse, RedirectResponse

from framework.server import safe_redirect
from lib.controllers.token_controller import refresh_token
from lib.urls import get_dashboard_url


class Back(BaseModel):
    returnTo: str | None = Field(None, description="Where to go afterwards: a path or URL of this site")


responses = {
    307: "Tokens rotated (both cookies set): back to `returnTo`, or to the dashboard when it leaves this site",
    401: "No valid refresh token (missing, unknown, revoked, reused or expired): both cookies deleted",
}


def GET(request, query: Back) -> RedirectResponse | PlainTextResponse:
    """Rotate the access and refresh tokens, then go back."""
    result = refresh_token()

    if result.error:
        return PlainTextResponse(result.error.status_text, status_code=result.error.status)

    return safe_redirect(request, query.returnTo, fallback=get_dashboard_url())
