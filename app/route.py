"""GET /: the example app's index page."""

from html import escape

from starlette.responses import HTMLResponse

from lib.html import page
from lib.urls import get_dashboard_url, get_health_url, get_login_url

BODY = f"""<h1>framework example app</h1>
<p>Every URL here is a <code>route.py</code> under <code>app/</code>.</p>
<ul>
<li><a href="{escape(get_dashboard_url())}">Dashboard</a>: the refresh-token demo (sign in as
<code>demo</code> / <code>demo-password</code>)</li>
<li><a href="{escape(get_login_url())}">Sign in</a></li>
<li><a href="{escape(get_health_url())}">/api/health</a></li>
</ul>"""


def GET(request):
    return HTMLResponse(page("framework example", BODY))
