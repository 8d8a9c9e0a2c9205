"""The listening socket, and what happens when the port is taken.

| command                                 | the port is in use                                                  |
|-----------------------------------------|---------------------------------------------------------------------|
| `framework dev` (no `--port`: 3000)     | `warning port 3000 is in use, trying 3001 instead`, up to 3009; then exit 1 |
| `framework dev --port 3000`             | exit 1 with the message: a port named on the command line is one something else points at (a proxy, a bookmark, a script), so it is not swapped for another (`next dev -p` does the same) |
| `framework start`                       | exit 1 with the message (after a refused route tree, which is reported first): a production port is configuration |

Messages say which address, why, and what to do; never uvicorn's own error or exit code.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable

TRIES = 10  # 3000 to 3009, as a newcomer's second and third project can each find a port
MAX_PORT = 65535

_FIXES = {
    errno.EADDRINUSE: "Pass another --port, or stop the program using it.",
    errno.EACCES: "Ports below 1024 need privileges: pass --port 1024 or above.",
    errno.EADDRNOTAVAIL: "--host must be an address of this machine, like 127.0.0.1.",
    socket.EAI_NONAME: "--host must be an address or a name of this machine, like 127.0.0.1 or localhost.",
}


class BindError(OSError):
    """The server cannot listen; `strerror` is the whole message, fix included."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a BindError naming the address, the reason and the fix."""
    try:
        return socket.create_server((host, port), backlog=2048)
    except OSError as exc:
        # the reason alone, without create_server's "(while attempting to bind on address ...)"
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else str(exc.strerror or exc)
        reason = reason.partition(" (while attempting")[0]
        fix = _FIXES.get(exc.errno or 0, "Check --host and --port.")
        raise BindError(exc.errno, f"cannot listen on {host}:{port}: {reason}. {fix}") from exc


def bind_first_free(host: str, port: int, tries: int, on_busy: Callable[[int, int], None]) -> socket.socket:
    """`bind` to the first of `tries` ports from `port` that is not in use, calling `on_busy(port, next)` for
    each one that is. Any other error, or the last port in use too, raises BindError."""
    last = min(port + tries - 1, MAX_PORT)
    for candidate in range(port, last):
        try:
            return bind(host, candidate)
        except BindError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            on_busy(candidate, candidate + 1)
    try:
        return bind(host, last)
    except BindError as exc:
        if exc.errno != errno.EADDRINUSE or last == port:
            raise
        raise BindError(
            exc.errno,
            f"cannot listen on {host}: ports {port} to {last} are all in use. "
            "Pass a free one with --port, or stop the programs using them.",
        ) from exc


def check_free(host: str, port: int) -> None:
    """Raise BindError now if host:port cannot be listened on (`framework start`, before uvicorn tries)."""
    bind(host, port).close()
