"""One answer's life, timed as ratios measured in the same run.

- Opening a lesson: in a real terminal (tmux), from Enter in the lesson browser to the
  lesson painted (its header and opening text on screen), against the bare Textual app's
  start-up to its first screen; and, beside it, to its first exercise painted too (the
  segments after the first are mounted right after the first paint).
- The first verdict: in the app (headless, Textual's own test driver), from Enter to the
  verdict on screen for the first answer once the background warm-up has finished,
  against the same for a later answer (caches and workers warm).

Goals (issue "one answer's life"): lesson open <= 0.3x the bare app's start-up; the first
verdict after warm-up within 2x a later one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.bench_startup import BARE_MARKER, ROOT, _time_to
from bench.timing import Spread, verdict

LESSON_MARKERS = ("scratch · Derivatives as slopes", "How fast does the output move?")
"""The lesson screen's header and its opening heading: the lesson has painted."""
EXERCISE_MARKER = "Exercise 1 ·"
"""The first exercise's heading, below the opening text."""


def _lesson_open(
    env: dict[str, str], settle: float = 0.0, limit: float = 60.0
) -> tuple[float, float]:
    """Seconds from Enter in the browser to the first lesson painted (tmux), and to its
    first exercise painted: Enter at once (while torch loads in the background), or
    `settle` seconds after the browser appeared (the warm-up done; a benchmark may wait
    on the clock, a test may not)."""
    from bench.bench_startup import _last_lesson_title

    name = f"bench-{uuid.uuid4().hex[:8]}"
    sock = ["-L", name]
    command = [sys.executable, "-m", "gradtutor"]
    subprocess.run(
        ["tmux", *sock, "new-session", "-d", "-s", name, "-x", "100", "-y", "30"]
        + ["env", "-u", "PYTHONDONTWRITEBYTECODE", *[f"{k}={v}" for k, v in env.items()]]
        + command,
        check=True,
        cwd=ROOT,
    )

    def screen() -> str:
        return subprocess.run(
            ["tmux", *sock, "capture-pane", "-p", "-t", name], capture_output=True, text=True
        ).stdout

    try:
        browser = _last_lesson_title()
        deadline = time.perf_counter() + limit
        while browser not in screen():
            if time.perf_counter() > deadline:
                raise RuntimeError("the browser did not appear")
            time.sleep(0.005)
        time.sleep(settle)
        start = time.perf_counter()
        subprocess.run(["tmux", *sock, "send-keys", "-t", name, "Enter"], check=True)
        painted = exercise = None
        while exercise is None:
            if time.perf_counter() - start > limit:
                raise RuntimeError("the lesson did not open")
            shown = screen()
            now = time.perf_counter() - start
            if painted is None and all(m in shown for m in LESSON_MARKERS):
                painted = now
            if painted is not None and EXERCISE_MARKER in shown:
                exercise = now
            time.sleep(0.005)
        return painted, exercise
    finally:
        subprocess.run(["tmux", *sock, "kill-server"], capture_output=True)


async def _verdicts(home: Path) -> tuple[float, float]:
    """(first verdict after warm-up, a later one), seconds from Enter to the verdict."""
    from gradtutor.app import create_app
    from gradtutor.core.checking import reference_text
    from gradtutor.widgets.exercise import ExerciseView

    app = create_app(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        app.start_warm_up()
        while not app.heavy_ready:  # state, not a clock: the warm-up has finished
            await pilot.pause(0.01)
        pack = app.packs[0]
        app.open_lesson(pack, pack.lessons[0])
        while not app.screen.query(ExerciseView):
            await pilot.pause(0.01)
        await pilot.pause()
        times = []
        for view in list(app.screen.query(ExerciseView))[:2]:
            view.focus_answer()
            await pilot.pause()
            answer = reference_text(view.exercise, view.variant) or "0"
            field = view.query_one(".answer-input")
            field.value = answer  # typed in one go: only Enter-to-verdict is timed
            await pilot.pause()
            start = time.perf_counter()
            await pilot.press("enter")
            while view.session.verdict is None or view.session.checking:
                await pilot.pause(0.001)
            times.append(time.perf_counter() - start)
        return times[0], times[1]


def run(pairs: int = 7) -> dict[str, float]:
    """Print the two ratios; return their medians."""
    if shutil.which("tmux") is None:
        print("tmux is not installed; skipped")
        return {}
    with tempfile.TemporaryDirectory() as home:
        env = {"GRADTUTOR_HOME": home, "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
        bare = [sys.executable, str(ROOT / "bench" / "bare_app.py")]
        _time_to(bare, BARE_MARKER, env)  # warm the caches
        _lesson_open(env)
        opens, warm, exercises, bares = [], [], [], []
        for _ in range(pairs):
            bares.append(_time_to(bare, BARE_MARKER, env))
            opens.append(_lesson_open(env)[0])
            painted, exercise = _lesson_open(env, settle=4.0)
            warm.append(painted)
            exercises.append(exercise)
    ratio = Spread.of([o / b for o, b in zip(opens, bares, strict=True)])
    warm_ratio = Spread.of([o / b for o, b in zip(warm, bares, strict=True)])
    exercise_ratio = Spread.of([o / b for o, b in zip(exercises, bares, strict=True)])
    print(
        f"lesson open (Enter to the lesson painted, tmux, {pairs} pairs), against the bare "
        f"app's start-up {Spread.of(bares).ms(0)}: Enter at once {Spread.of(opens).ms(0)}, "
        f"ratio {ratio.ratio()}; after the warm-up {Spread.of(warm).ms(0)}, ratio "
        f"{warm_ratio.ratio()} (goal <= 0.3: {verdict(warm_ratio.median <= 0.3)}); "
        f"its first exercise painted {Spread.of(exercises).ms(0)}, ratio "
        f"{exercise_ratio.ratio()}"
    )
    firsts, laters = [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as home:
            first, later = asyncio.run(_verdicts(Path(home)))
        firsts.append(first)
        laters.append(later)
    first_ratio = Spread.of([f / s for f, s in zip(firsts, laters, strict=True)])
    print(
        f"first verdict after warm-up {Spread.of(firsts).ms(1)}, a later one "
        f"{Spread.of(laters).ms(1)}; ratio {first_ratio.ratio()} "
        f"(goal <= 2: {verdict(first_ratio.median <= 2)})"
    )
    return {
        "lesson_open_ratio": ratio.median,
        "lesson_open_warm_ratio": warm_ratio.median,
        "lesson_exercise_warm_ratio": exercise_ratio.median,
        "first_verdict_ratio": first_ratio.median,
    }
