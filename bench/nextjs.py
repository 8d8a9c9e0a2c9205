"""Next.js with the same two endpoints: npm install, next build, next start on 127.0.0.1 (pinned like the rest)."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import harness

PACKAGES = ("next@latest", "react@latest", "react-dom@latest", "typescript", "@types/react", "@types/node")

ROUTES = {
    "app/api/health/route.ts": """export const dynamic = "force-dynamic";

export async function GET() {
  return Response.json({ status: "ok" });
}
""",
    "app/api/users/[id]/route.ts": """export async function GET(
  request: Request,
  { params }: { params: Promise<{ id: string }> },
) {
  const { id } = await params;
  return Response.json({ id });
}
""",
}


def _run(cmd: list[str], cwd: Path, what: str, timeout: float) -> float:
    t = time.perf_counter()
    try:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**harness.env(), "NEXT_TELEMETRY_DISABLED": "1"},
        )
    except subprocess.TimeoutExpired:
        raise harness.BenchError(f"{what} took longer than {timeout:.0f}s in {cwd}") from None
    if done.returncode != 0:
        raise harness.BenchError(f"{what} failed ({done.returncode}) in {cwd}:\n{(done.stdout + done.stderr)[-3000:]}")
    return time.perf_counter() - t


@dataclass
class NextApp:
    folder: Path
    version: str
    install_s: float
    build_s: float

    @classmethod
    def prepare(cls, folder: Path) -> NextApp:
        """Install (skipped when node_modules/next is already there), write the routes, build."""
        npm = harness.require("npm", "install Node.js 20+ (e.g. sudo apt-get install -y nodejs npm)")
        folder.mkdir(parents=True, exist_ok=True)
        install_s = 0.0
        if not (folder / "node_modules" / "next" / "package.json").exists():
            (folder / "package.json").write_text(
                json.dumps({"name": "bench-nextjs", "private": True}), encoding="utf-8"
            )
            install_s = _run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
                folder,
                "npm install next",
                300,
            )
        for rel, text in ROUTES.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        build_s = _run([str(folder / "node_modules" / ".bin" / "next"), "build"], folder, "next build", 300)
        version = json.loads((folder / "node_modules" / "next" / "package.json").read_text())["version"]
        return cls(folder, version, install_s, build_s)

    def describe(self) -> str:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        return (
            f"next {self.version} on node {node} in {self.folder}: npm install {self.install_s:.0f} s, "
            f"next build {self.build_s:.0f} s"
        )

    def serve(self, logdir: Path):  # type: ignore[no-untyped-def]
        port = harness.free_port()
        command = [str(self.folder / "node_modules" / ".bin" / "next"), "start", "-H", "127.0.0.1", "-p", str(port)]
        return harness.server("nextjs", command, port, "/api/health", logdir, timeout=60, cwd=self.folder)
