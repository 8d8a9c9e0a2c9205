"""A small typed result for controllers, as the reference page's `{ data, error }`.

    def refresh_token() -> Result[Session]:
        if not cookie:
            return Result(error=ControllerError(401, "No refresh token"))
        return Result(data=session)

A route handler turns `result.error` into `PlainTextResponse(error.status_text, status_code=error.status)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ControllerError:
    """What went wrong, as an HTTP status and a short text safe to show the user."""

    status: int
    status_text: str

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"ControllerError status must be 4xx or 5xx, got {self.status}")


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """Either `data` or an `error`; `ok` tells which."""

    data: T | None = None
    error: ControllerError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
