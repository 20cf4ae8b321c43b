"""Run every benchmark: `python -m bench [NAME...]`."""

from __future__ import annotations

import importlib
import sys

BENCHES = [
    "bench_packs",
    "bench_check",
    "bench_variants",
    "bench_graph",
    "bench_startup",
    "bench_answer",
    "bench_stepper",
    "bench_serve",
]


def main(names: list[str]) -> None:
    for name in names or BENCHES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                continue  # not written yet
            raise
        print(f"== {name}")
        module.run()


if __name__ == "__main__":
    main(sys.argv[1:])
