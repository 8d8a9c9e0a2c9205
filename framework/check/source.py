"""The `.py` files under `app/` and `lib/`, read and parsed once per run; never imported."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Source:
    """One file: its text, and its tree, or the `SyntaxError` when it does not parse."""

    file: str  # relative to the project root, `/`-separated
    text: str
    tree: ast.Module | None
    error: SyntaxError | None = None
    nodes: tuple[ast.AST, ...] = ()  # every node of `tree`, walked once and shared by the rules


def parse_source(file: str, text: str) -> Source:
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        return Source(file, text, None, exc)
    return Source(file, text, tree, None, tuple(ast.walk(tree)))


def read_sources(root: Path, folders: Iterable[str] = ("app", "lib")) -> dict[str, Source]:
    """Every `.py` file below `root/<folder>`, hidden folders and `__pycache__` skipped, in sorted order."""
    sources: dict[str, Source] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = Path(dirpath, name)
                    rel = path.relative_to(root).as_posix()
                    sources[rel] = parse_source(rel, path.read_text(encoding="utf-8", errors="replace"))
    return sources
