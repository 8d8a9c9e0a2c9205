"""`framework.server`: safe_redirect never leaves the site; next() carries headers for the proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from framework.server import Next, next, safe_redirect, safe_target

SELF = "http://127.0.0.1:3000/api/refresh-token?returnTo=x"
FALLBACK = "/dashboard"

# Every one of these must fall back to /dashboard.
OPEN_REDIRECT_PAYLOADS = [
    "https://evil.com",
    "http://evil.com/dashboard",
    "//evil.com",
    "//evil.com/%2F..",
    "///evil.com",
    "////evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "https:evil.com",
    "http:/evil.com",
    "https:/\\evil.com",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://127.0.0.1:3000/",
    "https://127.0.0.1:3000/",  # other scheme, same host and port
    "http://127.0.0.1:3001/",  # other port
    "http://127.0.0.1/",  # default port 80 is not 3000
    "http://localhost:3000/",  # another name for the same machine is another origin
    "http://127.0.0.1:3000@evil.com/",  # userinfo trick: the host is evil.com
    "http://evil.com@127.0.0.1:3000/",  # userinfo on our own host: refused too
    "http://127.0.0.1:3000.evil.com/",
    "http://127.0.0.1:3000:80/",
    "http://127.0.0.1:3000//evil.com",  # our origin, but a path that browsers read as another host
    "http://127.0.0.1:3000/%2F%2Fevil.com",
    "http://127.0.0.1:3000\\@evil.com",
    "%2F%2Fevil.com",
    "/%2F/evil.com",
    "/%2f%2fevil.com",
    "/%252F%252Fevil.com",  # double-encoded //
    "/%5Cevil.com",  # encoded backslash
    "/%5C%5Cevil.com",
    "/%09/evil.com",  # encoded tab
    "/%0D%0ALocation:%20https://evil.com",  # header injection, encoded
    "/\r\nLocation: https://evil.com",  # header injection, raw
    "/\t/evil.com",
    "/\n/evil.com",
    " //evil.com",
    "\t//evil.com",
    "/ /evil.com",
    "/\u00a0/evil.com",  # no-break space
    "/\u3000/evil.com",  # ideographic space
    "/\u200b/evil.com",  # zero-width space (format char)
    "/\x00/evil.com",
    "/\x7f/evil.com",
    "/\x85/evil.com",  # C1 next-line
    "evil.com",
    "./dashboard",
    "../dashboard",
    "dashboard",
    "",
    "?next=//evil.com",
    "#//evil.com",
    "/" + "a" * 3000,
    None,
    b"/dashboard",
    ["/dashboard"],
]


def make_request(url: str = SELF) -> Request:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": parts.scheme,
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "server": (host, port),
            "headers": [(b"host", parts.netloc.encode())],
        }
    )


def test_there_are_at_least_25_payloads() -> None:
    assert len(OPEN_REDIRECT_PAYLOADS) >= 25


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS, ids=repr)
def test_open_redirect_payloads_fall_back(payload: object) -> None:
    assert safe_target(payload, SELF) is None
    response = safe_redirect(make_request(), payload, fallback=FALLBACK)
    assert response.status_code == 307
    assert response.headers["location"] == "/dashboard"


ACCEPTED = [
    ("/dashboard", "/dashboard"),
    ("/dashboard/settings?tab=1&x=%2F%2F#top", "/dashboard/settings?tab=1&x=%2F%2F#top"),
    ("/?returnTo=//evil.com", "/?returnTo=//evil.com"),  # the query is data, not a host
    ("/files/my%20report.pdf", "/files/my%20report.pdf"),
    ("/caf%C3%A9", "/caf%C3%A9"),
    ("/café", "/caf%C3%A9"),  # non-ASCII is percent-encoded in Location
    ("http://127.0.0.1:3000/dashboard?x=1", "/dashboard?x=1"),  # same origin: reduced to path + query
    ("HTTP://127.0.0.1:3000/dashboard", "/dashboard"),
    ("http://127.0.0.1:3000", "/"),
    ("http://127.0.0.1:3000?x=1", "/?x=1"),
    ("http://127.0.0.1:3000#top", "/#top"),
]


@pytest.mark.parametrize(("target", "location"), ACCEPTED)
def test_local_targets_are_followed_with_a_relative_location(target: str, location: str) -> None:
    response = safe_redirect(make_request(), target, fallback=FALLBACK)
    assert response.status_code == 307
    assert response.headers["location"] == location


def test_default_port_is_the_same_origin() -> None:
    request = make_request("https://example.test/login")
    assert safe_redirect(request, "https://example.test:443/x", fallback="/").headers["location"] == "/x"
    assert safe_redirect(request, "https://EXAMPLE.test/x", fallback="/").headers["location"] == "/x"
    assert safe_redirect(request, "http://example.test/x", fallback="/").headers["location"] == "/"


def forged_host_request(host: str) -> Request:
    """A request to our server whose `Host` header names another site (so `request.url` does too)."""
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/api/refresh-token",
            "raw_path": b"/api/refresh-token",
            "query_string": b"",
            "root_path": "",
            "server": ("127.0.0.1", 3000),
            "headers": [(b"host", host.encode("latin-1"))],
        }
    )


# (forged Host header, target, Location): never an absolute URL, so the browser stays on the real site.
FORGED_HOST = [
    ("evil.com", "/dashboard", "/dashboard"),
    ("evil.com", "http://evil.com/steal?x=1", "/steal?x=1"),  # "same origin" as the forged host: only its path
    ("evil.com", "http://evil.com", "/"),
    ("evil.com", "//evil.com", "/dashboard"),
    ("evil.com", "https://evil.com/", "/dashboard"),  # other scheme than the request's
    ("evil.com:8080", "http://evil.com:8080/x", "/x"),
    ("evil.com", "http://127.0.0.1:3000/x", "/dashboard"),  # our real origin is not the request URL's
    ("127.0.0.1:3000@evil.com", "/dashboard?tab=1", "/dashboard?tab=1"),
    ("evil.com:notaport", "/x", "/x"),
    ("evil.com:notaport", "http://evil.com:notaport/x", "/dashboard"),  # unparsable: refused, no error
    ("[::1", "/x", "/x"),  # a broken IPv6 literal
    ("", "/x", "/x"),
]


@pytest.mark.parametrize(("host", "target", "location"), FORGED_HOST)
def test_a_forged_host_header_cannot_steer_the_redirect(host: str, target: str, location: str) -> None:
    response = safe_redirect(forged_host_request(host), target, fallback=FALLBACK)
    assert response.status_code == 307
    assert response.headers["location"] == location


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS, ids=repr)
def test_open_redirect_payloads_fall_back_under_a_forged_host(payload: object) -> None:
    response = safe_redirect(forged_host_request("evil.com"), payload, fallback=FALLBACK)
    assert response.headers["location"] == "/dashboard"  # `http://evil.com/dashboard` only by its path


def test_status_can_be_chosen() -> None:
    assert safe_redirect(make_request(), "/x", fallback="/", status=303).status_code == 303


@pytest.mark.parametrize("fallback", ["//evil.com", "https://evil.com", "dashboard"])
def test_unsafe_fallback_is_a_developer_error(fallback: str) -> None:
    with pytest.raises(ValueError, match="is not a local path"):
        safe_redirect(make_request(), "https://evil.com", fallback=fallback)


def test_next_carries_request_and_response_headers() -> None:
    step = next(request_headers={"x-user": "ada"}, headers={"x-frame-options": "DENY"})
    assert step == Next({"x-user": "ada"}, {"x-frame-options": "DENY"})
    assert next() == Next({}, {})
