"""The example app's HTML shell: plain, tidy pages, no JavaScript. Every inserted value is escaped by the caller.

Every page goes out through `html_response`, with headers that let a browser do as little as the
pages need:

| header                      | value                                  | why |
|-----------------------------|----------------------------------------|-----|
| `Content-Security-Policy`   | `default-src 'none'; style-src 'sha256-<STYLE>'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'` | no script, image, font or connection at all; only our own inline `<style>` (by its hash); forms post only here; no framing (clickjacking); no `<base>` |
| `X-Frame-Options`           | `DENY`                                 | `frame-ancestors` for browsers without CSP 2 |
| `X-Content-Type-Options`    | `nosniff`                              | the declared type is the type |
| `Referrer-Policy`           | `strict-origin-when-cross-origin`      | other sites see at most our origin, never a path or `returnTo`. Not `no-referrer`: with it, browsers send `Origin: null` on our own form POSTs, which an Origin check would refuse |
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } a { color: #0645ad; }
form.stack { display: grid; gap: .75rem; max-width: 20rem; }
label { display: grid; gap: .25rem; } input { font: inherit; padding: .4rem; }
button { font: inherit; padding: .4rem .9rem; cursor: pointer; }
.error { color: #a00; } .muted { color: #666; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def page(title: str, body: str) -> str:
    """A complete HTML document; `body` is trusted HTML built with `escape()` around every value."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def html_response(
    title: str, body: str, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """`page(title, body)` as a response carrying `SECURITY_HEADERS` (plus `headers`)."""
    return HTMLResponse(page(title, body), status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
