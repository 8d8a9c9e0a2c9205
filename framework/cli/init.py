"""`framework init [DIR]`: a new project that serves, passes `framework check` and its tests (like create-next-app)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, CommandError

EXAMPLES = """\b
examples:
  framework init myapp                  a new project in ./myapp
  framework init                        in the current folder, if it is empty
  framework init . --force              in a folder that has files: adds what is missing, overwrites nothing
"""


@click.command(cls=Command, epilog=EXAMPLES)
@click.argument("directory", default=".", required=False)
@click.option("--force", is_flag=True, help="write into a folder that is not empty (existing files are kept)")
def init(directory: str, force: bool) -> None:
    """Create a project: pyproject.toml, app/api/health/route.py, lib/controllers/, lib/urls/, a passing test."""
    from ..starter import dependency, files, project_name

    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise CommandError(f"{directory} is a file; name a folder to create the project in")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise CommandError(
            f"{root} is not empty. Pass a new folder (`framework init myapp`), or --force to add the missing files "
            "to this one (nothing is overwritten)"
        )
    written, kept = [], []
    for rel, text in files(project_name(root.name), dependency()).items():
        path = root / rel
        if path.exists():
            kept.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(rel)
    for rel in written:
        click.echo(f"created  {rel}")
    for rel in kept:
        click.echo(f"kept     {rel} (exists already)")
    where = "" if root == Path.cwd() else f"cd {click.format_filename(str(root))} && "
    click.echo(
        f"\nnext, in one terminal (it keeps running; then open http://127.0.0.1:3000/api/health):\n"
        f"  {where}python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/framework dev\n"
        f"and in a second one:\n"
        f"  {where}.venv/bin/pytest && .venv/bin/framework check"
    )
