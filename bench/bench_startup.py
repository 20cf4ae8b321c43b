"""Time to the first usable screen in a real terminal (tmux), as a ratio to a bare Textual app.

Both programs are started the same way, in the same environment, alternately (which
goes first alternates too), after one untimed start of each; the time is from launching
the tmux session to the first capture that shows the program's last list entry. The
figure is the median of the per-pair ratios, with their interquartile range.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.timing import Spread, verdict

ROOT = Path(__file__).resolve().parent.parent
BARE_MARKER = "Lesson number 9"
"""The bare app's last list entry: its first screen is up."""


def _time_to(
    command: list[str], marker: str, env: dict[str, str], limit: float = 60.0, linger: float = 0.0
) -> float:
    """Seconds from the start of `command` in tmux to `marker` on screen; the program is
    then left running `linger` seconds (a warm-up run lets the tutor save its caches, as
    any learner's first session does)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    sock = ["-L", name]
    start = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            *sock,
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "100",
            "-y",
            "30",
            # PYTHONDONTWRITEBYTECODE (set on these machines) would recompile every module
            # at every start; a learner's Python caches bytecode, so both start with it allowed.
            "env",
            "-u",
            "PYTHONDONTWRITEBYTECODE",
            *[f"{k}={v}" for k, v in env.items()],
            *command,
        ],
        check=True,
        cwd=ROOT,
    )
    try:
        while time.perf_counter() - start < limit:
            screen = subprocess.run(
                ["tmux", *sock, "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            if marker in screen:
                elapsed = time.perf_counter() - start
                time.sleep(linger)
                return elapsed
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} did not appear within {limit} s")
    finally:
        subprocess.run(["tmux", *sock, "kill-server"], capture_output=True)


def _last_lesson_title() -> str:
    from gradtutor.core.packs import load_pack

    pack = load_pack(ROOT / "lessons").pack
    assert pack is not None, "the built-in pack does not load"
    return pack.lessons[-1].title


def run(pairs: int = 9) -> dict[str, float]:
    """Median ratio of gradtutor's start-up to the bare app's."""
    if shutil.which("tmux") is None:
        print("tmux is not installed; skipped")
        return {}
    last_lesson = _last_lesson_title()
    with tempfile.TemporaryDirectory() as home:
        env = {"GRADTUTOR_HOME": home, "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
        tutor = [sys.executable, "-m", "gradtutor"]
        bare = [sys.executable, str(ROOT / "bench" / "bare_app.py")]
        # warm the file and bytecode caches for both, and the tutor's own pack cache
        _time_to(tutor, last_lesson, env, linger=3.0)
        _time_to(bare, BARE_MARKER, env)
        tutor_times, bare_times = [], []
        for i in range(pairs):
            if i % 2:
                tutor_times.append(_time_to(tutor, last_lesson, env))
                bare_times.append(_time_to(bare, BARE_MARKER, env))
            else:
                bare_times.append(_time_to(bare, BARE_MARKER, env))
                tutor_times.append(_time_to(tutor, last_lesson, env))
    ratio = Spread.of([t / b for t, b in zip(tutor_times, bare_times, strict=True)])
    print(
        f"start-up to the first usable screen (tmux, {pairs} pairs): gradtutor "
        f"{Spread.of(tutor_times).ms(0)}, bare Textual app {Spread.of(bare_times).ms(0)}; "
        f"ratio {ratio.ratio()} (goal <= 1.1: {verdict(ratio.median <= 1.1)})"
    )
    first, first_bare = _first_starts(tutor, bare, last_lesson)
    first_ratio = Spread.of([t / b for t, b in zip(first, first_bare, strict=True)])
    print(
        f"  a learner's first start (a fresh home each time, {len(first)} pairs): gradtutor "
        f"{Spread.of(first).ms(0)}, bare app {Spread.of(first_bare).ms(0)}; "
        f"ratio {first_ratio.ratio()}"
    )
    return {"startup_ratio": ratio.median, "first_startup_ratio": first_ratio.median}


def _first_starts(
    tutor: list[str], bare: list[str], marker: str, pairs: int = 5
) -> tuple[list[float], list[float]]:
    """Start-up with nothing cached by an earlier session (the bytecode aside)."""
    tutor_times, bare_times = [], []
    for _ in range(pairs):
        with tempfile.TemporaryDirectory() as home:
            env = {"GRADTUTOR_HOME": home, "TERM": "xterm-256color"}
            env["PATH"] = os.environ.get("PATH", "")
            tutor_times.append(_time_to(tutor, marker, env))
            bare_times.append(_time_to(bare, BARE_MARKER, env))
    return tutor_times, bare_times
