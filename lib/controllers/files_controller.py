"""Files from the data folder (`FILES_DIR`), for the download route. Names that would leave it are refused.

| name                                                | result               |
|-----------------------------------------------------|----------------------|
| `welcome.txt` (a regular file in the folder)        | the file             |
| ``, `.`, `..`, `.hidden`, `a/b`, `..\\x`, `/etc/passwd`, `C:x`, NUL, control or format characters | 400 "Invalid file name" |
| a missing file, a folder, a symlink leading out of the folder | 404 "File not found" |

The route's `[name]` param arrives percent-decoded once, so `..%2Fx` is checked as `../x`.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from framework.controllers import ControllerError, Result
from lib import config
from lib.controllers.auth_controller import current_session

MAX_NAME = 255
# `/`, `:`, a backslash, and the control (Cc) and format (Cf) characters of Unicode 15: never in a name.
REFUSED = (
    r"\u0000-\u001F\u002F\u003A\u005C\u007F-\u009F\u00AD\u0600-\u0605\u061C\u06DD\u070F"
    r"\u0890-\u0891\u08E2\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF"
    r"\uFFF9-\uFFFB\U000110BD\U000110CD\U00013430-\U00013438\U0001BCA0-\U0001BCA3"
    r"\U0001D173-\U0001D17A\U000E0001\U000E0020-\U000E007F"
)
NAME_PATTERN = f"^[^.{REFUSED}][^{REFUSED}]*$"  # also the OpenAPI document's, for the path param
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: Path
    name: str
    size: int
    media_type: str


def valid_name(name: str) -> bool:
    """A plain file name: no separators, no drive, not hidden, no control or format characters."""
    return len(name) <= MAX_NAME and _NAME.fullmatch(name) is not None


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
