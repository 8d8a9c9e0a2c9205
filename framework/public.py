"""`public/` beside `app/`: its files served at `/` (`public/robots.txt` at `/robots.txt`), Next.js's public folder.

Tried after the file routes (and routes added the Starlette way), before the 404. Starlette's
`StaticFiles` does the serving: ETag, Last-Modified, `If-None-Match` / `If-Modified-Since` (304),
`Range` (206), HEAD. The path it looks up is built from the segments the router already decoded
and normalised, so nothing outside `public/` is reachable:

| request path                                   | looked up                               |
|------------------------------------------------|-----------------------------------------|
| `/robots.txt`, `/img/logo.png`                  | `public/robots.txt`, `public/img/logo.png` |
| `/x/../robots.txt`, `/%2e%2e/robots.txt`        | `public/robots.txt` (dot segments resolved by the router, never above `/`) |
| `/..%2Fapp%2Froute.py`, `/a%5C..%5Csecret`      | nothing: a segment holding `/` or `\\` is no file name |
| `/link` where `public/link` points outside      | nothing: symlinks are followed only within `public/` |
| `POST /robots.txt`                             | 405, `Allow: GET, HEAD`                  |
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .scan import PUBLIC_DIR

SEGMENTS_KEY = "framework.segments"  # the decoded segments of a path no file route matched, for the lookup


def public_path(segments: tuple[str, ...]) -> str | None:
    """The path under `public/` for these URL segments, or None when they cannot name a file there.

    >>> public_path(("img", "logo.png")), public_path(("a/b",)), public_path(("a\\\\b",)), public_path(())
    ('img/logo.png', None, None, None)
    """
    if not segments or any(not s or "/" in s or "\\" in s or "\0" in s or s in (".", "..") for s in segments):
        return None
    return "/".join(segments)


class PublicFiles(StaticFiles):
    """`StaticFiles` over `root/public`, asked by the router for one path at a time (`response`).

    `follow_symlink=False` (Starlette's default) resolves each path with `realpath` and refuses one
    that ends outside the folder: a symlink within `public/` works, one leaving it is a 404.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(directory=root / PUBLIC_DIR, check_dir=False)

    async def response(self, scope: Scope, segments: tuple[str, ...]) -> Response | None:
        """The file's response (200, 206, 304; 405 for another method), or None when there is no such file."""
        path = public_path(segments)
        if path is None:
            return None
        try:
            full_path, found = await anyio.to_thread.run_sync(self.lookup_path, path)
        except (OSError, ValueError):  # a name too long, an unreadable folder: no file to serve
            return None
        if found is None or not stat.S_ISREG(found.st_mode):
            return None
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": "GET, HEAD"})
        return self.file_response(full_path, found, scope)


def public_files(root: Path, dev: bool) -> PublicFiles | None:
    """The server's public files: always under `framework dev` (the folder may appear later), else only
    when `public/` exists, so a project without one pays nothing on its 404s."""
    return PublicFiles(root) if dev or os.path.isdir(root / PUBLIC_DIR) else None
