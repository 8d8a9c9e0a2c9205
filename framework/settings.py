"""The settings a served app reads, with the safe defaults: one frozen value, built once per process.

| setting            | default    | what                                                                  |
|--------------------|------------|-----------------------------------------------------------------------|
| `max_body_size`    | 10 MiB     | request body cap (413); a route may set its own `max_body_size`       |
| `max_head_size`    | 64 KiB     | request line + headers (431 beyond it)                                |
| `head_timeout`     | 10 s       | a client must finish its request head within this time                |
| `max_concurrency`  | 1000       | connections + requests in flight; 503 beyond it                       |
| `trusted_origins`  | none       | origins allowed to send cross-origin unsafe requests (`https://a.example`) |
| `allowed_hosts`    | none       | `framework dev` only: Host names allowed besides localhost and the bound address |

`framework start` / `framework dev` options set them; worker processes receive them through the
environment (`to_env` / `from_env`), so every process serves with the same values.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
ENV_SETTINGS = "FRAMEWORK_SETTINGS"

_SIZE = re.compile(r"\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": KiB, "kb": 1000, "kib": KiB, "m": MiB, "mb": 1000**2, "mib": MiB,
          "g": 1024 * MiB, "gb": 1000**3, "gib": 1024 * MiB}


def parse_size(text: str) -> int:
    """A size in bytes from `65536`, `64KiB`, `10MiB`, `10MB` (decimal), `1G`.

    >>> parse_size("64KiB"), parse_size("10MB"), parse_size("512")
    (65536, 10000000, 512)
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size; write bytes or a number with a unit, like 65536, 64KiB or 10MiB")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the server and the router read (see the module's table)."""

    max_body_size: int | None = 10 * MiB
    max_head_size: int = 64 * KiB
    head_timeout: float = 10.0
    max_concurrency: int | None = 1000
    trusted_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

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
        return cls(**values)
