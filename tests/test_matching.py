"""Request path -> route and params, as a table; and the raw-path decoding rules."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from framework.errors import RouteTreeError
from framework.manifest import Route, build_manifest
from framework.matcher import Matcher
from framework.paths import BadPath, Redirect, split_path
from framework.scan import RouteFile
from framework.segments import Kind

TREE = [
    "route.py",
    "api/health/route.py",
    "api/users/route.py",
    "api/users/me/route.py",
    "api/users/[id]/route.py",
    "api/users/[id]/posts/[postId]/route.py",
    "api/files/special/route.py",
    "api/files/[...path]/route.py",
    "api/docs/[[...slug]]/route.py",
    "(admin)/api/stats/route.py",
    "api/%5Fliteral/route.py",
    "api/café/route.py",
    "shop/[category]/route.py",
    "shop/[category]/[...rest]/route.py",
    "shop/[category]/sale/route.py",
    "mix/[id]/route.py",
    "mix/[...id]/route.py",
    "blog/[year]/[[...rest]]/route.py",
    "feed.xml/route.py",
]


@pytest.fixture(scope="module")
def matcher() -> Matcher[str]:
    routes = build_manifest(RouteFile("app/" + p, tuple(p.split("/")[:-1])) for p in TREE).routes
    return Matcher((r, r.pattern) for r in routes)


def match(matcher: Matcher[str], path: str) -> tuple[str, dict] | None:
    segments = split_path(path.encode("utf-8"))
    assert not isinstance(segments, Redirect)
    return matcher.match(segments)


CASES = [
    ("/", "/", {}),
    ("/api/health", "/api/health", {}),
    ("/api/users", "/api/users", {}),
    ("/api/users/me", "/api/users/me", {}),
    ("/api/users/ME", "/api/users/[id]", {"id": "ME"}),
    ("/api/users/42", "/api/users/[id]", {"id": "42"}),
    ("/api/users/me.json", "/api/users/[id]", {"id": "me.json"}),
    ("/api/users/a%2Fb", "/api/users/[id]", {"id": "a/b"}),
    ("/api/users/a%252Fb", "/api/users/[id]", {"id": "a%2Fb"}),
    ("/api/users/a+b", "/api/users/[id]", {"id": "a+b"}),
    ("/api/users/a%20b", "/api/users/[id]", {"id": "a b"}),
    ("/api/users/%E2%9C%93", "/api/users/[id]", {"id": "✓"}),
    ("/api/users/%e2%9c%93", "/api/users/[id]", {"id": "✓"}),
    ("/api/users/%25", "/api/users/[id]", {"id": "%"}),
    ("/api/users/a%3Fb", "/api/users/[id]", {"id": "a?b"}),
    ("/api/users/a;b", "/api/users/[id]", {"id": "a;b"}),
    ("/api/users/%6De", "/api/users/me", {}),
    ("/api/users/42/posts/7", "/api/users/[id]/posts/[postId]", {"id": "42", "postId": "7"}),
    ("/api/files/a", "/api/files/[...path]", {"path": ["a"]}),
    ("/api/files/a/b.txt", "/api/files/[...path]", {"path": ["a", "b.txt"]}),
    ("/api/files/a%2Fb/c%20d", "/api/files/[...path]", {"path": ["a/b", "c d"]}),
    ("/api/files/special", "/api/files/special", {}),
    ("/api/files/special/x", "/api/files/[...path]", {"path": ["special", "x"]}),
    ("/api/docs", "/api/docs/[[...slug]]", {}),
    ("/api/docs/x", "/api/docs/[[...slug]]", {"slug": ["x"]}),
    ("/api/docs/x/y", "/api/docs/[[...slug]]", {"slug": ["x", "y"]}),
    ("/api/stats", "/api/stats", {}),
    ("/api/_literal", "/api/_literal", {}),
    ("/api/%5Fliteral", "/api/_literal", {}),
    ("/api/caf%C3%A9", "/api/café", {}),
    ("/shop/shoes", "/shop/[category]", {"category": "shoes"}),
    ("/shop/shoes/sale", "/shop/[category]/sale", {"category": "shoes"}),
    ("/shop/shoes/a/b", "/shop/[category]/[...rest]", {"category": "shoes", "rest": ["a", "b"]}),
    ("/shop/shoes/sale/x", "/shop/[category]/[...rest]", {"category": "shoes", "rest": ["sale", "x"]}),
    ("/mix/a", "/mix/[id]", {"id": "a"}),
    ("/mix/a/b", "/mix/[...id]", {"id": ["a", "b"]}),
    ("/blog/2024", "/blog/[year]/[[...rest]]", {"year": "2024"}),
    ("/blog/2024/a/b", "/blog/[year]/[[...rest]]", {"year": "2024", "rest": ["a", "b"]}),
    ("/feed.xml", "/feed.xml", {}),
    ("/api/./health", "/api/health", {}),
    ("/api/x/../health", "/api/health", {}),
    ("/api/%2e/health", "/api/health", {}),
    ("/api/x/%2e%2E/health", "/api/health", {}),
    ("/../../api/health", "/api/health", {}),
    ("/api/users/%2e%2e", "/api", None),
]


@pytest.mark.parametrize(("path", "pattern", "params"), CASES)
def test_path_matches(matcher: Matcher[str], path: str, pattern: str, params: dict | None) -> None:
    found = match(matcher, path)
    if params is None:
        assert found is None
    else:
        assert found == (pattern, params)


NO_MATCH = [
    "/api",
    "/api/files",
    "/blog",
    "/API/health",
    "/api/users/me/extra",
    "/api/(admin)/stats",
    "/(admin)/api/stats",
    "/api/_lib",
    "/api/health/x",
    "/api/users/42/posts",
]


@pytest.mark.parametrize("path", NO_MATCH)
def test_paths_that_match_nothing(matcher: Matcher[str], path: str) -> None:
    assert match(matcher, path) is None


@pytest.mark.parametrize("path", ["/api/users/.", "/api/users/..", "/api/users/%2E", "/api/users/x/%2E%2E"])
def test_no_param_is_ever_a_dot_segment(matcher: Matcher[str], path: str) -> None:
    found = match(matcher, path)
    assert found is None or all(v not in (".", "..") for v in found[1].values())


REDIRECTS = [
    (b"/api/health/", "/api/health"),
    (b"/api//health", "/api/health"),
    (b"/api/hello//", "/api/hello"),
    (b"//api/health", "/api/health"),
    (b"/api/files/a//b", "/api/files/a/b"),
    (b"//evil.example/", "/evil.example"),
    (b"/\\evil.example/", "/%5Cevil.example"),
    (b"/api/caf%C3%A9/", "/api/caf%C3%A9"),
    (b"//", "/"),
]


@pytest.mark.parametrize(("raw", "location"), REDIRECTS)
def test_empty_segments_redirect_to_the_clean_path(raw: bytes, location: str) -> None:
    result = split_path(raw)
    assert result == Redirect(location)
    assert not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize(
    "raw",
    [b"/api/%ZZ", b"/api/users/%", b"/api/users/%E2%9C", b"/api/users/%C3", b"/%G0", b"/api/\xff", b"*", b"http://x/y"],
)
def test_undecodable_paths_are_bad_requests(raw: bytes) -> None:
    with pytest.raises(BadPath):
        split_path(raw)


def test_cost_does_not_depend_on_route_count() -> None:
    """A static lookup never enters the tree; a dynamic one visits nodes along one path, not every route."""
    routes = build_manifest(
        [RouteFile(f"app/s{i}/[id]/route.py", (f"s{i}", "[id]")) for i in range(2000)]
        + [RouteFile(f"app/static{i}/route.py", (f"static{i}",)) for i in range(2000)]
    ).routes
    m = Matcher((r, r.pattern) for r in routes)
    assert m.match(("static1999",)) == ("/static1999", {})
    assert m.match(("s1999", "7")) == ("/s1999/[id]", {"id": "7"})
    assert len(m.root.static) == 2000 and all(len(n.static) == 0 for n in m.root.static.values())


def test_format_tree_is_printable(matcher: Matcher[str]) -> None:
    text = matcher.format_tree()
    assert "static /api/health" in text
    assert "  [id] *" in text and "[...path] *" in text and "[[...slug]] *" in text


# --- the tree walk against the manifest's order ----------------------------------------------------
# The manifest lists routes most specific first (static < `[x]` < `[...x]` < `[[...x]]`, position by
# position), so the first route in it that matches a path is, by definition, the one that must answer.
# Random trees and paths hold the matcher's walk (fast paths, backing out) to that reading.

FOLDERS = ["a", "b", "[p]", "[...c]", "[[...o]]"]


def first_in_order(routes: tuple[Route, ...], path: tuple[str, ...]) -> tuple[str, dict] | None:
    """The reference: each route tried in manifest order, segment by segment."""
    for route in routes:
        params: dict[str, str | list[str]] = {}
        for i, seg in enumerate(route.segments):
            if seg.kind is Kind.CATCH_ALL or seg.kind is Kind.OPTIONAL_CATCH_ALL:
                rest = list(path[i:])
                if rest:
                    params[seg.name] = rest
                elif seg.kind is Kind.CATCH_ALL:
                    break
                return route.pattern, params
            if i >= len(path) or (seg.kind is Kind.STATIC and seg.name != path[i]):
                break
            if seg.kind is Kind.DYNAMIC:
                params[seg.name] = path[i]
        else:
            if len(route.segments) == len(path):
                return route.pattern, params
    return None


WORDS = st.sampled_from(["a", "b", "c"])


def path_for(route: Route, data: st.DataObject) -> tuple[str, ...]:
    """A path `route` matches, its params drawn from the same words as the static names (so they collide)."""
    path: list[str] = []
    for seg in route.segments:
        if seg.kind is Kind.STATIC:
            path.append(seg.name)
        elif seg.kind is Kind.DYNAMIC:
            path.append(data.draw(WORDS))
        else:
            path += data.draw(st.lists(WORDS, min_size=int(seg.kind is Kind.CATCH_ALL), max_size=2))
    return tuple(path)


@settings(max_examples=500, deadline=None)
@given(trees=st.lists(st.lists(st.sampled_from(FOLDERS), max_size=4), min_size=1, max_size=12), data=st.data())
def test_walk_answers_as_the_first_route_in_manifest_order(trees: list[list[str]], data: st.DataObject) -> None:
    files = []
    for folders in trees:
        # a param name per depth, so two routes never name one position differently (a tree error)
        named = [
            f.replace("p]", f"p{d}]").replace("c]", f"c{d}]").replace("o]]", f"o{d}]]") for d, f in enumerate(folders)
        ]
        if any(f.startswith(("[.", "[[")) for f in named[:-1]):
            continue  # a catch-all is last or the tree is refused
        files.append(RouteFile("app/" + "/".join([*named, "route.py"]), tuple(named)))
    try:
        routes = build_manifest(files).routes
    except RouteTreeError:
        assume(False)
        return
    matcher = Matcher((r, r.pattern) for r in routes)
    paths = [path_for(r, data) for r in routes] + data.draw(
        st.lists(st.lists(WORDS, max_size=5).map(tuple), max_size=4)
    )
    for path in paths:
        assert matcher.match(path) == first_in_order(routes, path), (path, [r.pattern for r in routes])
