"""The command-line options that fill `Settings`, shared by `framework start` and `framework dev`.

Each converter raises `argparse.ArgumentTypeError` with what to write instead, so a bad value is a
usage error (exit 2) naming the option, before anything starts.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
from urllib.parse import urlsplit

from .settings import Settings, parse_size

MIN_HEAD_SIZE = 1024  # a browser's request head alone (cookies aside) is some hundreds of bytes
NO_CAP = "none"
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_DEFAULTS = Settings()


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


def body_size(text: str) -> int | None:
    """--max-body-size: a size (10MiB), or `none` for no cap."""
    if text.strip().lower() == NO_CAP:
        return None
    size = _size(text)
    if size == 0:
        raise argparse.ArgumentTypeError("0 would refuse every request body; write `none` for no cap, "
                                         "or a size like 1MiB")
    return size


def head_size(text: str) -> int:
    """--max-head-size: a size of at least 1 KiB (there is no way to turn this limit off)."""
    size = _size(text)
    if size < MIN_HEAD_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} is below 1KiB, too small for a browser's request head; "
                                         "write a size like 64KiB")
    return size


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(text: str) -> float:
    """--head-timeout: a positive number of seconds (`10`, `2.5`)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0; write one like 10 or 2.5")
    return value


def concurrency(text: str) -> int | None:
    """--max-concurrency: a positive whole number, or `none` for no cap."""
    if text.strip().lower() == NO_CAP:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0; write one like 1000, "
                                         "or `none` for no cap")
    return int(text)


def origin(text: str) -> str:
    """--trusted-origin: `scheme://host[:port]` as a browser sends it in `Origin`: lowercased, default
    port dropped, a trailing slash dropped (`HTTPS://App.Example:443/` -> `https://app.example`)."""
    hint = "write an origin like https://app.example or http://localhost:5173 (scheme, host, optional port)"
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an origin; {hint}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an origin; {hint}")
    if parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment \
            or text.strip().endswith(("?", "#")):
        raise argparse.ArgumentTypeError(f"{text!r} has more than an origin (user, path, query or fragment); {hint}")
    name = host_name(parts.hostname)
    if name is None:
        try:
            name = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise argparse.ArgumentTypeError(f"{text!r}: {parts.hostname!r} is not a host name; {hint}") from None
    host = f"[{name}]" if ":" in name else name
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def allowed_host(text: str) -> str:
    """--allowed-host: a host name or IP address without scheme or port (`myhost.local`, `192.168.1.20`)."""
    if "/" in text or text.count(":") == 1 or "]:" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: write the host name alone, without scheme or port, "
                                         "like myhost.local or 192.168.1.20")
    name = host_name(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a host name or IP address; write one like "
                                         "myhost.local or 192.168.1.20")
    return name


def add_limit_options(parser: argparse.ArgumentParser, *, dev: bool = False) -> None:
    """The limits group of `framework start` / `framework dev`."""
    d = _DEFAULTS
    group = parser.add_argument_group("limits and access (docs/security.md)")
    group.add_argument("--max-body-size", type=body_size, default=d.max_body_size, metavar="SIZE",
                       help="largest request body; 413 beyond it; `none` for no cap (default: 10MiB)")
    group.add_argument("--max-head-size", type=head_size, default=d.max_head_size, metavar="SIZE",
                       help="largest request line + headers; 431 and close beyond it (default: 64KiB)")
    group.add_argument("--head-timeout", type=seconds, default=d.head_timeout, metavar="SECONDS",
                       help="a client must send its whole request head within this time; 408 and close "
                            f"otherwise (default: {d.head_timeout:g})")
    group.add_argument("--max-concurrency", type=concurrency, default=d.max_concurrency, metavar="N",
                       help="connections and requests in flight per process; 503 beyond it; `none` for no "
                            f"cap (default: {d.max_concurrency})")
    group.add_argument("--trusted-origin", type=origin, action="append", default=[], metavar="ORIGIN",
                       dest="trusted_origins",
                       help="an origin allowed to send cross-origin unsafe requests, like https://app.example "
                            "(repeatable)")
    if dev:
        group.add_argument("--allowed-host", type=allowed_host, action="append", default=[], metavar="NAME",
                           dest="allowed_hosts",
                           help="a Host name this dev server answers besides localhost, 127.0.0.1, ::1 and the "
                                "--host address (repeatable)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The parsed options as one `Settings` value (unknown ones keep their defaults)."""
    return Settings(
        max_body_size=args.max_body_size,
        max_head_size=args.max_head_size,
        head_timeout=args.head_timeout,
        max_concurrency=args.max_concurrency,
        trusted_origins=tuple(dict.fromkeys(args.trusted_origins)),
        allowed_hosts=tuple(dict.fromkeys(getattr(args, "allowed_hosts", []))),
    )
