"""Warm check latency over the answer corpus (tests/corpus.py).

Warm means: torch imported, the sympy sandbox started and warmed by one check (as the
tutor's start-up does), and each exercise's reference sampled once (cached per exercise). Each corpus answer is
then checked once, end to end, including the symbolic confirmation.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def run() -> dict[str, float]:
    """Median, 99th percentile and maximum of the check latency, in ms."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import torch
    from corpus import CORPUS

    from gradtutor.core.checking import check_derivative, derivative_reference
    from gradtutor.core.sandbox import shared_sandbox

    shared_sandbox().warm()
    for function, wrt, *_ in CORPUS:
        derivative_reference(function, wrt)
    # Baseline in the same run: one autograd derivative of x^2 at 64 points.
    base = []
    for _ in range(200):
        start = time.perf_counter()
        x = torch.rand(64, dtype=torch.float64, requires_grad=True)
        (x**2).sum().backward()
        base.append(time.perf_counter() - start)
    times = []
    for function, wrt, answer, *_ in CORPUS:
        start = time.perf_counter()
        check_derivative(function, wrt, answer)
        times.append(time.perf_counter() - start)
    times.sort()
    median = statistics.median(times) * 1000
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))] * 1000
    worst = times[-1] * 1000
    baseline = statistics.median(base) * 1000
    print(
        f"check latency over {len(times)} corpus answers (warm): median {median:.1f} ms, "
        f"p99 {p99:.1f} ms, max {worst:.1f} ms"
    )
    print(
        f"  baseline (one torch backward at 64 points): {baseline:.3f} ms; "
        f"median check = {median / baseline:.0f}x baseline"
    )
    print(
        f"  goals: median <= 10 ms {'ok' if median <= 10 else 'MISSED'}, "
        f"p99 <= 100 ms {'ok' if p99 <= 100 else 'MISSED'}, max <= 3000 ms {'ok' if worst <= 3000 else 'MISSED'}"
    )
    return {"median_ms": median, "p99_ms": p99, "max_ms": worst}
