"""Folder name -> segment, as a table (the rules users read in the README)."""

import pytest

from framework.segments import Kind, PatternError, Segment, SegmentError, parse_pattern, parse_segment
from framework.urls import RouteUrlError, route_url

ACCEPTED = [
    ("users", Kind.STATIC, "users"),
    ("feed.xml", Kind.STATIC, "feed.xml"),
    ("café", Kind.STATIC, "café"),
    ("refresh-token", Kind.STATIC, "refresh-token"),
    ("%5Fliteral", Kind.STATIC, "_literal"),
    ("%5fliteral", Kind.STATIC, "_literal"),
    ("[id]", Kind.DYNAMIC, "id"),
    ("[postId]", Kind.DYNAMIC, "postId"),
    ("[a-b]", Kind.DYNAMIC, "a-b"),
    ("[...path]", Kind.CATCH_ALL, "path"),
    ("[[...slug]]", Kind.OPTIONAL_CATCH_ALL, "slug"),
    ("(admin)", Kind.GROUP, "admin"),
    ("(marketing site)", Kind.GROUP, "marketing site"),
    ("_lib", Kind.PRIVATE, "_lib"),
    ("__pycache__", Kind.PRIVATE, "__pycache__"),
]


@pytest.mark.parametrize(("folder", "kind", "name"), ACCEPTED)
def test_folder_names_parse(folder: str, kind: Kind, name: str) -> None:
    assert parse_segment(folder) == Segment(kind, name)


REFUSED = [
    ("[[id]]", "optional parameters"),
    ("[id", "do not span the whole name"),
    ("id]", "do not span the whole name"),
    ("[]", "no valid parameter name"),
    ("[...]", "no valid parameter name"),
    ("[[...]]", "no valid parameter name"),
    ("[[...x]", "do not span the whole name"),
    ("[name].json", "do not span the whole name"),
    ("v[1]", "do not span the whole name"),
    ("[a b]", "no valid parameter name"),
    ("[.x]", "no valid parameter name"),
    ("[a/b]", "no valid parameter name"),
    ("()", "no plain name"),
    ("", "empty or whitespace-only"),
    ("   ", "empty or whitespace-only"),
    (" users", "whitespace"),
]


@pytest.mark.parametrize(("folder", "reason"), REFUSED)
def test_malformed_folder_names_are_refused_with_a_fix(folder: str, reason: str) -> None:
    with pytest.raises(SegmentError) as info:
        parse_segment(folder)
    assert reason in info.value.what
    assert info.value.fix  # every refusal says what to write instead


@pytest.mark.parametrize(
    ("segment", "notation"),
    [
        (Segment(Kind.STATIC, "users"), "users"),
        (Segment(Kind.DYNAMIC, "id"), "[id]"),
        (Segment(Kind.CATCH_ALL, "p"), "[...p]"),
        (Segment(Kind.OPTIONAL_CATCH_ALL, "s"), "[[...s]]"),
    ],
)
def test_notation_round_trips(segment: Segment, notation: str) -> None:
    assert segment.notation() == notation
    assert parse_segment(notation) == segment


def test_rank_order_is_static_dynamic_catch_all_optional() -> None:
    ranks = [parse_segment(n).kind for n in ("x", "[x]", "[...x]", "[[...x]]")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


PATTERNS = [
    ("/", ()),
    ("/api/users/[id]", (Segment(Kind.STATIC, "api"), Segment(Kind.STATIC, "users"), Segment(Kind.DYNAMIC, "id"))),
    ("/api/pong/", (Segment(Kind.STATIC, "api"), Segment(Kind.STATIC, "pong"))),
    ("/docs/[[...slug]]", (Segment(Kind.STATIC, "docs"), Segment(Kind.OPTIONAL_CATCH_ALL, "slug"))),
]


@pytest.mark.parametrize(("pattern", "segments"), PATTERNS)
def test_patterns_parse(pattern: str, segments: tuple[Segment, ...]) -> None:
    assert parse_pattern(pattern) == segments


PATTERNS_REFUSED = [
    ("api/users", "a route pattern starts with `/`, like '/api/users/[id]'"),
    (
        "/api/[id",
        "folder name '[id' has brackets that do not span the whole name; write `[id]`, `[...path]` or "
        "`[[...slug]]`, or remove the brackets for a literal segment",
    ),
    ("/(shop)/cart", "`(shop)` is a folder, not a URL segment; write the URL pattern without it"),
    ("/api/_lib", "`_lib` is a folder, not a URL segment; write the URL pattern without it"),
]


@pytest.mark.parametrize(("pattern", "message"), PATTERNS_REFUSED)
def test_bad_patterns_say_what_to_write(pattern: str, message: str) -> None:
    """One wording for `route_url`, `framework check` and `framework new`; `route_url` prefixes its call."""
    with pytest.raises(PatternError) as info:
        parse_pattern(pattern)
    assert str(info.value) == message
    with pytest.raises(RouteUrlError) as raised:
        route_url(pattern)
    assert str(raised.value) == f"route_url({pattern!r}): {message}"


def test_route_groups_are_left_out_when_allowed() -> None:
    assert parse_pattern("/(shop)/cart", groups=True) == (Segment(Kind.STATIC, "cart"),)
    with pytest.raises(PatternError) as info:
        parse_pattern("/(shop)/_cart", groups=True)
    assert info.value.folder == Segment(Kind.PRIVATE, "_cart")
