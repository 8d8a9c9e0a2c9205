"""GET /: the example app's index page."""

from starlette.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>framework example</title></head>
<body>
<h1>framework example app</h1>
<p>Every URL here is a <code>route.py</code> under <code>app/</code>.</p>
<ul><li><a href="/api/health">/api/health</a></li></ul>
</body></html>
"""


def GET(request):
    return HTMLResponse(PAGE)
