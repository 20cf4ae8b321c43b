"""Timing that holds on a noisy machine: warm-up, interleaving, spread beside the median.

Every figure `make bench` prints comes through here. A figure is a `Spread`: the median
and the interquartile range of many repeats. A comparison (ours against a baseline) runs
the two sides alternately after warming both, so a slow spell of the machine hits both
sides alike, and reports the median and spread of the per-round ratios.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The median of a sample and its interquartile range."""

    median: float
    low: float  # first quartile
    high: float  # third quartile
    count: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        """The spread of `values` (at least one)."""
        ordered = sorted(values)
        if len(ordered) == 1:
            return cls(ordered[0], ordered[0], ordered[0], 1)
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        return cls(statistics.median(ordered), q1, q3, len(ordered))

    def ms(self, digits: int = 1) -> str:
        """'12.3 ms (IQR 11.9–12.8)' for a spread of seconds."""
        return (
            f"{self.median * 1000:.{digits}f} ms "
            f"(IQR {self.low * 1000:.{digits}f}–{self.high * 1000:.{digits}f})"
        )

    def ratio(self) -> str:
        """'1.03× (IQR 0.98–1.07)' for a spread of ratios."""
        return f"{self.median:.2f}× (IQR {self.low:.2f}–{self.high:.2f})"


def seconds(fn: Callable[[], object]) -> float:
    """How long one call of `fn` took, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeat(fn: Callable[[], float | None], repeats: int, warmup: int = 2) -> Spread:
    """Time `fn` `repeats` times after `warmup` untimed calls.

    When `fn` returns a float, that is taken as its own measurement (for work that must
    time only part of what it does); otherwise the whole call is timed.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        own = fn()
        times.append(own if isinstance(own, float) else time.perf_counter() - start)
    return Spread.of(times)


@dataclass(frozen=True)
class Comparison:
    """Ours against a baseline, measured alternately."""

    ours: Spread
    baseline: Spread
    ratio: Spread  # of ours / baseline, round by round


def compare(
    ours: Callable[[], float | None],
    baseline: Callable[[], float | None],
    rounds: int,
    warmup: int = 2,
) -> Comparison:
    """Warm both sides, then run them alternately `rounds` times (which goes first
    alternates too), timing each as `repeat` does."""

    def timed(fn: Callable[[], float | None]) -> float:
        start = time.perf_counter()
        own = fn()
        return own if isinstance(own, float) else time.perf_counter() - start

    for _ in range(warmup):
        ours()
        baseline()
    mine: list[float] = []
    theirs: list[float] = []
    for i in range(rounds):
        if i % 2:
            theirs.append(timed(baseline))
            mine.append(timed(ours))
        else:
            mine.append(timed(ours))
            theirs.append(timed(baseline))
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    return Comparison(Spread.of(mine), Spread.of(theirs), Spread.of(ratios))


def torch_backward() -> float:
    """The check benchmarks' baseline: seconds for one torch backward at 64 points."""
    import torch

    start = time.perf_counter()
    x = torch.rand(64, dtype=torch.float64, requires_grad=True)
    (x**2).sum().backward()
    return time.perf_counter() - start


def verdict(ok: bool) -> str:
    """'ok' or 'MISSED', for a goal."""
    return "ok" if ok else "MISSED"
