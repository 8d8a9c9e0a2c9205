"""The examples in framework/'s docstrings run: each module's doctests, one test per module."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import framework

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(framework.__path__, "framework.")
    if info.name != "framework.__main__"  # running it would run the command line
)


def test_some_modules_have_examples() -> None:
    finder = doctest.DocTestFinder()
    with_examples = [name for name in MODULES if any(t.examples for t in finder.find(importlib.import_module(name)))]
    assert len(with_examples) >= 9, with_examples  # the core's docstrings give examples; losing them is a regression


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
