"""A handler's ASGI app made on the route's first request, not at startup.

`framework start` imports and checks every route before the port opens; what is left, wrapping each
handler for the request path (`endpoints.handler_app`: closures and their
cells), cannot fail and costs 1 KB a route, 10 MB of a 10,000-route server before any request.
`FirstCall` stands in the endpoint's `apps` until then: 64 bytes. Its first call makes the app and puts
it in its place, under every method it stands for (GET and the HEAD served from it), so from the
second request on the router calls the app itself, as if it had been made at startup.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

from starlette.types import ASGIApp, Receive, Scope, Send

from .loader import Handler


class FirstCall:
    """`build(handler, file)` on the first call, stored in `apps` in place of this stand-in."""

    __slots__ = ("_apps", "_build", "_file", "_handler")

    def __init__(
        self, build: Callable[[Handler, str], ASGIApp], handler: Handler, file: str, apps: MutableMapping[str, ASGIApp]
    ) -> None:
        self._build, self._handler, self._file, self._apps = build, handler, file, apps

    def app(self) -> ASGIApp:
        """The handler's app, made now and put in `apps` wherever this stand-in is."""
        made = self._build(self._handler, self._file)
        for method, app in list(self._apps.items()):
            if app is self:
                self._apps[method] = made
        return made

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app()(scope, receive, send)
