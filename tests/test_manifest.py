"""Trees -> URL patterns, match order, and every refused tree naming its files."""

from __future__ import annotations

import pytest

from framework.errors import Problem, RouteTreeError, location
from framework.manifest import build_manifest
from framework.scan import RouteFile


def files(*paths: str) -> list[RouteFile]:
    """`api/users/[id]/route.py` -> RouteFile as the scanner gives it."""
    out = []
    for p in paths:
        parts = p.split("/")
        out.append(RouteFile("app/" + p, tuple(parts[:-1]), "route" if parts[-1] == "route.py" else "page"))
    return out


FOLDER_TO_URL = [
    ("route.py", "/"),
    ("api/health/route.py", "/api/health"),
    ("api/users/[id]/route.py", "/api/users/[id]"),
    ("api/files/[...path]/route.py", "/api/files/[...path]"),
    ("api/docs/[[...slug]]/route.py", "/api/docs/[[...slug]]"),
    ("(admin)/api/stats/route.py", "/api/stats"),
    ("api/(v1)/(beta)/x/route.py", "/api/x"),
    ("api/%5Fliteral/route.py", "/api/_literal"),
    ("feed.xml/route.py", "/feed.xml"),
    ("items/[id]/route.py", "/items/[id]"),
    ("api/café/route.py", "/api/café"),
]


@pytest.mark.parametrize(("path", "pattern"), FOLDER_TO_URL)
def test_folder_to_url(path: str, pattern: str) -> None:
    (route,) = build_manifest(files(path)).routes
    assert route.pattern == pattern
    assert route.file == "app/" + path


ORDERED_TREE = [
    "api/users/[id]/route.py",
    "api/docs/[[...slug]]/route.py",
    "route.py",
    "api/users/me/route.py",
    "api/files/[...path]/route.py",
    "api/files/special/route.py",
    "mix/[...rest]/route.py",
    "mix/[id]/route.py",
    "api/users/route.py",
    "shop/[category]/[...rest]/route.py",
    "shop/[category]/route.py",
]
EXPECTED_ORDER = [
    "/",
    "/api/docs/[[...slug]]",
    "/api/files/special",
    "/api/files/[...path]",
    "/api/users",
    "/api/users/me",
    "/api/users/[id]",
    "/mix/[id]",
    "/mix/[...rest]",
    "/shop/[category]",
    "/shop/[category]/[...rest]",
]


def test_routes_are_ordered_most_specific_first() -> None:
    assert [r.pattern for r in build_manifest(files(*ORDERED_TREE)).routes] == EXPECTED_ORDER


def test_order_does_not_depend_on_listing_order() -> None:
    forward = build_manifest(files(*ORDERED_TREE))
    backward = build_manifest(reversed(files(*ORDERED_TREE)))
    assert forward == backward


REFUSED = [
    ("duplicate-route", ["(a)/dup/route.py", "(b)/dup/route.py"], ["app/(a)/dup/route.py", "app/(b)/dup/route.py"]),
    ("duplicate-route", ["dup/route.py", "(b)/dup/route.py"], ["app/dup/route.py", "app/(b)/dup/route.py"]),
    (
        "param-name-mismatch",
        ["users/[id]/route.py", "users/[slug]/route.py"],
        ["app/users/[id]/route.py", "app/users/[slug]/route.py"],
    ),
    (
        "param-name-mismatch",
        ["users/[id]/route.py", "users/[slug]/posts/route.py"],
        ["app/users/[id]/route.py", "app/users/[slug]/posts/route.py"],
    ),
    (
        "param-name-mismatch",
        ["a/[x]/b/route.py", "a/[y]/c/d/route.py"],
        ["app/a/[x]/b/route.py", "app/a/[y]/c/d/route.py"],
    ),
    (
        "param-name-mismatch",
        ["f/[...a]/route.py", "f/[...b]/route.py"],
        ["app/f/[...a]/route.py", "app/f/[...b]/route.py"],
    ),
    ("repeated-param", ["[id]/x/[id]/route.py"], ["app/[id]/x/[id]/route.py"]),
    ("catch-all-not-last", ["ca/[...a]/b/route.py"], ["app/ca/[...a]/b/route.py"]),
    ("catch-all-not-last", ["ca/[[...a]]/b/route.py"], ["app/ca/[[...a]]/b/route.py"]),
    (
        "catch-all-beside-optional",
        ["cc/[...a]/route.py", "cc/[[...b]]/route.py"],
        ["app/cc/[...a]/route.py", "app/cc/[[...b]]/route.py"],
    ),
    (
        "optional-catch-all-beside-index",
        ["docs/route.py", "docs/[[...slug]]/route.py"],
        ["app/docs/route.py", "app/docs/[[...slug]]/route.py"],
    ),
    (
        "optional-catch-all-beside-index",
        ["(g)/docs/route.py", "docs/[[...slug]]/route.py"],
        ["app/(g)/docs/route.py", "app/docs/[[...slug]]/route.py"],
    ),
    ("route-beside-page", ["health/route.py", "health/page.py"], ["app/health/route.py", "app/health/page.py"]),
    ("bad-folder-name", ["opt/[[id]]/route.py"], ["app/opt/[[id]]/route.py"]),
    ("bad-folder-name", ["x/[id/route.py"], ["app/x/[id/route.py"]),
    ("bad-folder-name", ["x/id]/route.py"], ["app/x/id]/route.py"]),
    ("bad-folder-name", ["x/[]/route.py"], ["app/x/[]/route.py"]),
    ("bad-folder-name", ["x/[...]/route.py"], ["app/x/[...]/route.py"]),
    ("bad-folder-name", ["x/[[...x]/route.py"], ["app/x/[[...x]/route.py"]),
    ("bad-folder-name", ["ext/[name].json/route.py"], ["app/ext/[name].json/route.py"]),
    ("bad-folder-name", ["x/ /route.py"], ["app/x/ /route.py"]),
]


@pytest.mark.parametrize(("code", "tree", "named"), REFUSED, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(REFUSED)])
def test_refused_trees_name_every_file(code: str, tree: list[str], named: list[str]) -> None:
    with pytest.raises(RouteTreeError) as info:
        build_manifest(files(*tree))
    codes = [p.code for p in info.value.problems]
    assert code in codes
    problem = info.value.problems[codes.index(code)]
    message = str(info.value)
    for f in named:
        assert f in problem.files
        assert f in message
    assert problem.fix and problem.fix in message
    assert "Traceback" not in message


def test_allowed_siblings() -> None:
    """Next.js allows `[id]` beside `[...rest]` (even with the same name) and static beside dynamic."""
    manifest = build_manifest(
        files("mix/[a]/route.py", "mix/[...a]/route.py", "users/me/route.py", "users/[id]/route.py")
    )
    assert [r.pattern for r in manifest.routes] == ["/mix/[a]", "/mix/[...a]", "/users/me", "/users/[id]"]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(RouteTreeError) as info:
        build_manifest(files("(a)/dup/route.py", "(b)/dup/route.py", "x/[id/route.py", "[id]/y/[id]/route.py"))
    assert {p.code for p in info.value.problems} == {"duplicate-route", "bad-folder-name", "repeated-param"}
    assert str(info.value).startswith("the route tree has 3 problems")


def test_pages_are_not_routes() -> None:
    manifest = build_manifest(files("about/page.py", "api/x/route.py"))
    assert [r.pattern for r in manifest.routes] == ["/api/x"]


def test_a_location_is_file_and_line_or_the_file_alone() -> None:
    assert (location("app/x/route.py", 3), location("app/x/route.py", None)) == ("app/x/route.py:3", "app/x/route.py")
    assert Problem("c", "m", "f", ("app/x/route.py", "app/y/route.py"), 3).location == "app/x/route.py:3"
