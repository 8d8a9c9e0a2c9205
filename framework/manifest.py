"""Route files to a manifest: URL patterns in match order, or every problem with the tree at once.

Pure and stdlib-only. The rules, as Next.js applies them (and a few it only catches at boot):

| tree                                                     | result                                  |
|----------------------------------------------------------|-----------------------------------------|
| `(a)/dup/route.py` + `(b)/dup/route.py`                  | refused: same URL `/dup`                |
| `users/[id]/route.py` + `users/[slug]/posts/route.py`    | refused: two names at one position      |
| `[id]/x/[id]/route.py`                                   | refused: `id` twice in one path         |
| `[...a]/b/route.py`                                      | refused: catch-all not last             |
| `cc/[...a]/route.py` + `cc/[[...b]]/route.py`            | refused: required and optional side by side |
| `docs/route.py` + `docs/[[...slug]]/route.py`            | refused: same specificity at `/docs`    |
| `health/route.py` + `health/page.py`                     | refused: a route and a page at one URL  |
| `robots.txt/route.py` + `public/robots.txt`               | refused: a route and a public file at one URL |
| `mix/[id]/route.py` + `mix/[...rest]/route.py`           | allowed: `[id]` first, then `[...rest]` |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import Problem, RouteTreeError
from .scan import PublicLookup, RouteFile
from .segments import Kind, Segment, SegmentError, parse_segment

Shape = tuple[tuple[int, str], ...]
"""A route's segments as (kind, literal name or ""): `/api/users/[id]` -> ((0, "api"), (0, "users"), (1, ""))."""


@dataclass(frozen=True, slots=True)
class Route:
    """One servable route: its URL pattern in Next.js notation and the file that defines it."""

    pattern: str
    file: str
    segments: tuple[Segment, ...]

    @property
    def is_static(self) -> bool:
        return all(s.kind is Kind.STATIC for s in self.segments)

    @property
    def sort_key(self) -> Shape:
        """Segment by segment from the left: static < `[x]` < `[...x]` < `[[...x]]`, then by name."""
        return shape(self.segments)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every route, most specific first. The server and `framework routes` both read this."""

    routes: tuple[Route, ...]


def pattern_of(segments: Iterable[Segment]) -> str:
    return "/" + "/".join(s.notation() for s in segments)


def shape(segments: Iterable[Segment]) -> Shape:
    """Two routes with one shape answer the same URLs, whatever their param names; it also orders them."""
    return tuple((int(s.kind), s.name if s.kind is Kind.STATIC else "") for s in segments)


def _parse(rf: RouteFile, problems: list[Problem]) -> tuple[Segment, ...] | None:
    segments: list[Segment] = []
    ok = True
    for folder in rf.folders:
        try:
            seg = parse_segment(folder)
        except SegmentError as exc:
            problems.append(
                Problem("bad-folder-name", f"{exc.what}.", exc.fix[:1].upper() + exc.fix[1:] + ".", (rf.file,))
            )
            ok = False
            continue
        if seg.kind is not Kind.GROUP:
            segments.append(seg)
    if not ok:
        return None
    result = tuple(segments)
    pattern = pattern_of(result)
    for seg in result[:-1]:
        if seg.is_catch_all:
            problems.append(
                Problem(
                    "catch-all-not-last",
                    f"the catch-all `{seg.notation()}` in `{pattern}` is not the last segment, so nothing after it could ever match.",
                    f"Move `{rf.file.rsplit('/', 1)[-1]}` into the `{seg.notation()}` folder itself, or make it a single param `[{seg.name}]`.",
                    (rf.file,),
                )
            )
            return None
    names = [s.name for s in result if s.is_param]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            Problem(
                "repeated-param",
                f"the parameter `{name}` appears more than once in `{pattern}`, so one value would overwrite the other.",
                "Rename one of the folders so every parameter in the path has its own name.",
                (rf.file,),
            )
        )
        return None
    return result


@dataclass(frozen=True, slots=True)
class Tree:
    """Each route file read on its own, and every problem with the tree as a whole.

    `framework check` reads both from one pass (a conflict between two files hides neither route);
    `build_manifest` serves only a tree without problems.
    """

    routes: tuple[Route, ...]  # every route.py whose own folders parse, in the order given
    problems: tuple[Problem, ...]


def read_tree(files: Iterable[RouteFile], public: PublicLookup | None = None) -> Tree:
    """Every route file parsed, and the problems; `public` (`scan.public_lookup`) finds public files at
    the URL of a static route."""
    problems: list[Problem] = []
    routes: list[Route] = []
    pages: list[Route] = []
    for rf in files:
        segments = _parse(rf, problems)
        if segments is not None:
            (routes if rf.kind == "route" else pages).append(Route(pattern_of(segments), rf.file, segments))
    problems += _conflicts(routes, pages)
    if public is not None:
        problems += public_problems(routes, public)
    return Tree(tuple(routes), tuple(problems))


def build_manifest(files: Iterable[RouteFile], public: PublicLookup | None = None) -> Manifest:
    """Check the tree and order its routes, or raise `RouteTreeError` naming every file involved."""
    tree = read_tree(files, public)
    if tree.problems:
        raise RouteTreeError(tree.problems)
    return Manifest(tuple(sorted(tree.routes, key=lambda r: (r.sort_key, r.file))))


def _conflicts(routes: list[Route], pages: list[Route]) -> list[Problem]:
    problems: list[Problem] = []
    by_shape: dict[Shape, list[Route]] = defaultdict(list)
    # (shape of the prefix, kind) -> param name -> routes using it there
    names_at: dict[tuple[Shape, Kind], dict[str, list[Route]]] = defaultdict(lambda: defaultdict(list))
    for r in routes:
        key = shape(r.segments)
        by_shape[key].append(r)
        for i, seg in enumerate(r.segments):
            if seg.is_param:
                names_at[(key[:i], seg.kind)][seg.name].append(r)

    for same in by_shape.values():
        if len(same) > 1 and len({r.pattern for r in same}) == 1:
            files = tuple(r.file for r in same)
            problems.append(
                Problem(
                    "duplicate-route",
                    f"{len(same)} files define the same URL `{same[0].pattern}`: {_listing(files)}.",
                    "Keep one of them: route groups `(name)` do not change the URL, so move or delete the others.",
                    files,
                )
            )

    for (prefix, kind), by_name in names_at.items():
        if len(by_name) > 1:
            files = tuple(dict.fromkeys(r.file for rs in by_name.values() for r in rs))
            where = pattern_of(_segments_of(prefix)) if prefix else "/"
            names = ", ".join(f"`{Segment(kind, n).notation()}`" for n in sorted(by_name))
            problems.append(
                Problem(
                    "param-name-mismatch",
                    f"different parameter names {names} at the same position under `{where}` ({_listing(files)}); "
                    "one URL segment can only have one name.",
                    f"Rename the folders to one name, e.g. `{Segment(kind, sorted(by_name)[0]).notation()}`, in every path.",
                    files,
                )
            )

    for key, same in by_shape.items():
        if not key:
            continue
        prefix, last = key[:-1], key[-1]
        if last[0] == Kind.CATCH_ALL:
            optional = by_shape.get((*prefix, (int(Kind.OPTIONAL_CATCH_ALL), "")), [])
            if optional:
                files = tuple(r.file for r in (*same, *optional))
                problems.append(
                    Problem(
                        "catch-all-beside-optional",
                        f"a required catch-all `{same[0].segments[-1].notation()}` and an optional catch-all "
                        f"`{optional[0].segments[-1].notation()}` stand side by side ({_listing(files)}); they would match the same URLs.",
                        "Keep one: `[[...x]]` also matches the parent URL, `[...x]` needs at least one segment.",
                        files,
                    )
                )
        if last[0] == Kind.OPTIONAL_CATCH_ALL and prefix in by_shape:
            files = tuple(r.file for r in (*by_shape[prefix], *same))
            problems.append(
                Problem(
                    "optional-catch-all-beside-index",
                    f"`{same[0].pattern}` already matches `{by_shape[prefix][0].pattern}`, which "
                    f"{by_shape[prefix][0].file} also defines ({_listing(files)}).",
                    f"Delete {by_shape[prefix][0].file}, or turn the optional catch-all into a required one "
                    f"`[...{same[0].segments[-1].name}]`.",
                    files,
                )
            )

    route_by_pattern = {shape(r.segments): r for r in routes}
    for page in pages:
        route = route_by_pattern.get(shape(page.segments))
        if route is not None:
            problems.append(
                Problem(
                    "route-beside-page",
                    f"a route and a page both answer `{route.pattern}` ({route.file} and {page.file}).",
                    "Move the route to another folder (for example under `app/api/`), or delete the page.",
                    (route.file, page.file),
                )
            )
    return problems


def public_problems(routes: Iterable[Route], public: PublicLookup) -> list[Problem]:
    """A static route and a file of `public/` at one URL (Next.js refuses it too): one stat per static route."""
    problems = []
    for route in routes:
        file = public(tuple(s.name for s in route.segments)) if route.is_static else None
        if file is not None:
            problems.append(
                Problem(
                    "route-beside-public-file",
                    f"a route and a public file both answer `{route.pattern}` ({route.file} and {file}).",
                    "Delete or rename one of them: routes are tried before public files, so the file would never be served.",
                    (route.file, file),
                )
            )
    return problems


def _segments_of(of: Shape) -> tuple[Segment, ...]:
    return tuple(Segment(Kind(k), n or "*") for k, n in of)


def _listing(files: tuple[str, ...]) -> str:
    return " and ".join(files) if len(files) <= 2 else ", ".join(files[:-1]) + " and " + files[-1]
