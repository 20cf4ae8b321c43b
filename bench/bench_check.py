"""Warm check latency over the answer corpus (tests/corpus.py).

Warm means: torch imported, the sympy sandbox started and warmed by one check (as the
tutor's start-up does), each exercise's reference sampled once (it is cached per
exercise). Then every answer is checked once, end to end with its symbolic confirmation:
sympy caches what it has seen, so only a first check is what a learner meets, and the
spread is over the answers. Each check alternates with the baseline (one torch backward
at 64 points), so a slow spell hits both. A second pass reports the answers seen before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.timing import Spread, torch_backward, verdict


def run() -> dict[str, float]:
    """Median, 99th percentile and maximum of the check latency, in ms."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from corpus import CORPUS

    from gradtutor.core.checking import check_derivative, derivative_reference, freeze_imports
    from gradtutor.core.sandbox import shared_sandbox

    baseline = torch_backward
    shared_sandbox().warm()
    freeze_imports()  # as the tutor does once warm
    for function, wrt, *_ in CORPUS:
        derivative_reference(function, wrt)
    for _ in range(20):
        baseline()

    def one_pass() -> tuple[list[float], list[float]]:
        times, base = [], []
        for function, wrt, answer, *_ in CORPUS:
            start = time.perf_counter()
            check_derivative(function, wrt, answer)
            times.append(time.perf_counter() - start)
            base.append(baseline())
        return sorted(times), base

    times, base = one_pass()
    again, _ = one_pass()
    spread = Spread.of(times)
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))] * 1000
    worst = times[-1] * 1000
    baseline_spread = Spread.of(base)
    median = spread.median * 1000
    print(
        f"check latency, {len(CORPUS)} corpus answers, first check of each (warm): median "
        f"{spread.ms()}, p99 {p99:.1f} ms, max {worst:.1f} ms"
    )
    print(
        f"  the same answers checked again: median {Spread.of(again).ms()}, max {again[-1] * 1000:.1f} ms"
    )
    print(
        f"  baseline, one torch backward at 64 points, alternated with the checks: "
        f"{baseline_spread.ms(3)}; median check = {spread.median / baseline_spread.median:.0f}x"
    )
    print(
        f"  goals: median <= 10 ms {verdict(median <= 10)}, p99 <= 100 ms {verdict(p99 <= 100)}, "
        f"max <= 3000 ms {verdict(worst <= 3000)}"
    )
    return {"median_ms": median, "p99_ms": p99, "max_ms": worst}
