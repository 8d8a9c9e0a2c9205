"""GET /: the example app's index page."""

from html import escape

from lib.controllers.auth_controller import demo_credentials
from lib.html import html_response
from lib.urls import get_dashboard_url, get_health_url, get_login_url


def GET(request):
    demo = demo_credentials()
    hint = f" (sign in as <code>{escape(demo[0])}</code> / <code>{escape(demo[1])}</code>)" if demo else ""
    body = f"""<h1>framework example app</h1>
<p>Every URL here is a <code>route.py</code> under <code>app/</code>.</p>
<ul>
<li><a href="{escape(get_dashboard_url())}">Dashboard</a>: the refresh-token demo{hint}</li>
<li><a href="{escape(get_login_url())}">Sign in</a></li>
<li><a href="{escape(get_health_url())}">/api/health</a></li>
</ul>"""
    return html_response("framework example", body)
