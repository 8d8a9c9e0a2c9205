"""The settings a served app reads, with the safe defaults: one frozen value, built once per process.

| setting            | default    | what                                                                  |
|--------------------|------------|-----------------------------------------------------------------------|
| `max_body_size`    | 10 MiB     | request body cap (413); a route may set its own `max_body_size`       |
| `max_head_size`    | 64 KiB     | request line + headers (431 beyond it)                                |
| `head_timeout`     | 10 s       | a client must finish its request head within this time                |
| `max_concurrency`  | 1000       | connections + requests in flight; 503 beyond it                       |
| `trusted_origins`  | none       | origins allowed to send cross-origin unsafe requests (`https://a.example`) |
| `allowed_hosts`    | none       | `framework dev` only: Host names allowed besides localhost and the bound address |
| `openapi`          | False      | `framework start`: serve `/_framework/openapi.json` and `/_framework/docs` (dev always does) |
| `dev`              | False      | True under `framework dev` and `create_app(dev=True)`: no response cache (`revalidate`, `force-static`) |

`framework start` / `framework dev` options set them; worker processes receive them through the
environment (`to_env` / `from_env`), so every process serves with the same values.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

KiB = 1024
MiB = 1024 * KiB
ENV_SETTINGS = "FRAMEWORK_SETTINGS"
MIN_HEAD_SIZE = 1024  # a browser's request head alone (cookies aside) is some hundreds of bytes
NO_CAP = "none"
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")

_SIZE = re.compile(r"\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB,
    "kb": 1000,
    "kib": KiB,
    "m": MiB,
    "mb": 1000**2,
    "mib": MiB,
    "g": 1024 * MiB,
    "gb": 1000**3,
    "gib": 1024 * MiB,
}


def parse_size(text: str) -> int:
    """A size in bytes from `65536`, `64KiB`, `10MiB`, `10MB` (decimal), `1G`.

    >>> parse_size("64KiB"), parse_size("10MB"), parse_size("512")
    (65536, 10000000, 512)
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size; write bytes or a number with a unit, like 65536, 64KiB or 10MiB")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


def host_name(text: str) -> str | None:
    """The host name of a Host header or an --allowed-host value, lowercased, without port, brackets or
    a trailing dot: `LocalHost:3000` -> `localhost`, `[::1]:3000` -> `::1`. None if it is not a
    host name or IP address."""
    text = text.strip().lower()
    if text.startswith("["):
        address, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and _port(port[1:]))):
            return None
        try:
            return str(ipaddress.IPv6Address(address))
        except ValueError:
            return None
    if text.count(":") > 1:  # a bare IPv6 address (only valid in --allowed-host, never in a Host header)
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    name, colon, port = text.partition(":")
    if colon and not _port(port):
        return None
    name = name.removesuffix(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name


def _port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) < 65536


def parse_body_size(text: str) -> int | None:
    """`max_body_size`: a size (10MiB), or `none` for no cap."""
    if text.strip().lower() == NO_CAP:
        return None
    size = parse_size(text)
    if size == 0:
        raise ValueError("0 would refuse every request body; write `none` for no cap, or a size like 1MiB")
    return size


def parse_head_size(text: str) -> int:
    """`max_head_size`: a size of at least 1 KiB (there is no way to turn this limit off)."""
    size = parse_size(text)
    if size < MIN_HEAD_SIZE:
        raise ValueError(f"{text!r} is below 1KiB, too small for a browser's request head; write a size like 64KiB")
    return size


def parse_seconds(text: str) -> float:
    """`head_timeout`: a positive number of seconds (`10`, `2.5`)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{text!r} is not a number of seconds above 0; write one like 10 or 2.5")
    return value


def parse_concurrency(text: str) -> int | None:
    """`max_concurrency`: a positive whole number, or `none` for no cap."""
    if text.strip().lower() == NO_CAP:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number above 0; write one like 1000, or `none` for no cap")
    return int(text)


def normalise_origin(text: str) -> str:
    """A trusted origin, `scheme://host[:port]` as a browser sends it in `Origin`: lowercased, default
    port dropped, a trailing slash dropped.

    >>> normalise_origin("HTTPS://App.Example:443/")
    'https://app.example'
    """
    hint = "write an origin like https://app.example or http://localhost:5173 (scheme, host, optional port)"
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not an origin; {hint}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an origin; {hint}")
    if (
        parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or text.strip().endswith(("?", "#"))
    ):
        raise ValueError(f"{text!r} has more than an origin (user, path, query or fragment); {hint}")
    name = host_name(parts.hostname)
    if name is None:
        try:
            name = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{text!r}: {parts.hostname!r} is not a host name; {hint}") from None
    host = f"[{name}]" if ":" in name else name
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def parse_allowed_host(text: str) -> str:
    """`allowed_hosts` (dev): a host name or IP address without scheme or port (`myhost.local`, `192.168.1.20`)."""
    if "/" in text or text.count(":") == 1 or "]:" in text:
        raise ValueError(
            f"{text!r}: write the host name alone, without scheme or port, like myhost.local or 192.168.1.20"
        )
    name = host_name(text)
    if name is None:
        raise ValueError(f"{text!r} is not a host name or IP address; write one like myhost.local or 192.168.1.20")
    return name


@dataclass(frozen=True, slots=True)
class HeaderRule:
    """`[[tool.framework.headers]]`: response headers added to every response whose path matches `source`."""

    source: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RedirectRule:
    """`[[tool.framework.redirects]]`: requests matching `source` go to `destination` (308 / 307), before the proxy."""

    source: str
    destination: str
    permanent: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the server and the router read (see the module's table and `framework.config`)."""

    max_body_size: int | None = 10 * MiB
    max_head_size: int = 64 * KiB
    head_timeout: float = 10.0
    max_concurrency: int | None = 1000
    trusted_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    base_path: str = ""
    trailing_slash: bool = False
    headers: tuple[HeaderRule, ...] = ()
    redirects: tuple[RedirectRule, ...] = ()
    env_file: str | None = None
    openapi: bool = False  # framework start serves /_framework/openapi.json and /_framework/docs (dev always)
    dev: bool = False  # not an option: set by the dev server, so every request runs the code being edited

    def __post_init__(self) -> None:
        """Normalise origins and host names once, here, so every reader compares like with like;
        a malformed one is a ValueError saying what to write."""
        object.__setattr__(self, "trusted_origins", tuple(dict.fromkeys(map(normalise_origin, self.trusted_origins))))
        object.__setattr__(self, "allowed_hosts", tuple(dict.fromkeys(map(parse_allowed_host, self.allowed_hosts))))

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the parent process put in the environment, or the defaults."""
        raw = os.environ.get(ENV_SETTINGS)
        if not raw:
            return cls()
        values = json.loads(raw)
        for key in ("trusted_origins", "allowed_hosts"):
            values[key] = tuple(values.get(key) or ())
        values["headers"] = tuple(HeaderRule(h["source"], tuple(map(tuple, h["headers"]))) for h in values["headers"])
        values["redirects"] = tuple(RedirectRule(**r) for r in values["redirects"])
        return cls(**values)
