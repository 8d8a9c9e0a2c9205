"""Runs before routing on the dashboard and downloads: sign in first, or refresh an expired access token.

| cookies                                   | answer                                                   |
|-------------------------------------------|----------------------------------------------------------|
| a valid access token                      | go on to the route                                       |
| no valid access token, a refresh token    | 307 to `get_refresh_token_url(current URL)`, which comes back here |
| neither                                   | 307 to `get_login_url(current URL)`                      |

Only GET and HEAD are sent to sign in: they are what a browser navigates and downloads with. Other methods
go on to the route, which answers 405 (these routes export only GET) or checks the session itself, as every
controller here does; a redirect to a sign-in page would tell an API client nothing.

The cookie names follow the request's scheme: `__Host-access_token` / `__Host-refresh_token` when the
cookies are Secure (https, or `COOKIE_SECURE=1`), `access_token` / `refresh_token` otherwise.
"""

from starlette.responses import RedirectResponse

from lib.config import auth_cookies
from lib.controllers.auth_controller import check_access_token
from lib.urls import get_login_url, get_refresh_token_url

config = {"matcher": ["/dashboard/:path*", "/api/files/:name"]}


def proxy(request):
    if request.method not in ("GET", "HEAD"):
        return None
    names = auth_cookies(request.url.scheme)
    if check_access_token(request.cookies.get(names.access)).ok:
        return None
    # The URL as the browser sent it (still percent-encoded), so it comes back unchanged.
    current_url = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    if request.url.query:
        current_url += "?" + request.url.query
    if request.cookies.get(names.refresh):
        return RedirectResponse(get_refresh_token_url(current_url), status_code=307)
    return RedirectResponse(get_login_url(current_url), status_code=307)
