"""The dev server answers only requests addressed to this machine by name: a guard against DNS rebinding.

A page on `evil.example` can make its own name resolve to 127.0.0.1 after it loaded; the browser
then sends that page's requests to `framework dev`, same-origin as far as it knows, and lets the
page read the answers: the dev error page with source lines and absolute paths, every route.
Those requests still carry `Host: evil.example`, so the guard refuses any Host that is not
localhost, 127.0.0.1, ::1, the address the server is bound to, or a name allowed with
`--allowed-host` (as Vite's `server.allowedHosts`, Next.js's `allowedDevOrigins`).

It is the outermost layer of the dev app: a refused request reaches nothing else, neither the
routes nor the error page nor the terminal. A request without a Host header (no browser sends
one) is refused too: the guard cannot tell where it was meant to go.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import host_name

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def allowed_names(bound: Iterable[str], extra: Iterable[str]) -> frozenset[str]:
    """The loopback names, the bound address(es) as given and as resolved, and the --allowed-host names."""
    names = set(LOOPBACK_NAMES)
    for value in (*bound, *extra):
        name = host_name(value)
        if name is not None:
            names.add(name)
    return frozenset(names)


def is_loopback(address: str) -> bool:
    """Is this bound address reachable from this machine only? (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`)"""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return address == "localhost"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _refusal(hosts: list[bytes]) -> bytes:
    """The one-line body: which Host, and the option that allows it (named only when it is a valid name)."""
    if not hosts:
        return b"framework dev: refused a request without a Host header; send one, like Host: localhost\n"
    if len(hosts) > 1:
        return b"framework dev: refused a request with more than one Host header; send one\n"
    name = host_name(hosts[0].decode("latin-1"))
    if name is None:
        return b"framework dev: refused a request whose Host is not a host name; use http://localhost\n"
    return (
        f"framework dev: refused a request for Host {name}; this server answers only this machine's "
        f"names. To allow it: framework dev --allowed-host {name}\n"
    ).encode("ascii")


def host_guard(app: ASGIApp, allowed: frozenset[str]) -> ASGIApp:
    """`app`, answering 403 with a one-line plain-text body to HTTP and WebSocket requests whose Host
    header is missing, repeated, malformed, or not one of `allowed`."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        hosts = [value for key, value in scope["headers"] if key == b"host"]
        if len(hosts) == 1:
            name = host_name(hosts[0].decode("latin-1"))
            if name is not None and name in allowed:
                await app(scope, receive, send)
                return
        await _forbid(scope, receive, send, _refusal(hosts))

    return guarded


async def _forbid(scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # a server without the extension answers a close before accept with a bare 403
        await send({"type": "websocket.close", "code": 1008})
