"""Route modules built straight from `__pycache__` (`loader.cached_code`): only when Python itself would
use the bytecode, with the same module, file names and line numbers as an import, and never stale code."""

from __future__ import annotations

import gc
import importlib.util
import os
import shutil
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework import loader
from framework.errors import RouteTreeError
from framework.loader import cached_code, import_file
from framework.route_config import read_config
from framework.table import collector_paused, load_table
from tests.helpers import run_cli, write_tree

ONE = "def GET(request):\n    return {'version': 1}\n"
TWO = "def GET(request):\n    return {'version': 2, 'edited': True}\n"
BROKEN = "x = 1\n\nraise RuntimeError('boom at import')\n"


@pytest.fixture(autouse=True)
def write_bytecode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bytecode written as a default Python writes it (the suite may run under PYTHONDONTWRITEBYTECODE)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    yield
    for name in [n for n in sys.modules if n.startswith("app/")]:
        del sys.modules[name]


def pyc(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path)))


def version(root: Path) -> object:
    return import_file(root, "app/x/route.py").GET(None)


def test_the_second_import_is_built_from_the_bytecode_the_first_wrote(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/x/route.py": ONE})
    source = tmp_path / "app/x/route.py"
    assert cached_code(str(source)) is None  # nothing compiled yet: importlib compiles and writes the .pyc
    first = import_file(tmp_path, "app/x/route.py")
    assert pyc(source).is_file()
    found = cached_code(str(source))
    assert found is not None and found[1] == str(pyc(source))
    module = import_file(tmp_path, "app/x/route.py")
    assert module is not first and sys.modules["app/x/route"] is module
    assert module.__name__ == "app/x/route" and module.__file__ == str(source) == first.__file__
    assert module.__cached__ == first.__cached__ == str(pyc(source))
    assert module.GET.__code__.co_filename == str(source) and module.GET.__module__ == "app/x/route"
    assert module.GET(None) == {"version": 1}


@pytest.mark.parametrize("same", ["size", "mtime"])
def test_an_edit_loads_the_new_code_never_the_stale_bytecode(tmp_path: Path, same: str) -> None:
    write_tree(tmp_path, {"app/x/route.py": ONE})
    source = tmp_path / "app/x/route.py"
    assert version(tmp_path) == {"version": 1}
    before = source.stat()
    edited = TWO if same == "mtime" else ONE.replace("1", "3")
    assert (len(edited) == before.st_size) == (same == "size")
    source.write_text(edited)
    mtime = before.st_mtime if same == "mtime" else before.st_mtime + 5
    os.utime(source, (mtime, mtime))  # one of the two keys Python checks is unchanged
    expected = {"version": 2, "edited": True} if same == "mtime" else {"version": 3}
    assert cached_code(str(source)) is None
    assert version(tmp_path) == expected
    assert cached_code(str(source)) is not None  # importlib wrote the new bytecode: the next start is quick
    assert version(tmp_path) == expected


def test_bytecode_of_another_interpreter_or_a_broken_file_is_not_used(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/x/route.py": ONE})
    source = tmp_path / "app/x/route.py"
    version(tmp_path)
    data = pyc(source).read_bytes()
    pyc(source).write_bytes(data[:16] + b"\xffnot marshal")  # importlib raises ValueError here; we compile
    assert cached_code(str(source)) is None
    for bad in (b"\0\0\0\0" + data[4:], data[:10]):
        pyc(source).write_bytes(bad)
        assert cached_code(str(source)) is None
        assert version(tmp_path) == {"version": 1}


def test_a_tree_moved_elsewhere_is_imported_by_importlib(tmp_path: Path) -> None:
    write_tree(tmp_path / "one", {"app/x/route.py": ONE})
    version(tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")  # mtimes kept: the .pyc is valid but names the old path
    moved = tmp_path / "two/app/x/route.py"
    assert cached_code(str(moved)) is None
    module = import_file(tmp_path / "two", "app/x/route.py")
    assert module.__file__ == str(moved) and module.GET.__code__.co_filename == str(moved)


def test_an_exception_from_bytecode_points_at_the_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/x/route.py": BROKEN})
    source = tmp_path / "app/x/route.py"
    with pytest.raises(RuntimeError):
        import_file(tmp_path, "app/x/route.py")  # compiled (and the .pyc written) before it ran
    assert cached_code(str(source)) is not None
    with pytest.raises(RuntimeError) as raised:
        import_file(tmp_path, "app/x/route.py")
    last = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (last.filename, last.lineno, last.line) == (str(source), 3, "raise RuntimeError('boom at import')")
    assert "app/x/route" not in sys.modules
    with pytest.raises(RouteTreeError, match=r"app/x/route\.py:3: cannot import the route: RuntimeError"):
        load_table(tmp_path)


def test_framework_start_still_refuses_a_broken_route_when_its_bytecode_is_cached(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/ok/route.py": ONE, "app/x/route.py": BROKEN})
    for _ in range(2):  # the first run writes the bytecode, the second is built from it
        result = run_cli("start", "--root", str(tmp_path), "--port", "1")
        assert result.returncode == 1
        assert "app/x/route.py:3" in result.stderr and "boom at import" in result.stderr
    assert cached_code(str(tmp_path / "app/x/route.py")) is not None


def test_the_quick_way_is_off_where_python_would_look_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"app/x/route.py": ONE})
    version(tmp_path)
    source = str(tmp_path / "app/x/route.py")
    assert cached_code(source) is not None
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "elsewhere"))
    assert cached_code(source) is None
    monkeypatch.undo()
    monkeypatch.setattr(loader, "_TAG", None)  # an interpreter without bytecode caching
    assert cached_code(source) is None


def test_route_config_from_a_module_getattr_is_still_read(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/x/route.py": ONE
            + "def __getattr__(name):\n    if name == 'revalidate':\n        return 5\n    raise AttributeError(name)\n"
        },
    )
    config = read_config("app/x/route.py", import_file(tmp_path, "app/x/route.py"))
    assert not isinstance(config, Exception) and config.revalidate == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_for_a_build_and_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), collector_paused():
            raise ValueError
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
