"""POST /api/logout: revoke this login's tokens, delete the cookies, go to the sign-in page."""

from starlette.responses import RedirectResponse

from lib.controllers.auth_controller import logout
from lib.urls import get_login_url


def POST(request):
    logout()
    return RedirectResponse(get_login_url(), status_code=303)
