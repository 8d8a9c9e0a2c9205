"""The partial re-walk gives exactly what a full `scan()` would, after every kind of change."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from framework.dev.rescan import rescan
from framework.scan import scan
from tests.helpers import write_tree

TREE = {
    "app/route.py": "",
    "app/a/route.py": "",
    "app/a-b/route.py": "",
    "app/a/sub/route.py": "",
    "app/(g)/users/[id]/route.py": "",
    "app/docs/[[...slug]]/route.py": "",
    "app/_lib/x.py": "",
    "app/home/page.py": "",
}


def mkdir_and_write(root: Path) -> list[str]:
    write_tree(root, {"app/new/deep/route.py": ""})
    return ["app/new"]  # only the folder's event arrived: the file's was lost


def rename_folder(root: Path) -> list[str]:
    (root / "app/(g)/users/[id]").rename(root / "app/(g)/users/[slug]")
    return ["app/(g)/users/[id]", "app/(g)/users/[slug]"]


def move_into_group(root: Path) -> list[str]:
    (root / "app/(shop)").mkdir()
    (root / "app/a").rename(root / "app/(shop)/a")
    return ["app/(shop)", "app/a", "app/(shop)/a"]


def delete_folder(root: Path) -> list[str]:
    shutil.rmtree(root / "app/a")
    return ["app/a", "app/a/route.py", "app/a/sub", "app/a/sub/route.py"]


def delete_file(root: Path) -> list[str]:
    (root / "app/a-b/route.py").unlink()
    return ["app/a-b/route.py"]


def new_file_in_existing_folder(root: Path) -> list[str]:
    write_tree(root, {"app/a/sub/more/route.py": "", "app/a-b/page.py": ""})
    return ["app/a/sub/more/route.py", "app/a-b/page.py"]


def private_and_hidden(root: Path) -> list[str]:
    write_tree(root, {"app/_lib/new/route.py": "", "app/.cache/route.py": "", "app/x/_p/route.py": ""})
    return ["app/_lib/new", "app/.cache/route.py", "app/x"]


def not_a_route(root: Path) -> list[str]:
    write_tree(root, {"app/a/notes.md": "", "app/a/helpers.py": ""})
    return ["app/a/notes.md", "app/a/helpers.py"]


def app_itself(root: Path) -> list[str]:
    shutil.rmtree(root / "app")
    write_tree(root, {"app/only/route.py": ""})
    return ["app"]


@pytest.mark.parametrize(
    "change",
    [
        mkdir_and_write,
        rename_folder,
        move_into_group,
        delete_folder,
        delete_file,
        new_file_in_existing_folder,
        private_and_hidden,
        not_a_route,
        app_itself,
    ],
    ids=lambda f: f.__name__,
)
def test_rescan_equals_a_full_scan(tmp_path: Path, change: Callable[[Path], list[str]]) -> None:
    root = write_tree(tmp_path, TREE)
    before = scan(root)
    changed = change(root)
    after = rescan(root, before, changed)
    assert after == scan(root)
    assert (after != before) is (change not in (not_a_route, private_and_hidden))  # the test changed something


def test_rescan_keeps_the_rest_without_looking(tmp_path: Path) -> None:
    root = write_tree(tmp_path, TREE)
    before = scan(root)
    write_tree(root, {"app/unseen/route.py": ""})  # no event named it
    assert rescan(root, before, ["app/a/route.py"]) == before
