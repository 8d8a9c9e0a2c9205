"""GET /dashboard: who is signed in, when the access token expires, the files to download.

The proxy (proxy.py) sends visitors without a valid access token to sign in or to refresh first.
"""

import time
from datetime import UTC, datetime
from html import escape

from starlette.responses import RedirectResponse

from lib.controllers.auth_controller import current_session
from lib.controllers.files_controller import list_files
from lib.html import html_response
from lib.urls import get_dashboard_url, get_file_url, get_login_url, get_logout_url, get_refresh_token_url


def GET(request):
    result = current_session()
    if result.error:  # the proxy checked a moment ago; the token may have expired since
        return RedirectResponse(get_login_url(get_dashboard_url()), status_code=307)
    session = result.data
    expires = datetime.fromtimestamp(session.access_expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = max(0, int(session.access_expires_at - time.time()))
    files = (
        "\n".join(
            f'<li><a href="{escape(get_file_url(f.name))}">{escape(f.name)}</a> '
            f'<span class="muted">({f.size} bytes, {escape(f.media_type)})</span></li>'
            for f in list_files().data or []
        )
        or "<li class=muted>No files in the data folder.</li>"
    )
    body = f"""<h1>Dashboard</h1>
<dl>
<dt>Signed in as</dt><dd id="user">{escape(session.username)}</dd>
<dt>Access token expires</dt><dd id="expires">{expires} (in {left} s)</dd>
</dl>
<p>When it has expired, reload this page: the proxy refreshes the tokens and brings you back here.
Or <a href="{escape(get_refresh_token_url(get_dashboard_url()))}">refresh now</a>.</p>
<h2>Files</h2>
<ul>
{files}
</ul>
<form method="post" action="{escape(get_logout_url())}"><button type="submit">Sign out</button></form>"""
    return html_response("Dashboard", body, headers={"cache-control": "no-store"})
