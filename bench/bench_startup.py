"""Time to the first usable screen in a real terminal (tmux), as a ratio to a bare Textual app.

Both programs are started the same way, in the same environment, alternately; the time
is from launching the tmux session to the first capture that shows the program's last
list entry. The figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time_to(command: list[str], marker: str, env: dict[str, str], limit: float = 60.0) -> float:
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
                return time.perf_counter() - start
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} did not appear within {limit} s")
    finally:
        subprocess.run(["tmux", *sock, "kill-server"], capture_output=True)


def run(pairs: int = 7) -> dict[str, float]:
    """Median ratio of gradtutor's start-up to the bare app's."""
    if shutil.which("tmux") is None:
        print("tmux is not installed; skipped")
        return {}
    with tempfile.TemporaryDirectory() as home:
        env = {"GRADTUTOR_HOME": home, "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
        tutor = [sys.executable, "-m", "gradtutor"]
        bare = [sys.executable, str(ROOT / "bench" / "bare_app.py")]
        last_lesson = (
            "SGD end to end"
            if (ROOT / "lessons" / "07-sgd.md").exists()
            else "Derivatives as slopes"
        )
        _time_to(tutor, last_lesson, env)  # warm the file cache for both
        _time_to(bare, "Lesson number 7", env)
        ratios, tutor_times, bare_times = [], [], []
        for _ in range(pairs):
            b = _time_to(bare, "Lesson number 7", env)
            t = _time_to(tutor, last_lesson, env)
            ratios.append(t / b)
            tutor_times.append(t)
            bare_times.append(b)
    ratio = statistics.median(ratios)
    print(
        f"start-up to the first usable screen (tmux, {pairs} pairs): gradtutor median "
        f"{statistics.median(tutor_times) * 1000:.0f} ms, bare Textual app median "
        f"{statistics.median(bare_times) * 1000:.0f} ms; median ratio {ratio:.2f} "
        f"(goal <= 1.3: {'ok' if ratio <= 1.3 else 'MISSED'})"
    )
    return {"startup_ratio": ratio}
