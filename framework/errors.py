"""One error type for every tree the router refuses, shown the same way everywhere.

The CLI prints `str(error)`, the dev server shows it on a page, `framework check` reports each
`Problem` as a finding. Every problem names the files involved, what is wrong, and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass


def location(file: str, line: int | None) -> str:
    """Where to look, as editors and terminals link it: `app/x/route.py:3`, or the file alone without a line."""
    return f"{file}:{line}" if line else file


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the route tree.

    `files` are paths relative to the project root, `/`-separated; the first is where the
    problem is reported (with `line` when known), the others are the files it conflicts with.
    """

    code: str
    message: str
    fix: str
    files: tuple[str, ...]
    line: int | None = None

    @property
    def location(self) -> str:
        return location(self.files[0], self.line)

    def __str__(self) -> str:
        return f"{self.location}: {self.message} {self.fix}"


class RouteTreeError(Exception):
    """The route tree cannot be served: one paragraph per problem, no traceback needed."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        count = len(self.problems)
        head = "the route tree has a problem" if count == 1 else f"the route tree has {count} problems"
        return head + ":\n\n" + "\n\n".join(str(p) for p in self.problems)
