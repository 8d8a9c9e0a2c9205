"""GET /login shows the sign-in form; POST /login checks the password and sends the user to a safe `returnTo`."""

from html import escape
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, PlainTextResponse

from framework.server import safe_redirect
from lib.controllers.auth_controller import LoginThrottled, demo_credentials, login
from lib.html import html_response
from lib.urls import get_dashboard_url, get_login_url

MAX_BODY = 4096
FIELD = {"type": "string", "minLength": 1, "maxLength": 256}  # lib/controllers/auth_controller.py: MAX_FIELD

# POST reads its form by hand (a 4 KiB cap of its own, ASCII only): the OpenAPI document learns it from here.
openapi_extra = {
    "POST": {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {"username": FIELD, "password": FIELD},
                        "additionalProperties": False,  # beyond 10 fields the form is refused as malformed
                    }
                }
            },
        }
    }
}


def form(return_to: str | None, error: str | None = None, status: int = 200) -> HTMLResponse:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    demo = demo_credentials()
    hint = (
        f'<p class="muted">Demo user: <code>{escape(demo[0])}</code>, password <code>{escape(demo[1])}</code>.</p>'
        if demo
        else ""
    )
    body = f"""<h1>Sign in</h1>
{message}
<form class="stack" method="post" action="{escape(get_login_url(return_to))}">
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
{hint}"""
    return html_response("Sign in", body, status=status)


def GET(request):
    return form(request.query_params.get("returnTo"))


async def POST(request):
    return_to = request.query_params.get("returnTo")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return PlainTextResponse("Send the form as application/x-www-form-urlencoded", status_code=415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return PlainTextResponse("Form too large", status_code=413)
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=10, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return PlainTextResponse("Malformed form", status_code=400)
    username = fields.get("username", [""])[0]
    password = fields.get("password", [""])[0]
    address = request.client.host if request.client else None  # with --proxy-headers: the proxy's X-Forwarded-For
    result = await run_in_threadpool(login, username, password, address)  # scrypt is slow: keep the loop free
    if isinstance(result.error, LoginThrottled):
        return PlainTextResponse(
            result.error.status_text,
            status_code=result.error.status,
            headers={"retry-after": str(result.error.retry_after)},
        )
    if result.error:
        return form(return_to, result.error.status_text, result.error.status)
    return safe_redirect(request, return_to, fallback=get_dashboard_url(), status=303)
