"""Variants: drawing one and checking an answer to it, and `validate` with every variant.

Latency: every parameterized exercise of the built-in pack and its practice block, at
variants no earlier step has seen (each exercise's variant cache and references cleared
first), so each measurement draws the numbers, builds the fixed exercise, samples its
reference and checks the right answer, then a typical wrong one (a feedback match, which
must be recognised). Warm, as the tutor is when a learner presses F4: torch imported and
the sympy sandbox started. Each check alternates with the baseline, one torch backward
at 64 points.

Validation: `gradtutor validate lessons` in a fresh process, which draws 50 variants of
each parameterized exercise and checks them, against the same process with
`--structure-only` (no torch, no variants) as the baseline.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.timing import Spread, compare, torch_backward, verdict

ROOT = Path(__file__).resolve().parent.parent
VARIANTS_PER_EXERCISE = 12
FIRST_UNSEEN = 100_000  # far from the 0-49 that validation and the tests use


def _clear_caches() -> None:
    from gradtutor.core.checking import reference, tensor, value
    from gradtutor.core.variants import variant_of

    variant_of.cache_clear()
    reference.derivative_reference.cache_clear()
    value._value_reference_cached.cache_clear()
    tensor._network.cache_clear()


def _latency() -> dict[str, float]:

    from gradtutor.core.checking import check_exercise, freeze_imports, reference_text
    from gradtutor.core.packs import PracticeExercise, load_pack
    from gradtutor.core.paths import builtin_pack_dir
    from gradtutor.core.sandbox import shared_sandbox
    from gradtutor.core.variants import has_variants, variant_of

    pack = load_pack(builtin_pack_dir()).pack
    assert pack is not None
    exercises = [
        ex
        for lesson in pack.lessons
        for ex in lesson.exercises
        if isinstance(ex, PracticeExercise) or (ex.params and has_variants(ex))
    ]

    baseline = torch_backward
    shared_sandbox().warm()
    freeze_imports()  # as the tutor does once warm
    for ex in exercises:
        check_exercise(ex, reference_text(ex, 0) or "0", variant=0)
    for _ in range(20):
        baseline()
    # the answers first, then every cache emptied: the timed calls start from nothing
    cases = []
    for ex in exercises:
        for k in range(FIRST_UNSEEN, FIRST_UNSEEN + VARIANTS_PER_EXERCISE):
            fixed = variant_of(ex, k).exercise
            wrong = fixed.feedback[0].match if fixed.feedback else "0"
            cases.append((ex, k, reference_text(ex, k) or "", wrong))
    _clear_caches()
    right_times, wrong_times, base = [], [], []
    mistakes = 0
    for ex, k, right, wrong in cases:
        start = time.perf_counter()
        verdict_right = check_exercise(ex, right, variant=k)
        right_times.append(time.perf_counter() - start)
        base.append(baseline())
        start = time.perf_counter()
        verdict_wrong = check_exercise(ex, wrong, variant=k)
        wrong_times.append(time.perf_counter() - start)
        base.append(baseline())
        mistakes += (not verdict_right.correct) + verdict_wrong.correct
    right_times.sort()
    wrong_times.sort()
    spread = Spread.of(right_times)
    p99 = right_times[min(len(right_times) - 1, int(0.99 * len(right_times)))] * 1000
    baseline_spread = Spread.of(base)
    print(
        f"draw a fresh variant + check the right answer, {len(exercises)} exercises x "
        f"{VARIANTS_PER_EXERCISE} unseen variants (warm): median {spread.ms()}, p99 {p99:.1f} ms, "
        f"max {right_times[-1] * 1000:.1f} ms"
    )
    print(
        f"  then a typical wrong answer to the same variant: median {Spread.of(wrong_times).ms()}, "
        f"max {wrong_times[-1] * 1000:.1f} ms"
    )
    print(
        f"  baseline, one torch backward at 64 points, alternated: {baseline_spread.ms(3)}; "
        f"median draw + check = {spread.median / baseline_spread.median:.0f}x"
    )
    print(f"  verdicts: {mistakes} wrong of {2 * len(cases)} (must be 0)")
    median = spread.median * 1000
    print(f"  goals: median <= 10 ms {verdict(median <= 10)}, p99 <= 100 ms {verdict(p99 <= 100)}")
    return {"variant_median_ms": median, "variant_p99_ms": p99}


def _validate_seconds(*extra: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradtutor", "validate", "lessons", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"validate lessons failed:\n{done.stdout}{done.stderr}")
    return took


def run() -> dict[str, float]:
    """Variant latency figures, in ms, and validation time, in s."""
    figures = _latency()
    result = compare(
        lambda: _validate_seconds(),
        lambda: _validate_seconds("--structure-only"),
        rounds=3,
        warmup=1,
    )
    full, base = result.ours, result.baseline
    print(
        f"validate lessons, 50 variants of each parameterized exercise, fresh process, "
        f"3 alternated runs: {full.median:.1f} s ({full.low:.1f}–{full.high:.1f}); "
        f"--structure-only {base.median:.2f} s; ratio {result.ratio.ratio()}"
    )
    print(f"  goal: within 30 s {verdict(full.median <= 30)}")
    figures["validate_s"] = full.median
    return figures
