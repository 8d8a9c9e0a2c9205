"""The text of the files `framework new route` writes: the route, its controller functions and its test.

Each generated file passes `framework check` and its tests pass as written; `scaffold.plan_route`
decides where they go and refuses to overwrite anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..manifest import pattern_of
from ..segments import Kind, Segment
from ..urls import route_url
from .naming import param_segments, python_name, qualified_stem, signature, stem

BODY_METHODS = ("POST", "PUT", "PATCH")  # their handlers are async and read the request body
SAMPLE_BODY = b"hello"


def _data_expr(method: str, segments: Sequence[Segment]) -> str:
    parts = [f"{method} {stem(segments)}"]
    for p in param_segments(segments):
        arg = python_name(p.name)
        parts.append(f" {p.name}={{{arg}}}" if p.kind is Kind.DYNAMIC else f" {p.name}={{'/'.join({arg} or [])}}")
    if method in BODY_METHODS:
        parts.append(" ({len(body)} bytes)")
    return "f" + repr("".join(parts)) if len(parts) > 1 else repr(parts[0])


def _sample(segments: Sequence[Segment]) -> dict[str, str | list[str]]:
    return {p.name: ("42" if p.kind is Kind.DYNAMIC else ["a", "b"]) for p in param_segments(segments)}


def _expected_text(method: str, segments: Sequence[Segment]) -> str:
    sample = _sample(segments)
    text = f"{method} {stem(segments)}"
    for p in param_segments(segments):
        value = sample[p.name]
        text += f" {p.name}={value if isinstance(value, str) else '/'.join(value)}"
    if method in BODY_METHODS:
        text += f" ({len(SAMPLE_BODY)} bytes)"
    return text


def controller_function(name: str, method: str, segments: Sequence[Segment]) -> str:
    args = ", ".join(filter(None, [signature(segments), "body: bytes" if method in BODY_METHODS else ""]))
    return (
        f"def {name}({args}) -> Result[str]:\n"
        f'    """{method} {pattern_of(segments)}: do the work here. On failure return\n'
        f'    `Result(error=ControllerError(404, "Not found"))` (from framework.controllers);\n'
        f'    the route turns it into the response."""\n'
        f"    return Result(data={_data_expr(method, segments)})\n"
    )


def route_source(
    pattern: str, methods: Sequence[str], functions: Sequence[str], segments: Sequence[Segment], controller_module: str
) -> str:
    module = controller_module.removesuffix(".py").replace("/", ".")
    has_params = bool(param_segments(segments))
    lines = [
        f'"""{", ".join(methods)} {pattern}: an action (a redirect, a file), its work done by {controller_module}."""',
        "",
        "from starlette.requests import Request",
        "from starlette.responses import PlainTextResponse, Response",
        "",
    ]
    if has_params:
        lines += ["from framework import RouteContext"]
    lines += [f"from {module} import {', '.join(functions)}", ""]
    for method, func in zip(methods, functions, strict=True):
        args = ", ".join(
            f'context.params["{p.name}"]' if p.kind is Kind.DYNAMIC else f'context.params.get("{p.name}", [])'
            for p in param_segments(segments)
        )
        sig = "request: Request, context: RouteContext" if has_params else "request: Request"
        if method in BODY_METHODS:  # reading the body is async: so is the handler
            lines += [
                "",
                f"async def {method}({sig}) -> Response:",
                "    body = await request.body()  # or: await request.json(), await request.form()",
                f"    result = {func}({', '.join(filter(None, [args, 'body']))})",
            ]
        else:
            lines += ["", f"def {method}({sig}) -> Response:", f"    result = {func}({args})"]
        lines += [
            "    if result.error:",
            "        return PlainTextResponse(result.error.status_text, status_code=result.error.status)",
            '    return PlainTextResponse(result.data or "")',
            "",
        ]
    return "\n".join(lines)


def test_source(
    pattern: str,
    route_file: str,
    methods: Sequence[str],
    functions: Sequence[str],
    segments: Sequence[Segment],
    builder: str,
    controller_module: str,
) -> str:
    module = controller_module.removesuffix(".py").replace("/", ".")
    sample = _sample(segments)
    call_args = ", ".join(repr(sample[p.name]) for p in param_segments(segments))
    url = route_url(pattern, sample)
    out = [
        f'"""Tests for {pattern} ({route_file}), written by `framework new route`."""',
        "",
        "import asyncio",
        "from pathlib import Path",
        "",
        "import httpx",
        "",
        "from framework import create_app",
        "from framework.app import project_root",
        "",
        "ROOT = project_root(Path(__file__).resolve().parent.parent)  # puts the project on sys.path for `lib`",
        "",
        f"from {module} import {', '.join(functions)}  # noqa: E402",
        f"from lib.urls import {builder}  # noqa: E402",
        "",
        "",
        "def request(method: str, url: str, body: bytes | None = None) -> httpx.Response:",
        '    """One request to the app in this process, through its ASGI interface."""',
        "",
        "    async def send() -> httpx.Response:",
        "        transport = httpx.ASGITransport(app=create_app(ROOT))",
        '        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:',
        "            return await client.request(method, url, content=body)",
        "",
        "    return asyncio.run(send())",
        "",
        "",
        f"def test_{builder}() -> None:",
        f"    assert {builder}({call_args}) == {url!r}",
        "",
    ]
    for method, func in zip(methods, functions, strict=True):
        expected = _expected_text(method, segments)
        body = ", " + repr(SAMPLE_BODY) if method in BODY_METHODS else ""
        out += [
            "",
            f"def test_{func}() -> None:",
            f"    assert {func}({call_args}{body if call_args else body[2:]}).data == {expected!r}",
            "",
            "",
            f"def test_{method.lower()}_{qualified_stem(segments)}_route() -> None:",
            f"    response = request({method!r}, {builder}({call_args}){body})",
            "    assert response.status_code == 200",
        ]
        if method != "HEAD":
            out += [f"    assert response.text == {expected!r}"]
        out += [""]
    return "\n".join(out)
