"""Benchmarks: this framework next to hand-written Starlette (and optionally Next.js).

Run `python -m bench --help`. Results go to bench/results/ (git-ignored); see docs/benchmarks.md.
"""
