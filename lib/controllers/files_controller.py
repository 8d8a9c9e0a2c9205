"""Files from the data folder (`FILES_DIR`), for the download route. Names that would leave it are refused.

| name                                                | result               |
|-----------------------------------------------------|----------------------|
| `welcome.txt` (a regular file in the folder)        | the file             |
| ``, `.`, `..`, `.hidden`, `a/b`, `..\\x`, `/etc/passwd`, `C:x`, NUL or control characters | 400 "Invalid file name" |
| a missing file, a folder, a symlink leading out of the folder | 404 "File not found" |

The route's `[name]` param arrives percent-decoded once, so `..%2Fx` is checked as `../x`.
"""

from __future__ import annotations

import mimetypes
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from framework.controllers import ControllerError, Result
from lib import config
from lib.controllers.auth_controller import current_session

MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: Path
    name: str
    size: int
    media_type: str


def valid_name(name: str) -> bool:
    """A plain file name: no separators, no drive, not hidden, no control characters."""
    if not name or len(name) > MAX_NAME or name.startswith(".") or ":" in name:
        return False
    if "/" in name or "\\" in name:
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


def _info(folder: Path, name: str) -> FileInfo | None:
    try:
        path = (folder / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if path.parent != folder or not path.is_file():
        return None  # a symlink (or anything) resolving outside the folder, or not a regular file
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileInfo(path, name, path.stat().st_size, media_type)


def get_file(name: str) -> Result[FileInfo]:
    """The file `name` in the data folder, for a signed-in user."""
    if not current_session().ok:
        return Result(error=ControllerError(401, "Sign in to download files"))
    if not valid_name(name):
        return Result(error=ControllerError(400, "Invalid file name"))
    info = _info(config.files_dir().resolve(), name)
    if info is None:
        return Result(error=ControllerError(404, "File not found"))
    return Result(data=info)


def list_files() -> Result[list[FileInfo]]:
    """Every downloadable file in the data folder, by name."""
    folder = config.files_dir().resolve()
    if not folder.is_dir():
        return Result(data=[])
    found = (_info(folder, p.name) for p in sorted(folder.iterdir()) if valid_name(p.name))
    return Result(data=[f for f in found if f is not None])
