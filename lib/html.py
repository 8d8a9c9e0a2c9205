"""The example app's HTML shell: plain, tidy pages, no JavaScript. Every inserted value is escaped by the caller."""

from __future__ import annotations

from html import escape

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } a { color: #0645ad; }
form.stack { display: grid; gap: .75rem; max-width: 20rem; }
label { display: grid; gap: .25rem; } input { font: inherit; padding: .4rem; }
button { font: inherit; padding: .4rem .9rem; cursor: pointer; }
.error { color: #a00; } .muted { color: #666; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
"""


def page(title: str, body: str) -> str:
    """A complete HTML document; `body` is trusted HTML built with `escape()` around every value."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
