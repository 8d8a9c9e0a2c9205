"""The limit of the peer table: a bare ASGI callable answering the two measured endpoints.

No router, no request object, no middleware: one comparison for the static path, one prefix test
for the param one, `json.dumps` for the param's body. What a server does with it is all the server's
own cost, so a framework's req/s over this callable's, on the same server, is the share the
framework leaves to the server.
"""

from __future__ import annotations

import json
from typing import Any

HEALTH = json.dumps({"status": "ok"}, separators=(",", ":")).encode()
NOT_FOUND = b'{"detail":"Not Found"}'
USERS = "/api/users/"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`GET /api/health` -> `{"status":"ok"}`; `GET /api/users/<id>` -> `{"id":"<id>"}`; anything else 404."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    status, body = 404, NOT_FOUND
    if path == "/api/health":
        status, body = 200, HEALTH
    elif path.startswith(USERS) and (user := path[len(USERS) :]) and "/" not in user:
        status, body = 200, json.dumps({"id": user}, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
