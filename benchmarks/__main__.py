"""Run every benchmark: ``python -m benchmarks [--quick] [NAME ...]``.

Each benchmark prints its own table of medians and of ratios against a baseline timed in the same run.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import benchmarks


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a quick look")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {available()}")
    for name in names:
        sys.stdout.write(f"\n=== {name} ===\n")
        sys.stdout.flush()
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        module.main(["--quick"] if args.quick else [])
        sys.stdout.write(f"({name}: {time.perf_counter() - start:.1f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
