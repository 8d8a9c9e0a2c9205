"""POST /api/logout: revoke this login's tokens, delete the cookies, go to the sign-in page."""

from starlette.responses import RedirectResponse

from lib.controllers.auth_controller import logout
from lib.urls import get_login_url

responses = {303: "Signed out (also when nobody was signed in): to the sign-in page"}


def POST(request) -> RedirectResponse:
    """Sign out: revoke this login's tokens and delete the cookies."""
    logout()
    return RedirectResponse(get_login_url(), status_code=303)
