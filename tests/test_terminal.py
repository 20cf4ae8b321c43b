"""A flow in a real terminal: tmux runs the tutor, send-keys types, capture-pane reads.

Waits are for what the screen shows (polled, with a generous limit), never fixed sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from gradtutor.core.packs import load_pack

from .conftest import PACKS, ROOT, fixed_learner, learner_seeing

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Terminal:
    def __init__(
        self, command: list[str], env: dict[str, str], width: int = 100, height: int = 32
    ) -> None:
        self.name = f"gt-{uuid.uuid4().hex[:8]}"
        self.socket = ["-L", self.name]
        env_args = [f"{k}={v}" for k, v in env.items()]
        subprocess.run(
            [
                "tmux",
                *self.socket,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                "env",
                *env_args,
                *command,
            ],
            check=True,
            cwd=ROOT,
        )

    def screen(self) -> str:
        out = subprocess.run(
            ["tmux", *self.socket, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
        )
        return out.stdout

    def wait_for(self, text: str, *more: str, limit: float = 120.0, poll: float = 0.1) -> str:
        """The first screen showing every one of the texts (a frame can be half drawn:
        wait for everything a test reads, never assert on the frame that showed one)."""
        deadline = time.monotonic() + limit
        texts = (text, *more)
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(poll)
        raise AssertionError(f"{texts!r} never all appeared; the screen shows:\n{self.screen()}")

    def wait_for_change(self, previous: str, limit: float = 30.0) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen != previous:
                return screen
            time.sleep(0.02)
        raise AssertionError(f"the screen never changed:\n{previous}")

    def wait_until(self, predicate, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if predicate(self.screen()):
                return True
            time.sleep(0.05)
        return False

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", *self.socket, "send-keys", "-t", self.name, *keys], check=True)

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", *self.socket, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )

    def close(self) -> None:
        subprocess.run(["tmux", *self.socket, "kill-server"], capture_output=True)


def test_answer_in_a_real_terminal_and_find_it_in_progress(tmp_path):
    env = {
        "GRADTUTOR_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    term = Terminal([sys.executable, "-m", "gradtutor", "--pack", str(PACKS / "valid")], env)
    try:
        term.wait_for("State: open")  # the cursor is on the first open lesson
        term.keys("Enter")
        term.wait_for("Exercise 1")
        term.keys("2x")
        term.wait_for("  2x  ")  # the live preview under the field
        term.keys("Enter")
        screen = term.wait_for("Correct")
        assert "✓" in screen
        term.keys("C-q")
        deadline = time.monotonic() + 30
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive() or "$" in term.screen()
    finally:
        term.close()
    out = subprocess.run(
        [sys.executable, "-m", "gradtutor", "progress", "--json", "--pack", str(PACKS / "valid")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "GRADTUTOR_HOME": str(tmp_path)},
    )
    doc = json.loads(out.stdout)
    square = doc["packs"]["format-tour"]["lessons"]["derivatives"]["exercises"]["square"]
    assert square["solved"] is True and square["attempts"] == 1


def test_keys_typed_as_the_first_screen_appears_are_not_lost(tmp_path):
    """Enter, an answer and Enter again, sent the moment anything is painted (and once
    before anything is): the lesson opens and the answer is checked. Nothing is lost,
    also when the browser paints from the packs' outline and they load after it."""
    env = {
        "GRADTUTOR_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    for attempt in range(20):  # at first paint, twenty times in a row
        term = Terminal(
            [sys.executable, "-m", "gradtutor", "--pack", str(PACKS / "valid")], env, 80, 24
        )
        try:
            if attempt == 0:
                term.keys("Enter")  # before the terminal is even in raw mode
                term.wait_for("Exercise 1", limit=60)
            else:
                term.wait_for("gradtutor", poll=0.005)  # the first paint: the header
                term.keys("Enter", "2x", "Enter")
                screen = term.wait_for("Correct", limit=60)
                assert "Derivatives" in screen, attempt
        finally:
            term.close()
        (tmp_path / "progress.json").unlink(missing_ok=True)
    # the later rounds painted the browser from the outline the first round saved
    assert (tmp_path / "cache" / "outline.json").is_file()


def test_arrows_and_enter_typed_in_one_go_open_the_lesson_under_the_cursor(tmp_path):
    """Down, Down, Enter sent together: the third lesson opens, not the first (the arrows
    act in the order typed, before the Enter behind them)."""
    env = {
        "GRADTUTOR_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    term = Terminal([sys.executable, "-m", "gradtutor", "--unlock-all"], env, 100, 32)
    try:
        term.wait_for("9. ADALINE three ways")
        term.keys("Down", "Down", "Enter")
        term.wait_for("scratch · Autograd on one")
    finally:
        term.close()


def test_a_learners_first_minutes_at_80x24(tmp_path):
    """Lesson 1 of the built-in pack in a real 80×24 terminal: every verdict is on screen
    right after Enter, together with the answer it judges."""
    square = load_pack(ROOT / "lessons").pack.lesson("derivatives").exercise("square")
    fixed_learner(tmp_path, learner_seeing(square, {"n": 2}))  # x², as in the first edition
    env = {
        "GRADTUTOR_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    term = Terminal([sys.executable, "-m", "gradtutor"], env, 80, 24)
    try:
        term.wait_for("Derivatives as slopes")
        term.keys("Enter")
        term.wait_for("How fast does the output move?")
        term.keys("PageDown")  # reading on stops at the first exercise, field and all
        term.wait_for("▊▁▁▁")
        term.keys("x")
        term.wait_for("  x  ")  # the answer in the field and its preview
        term.keys("Enter")
        # the verdict first; the attempts left follow once the attempt is saved
        screen = term.wait_for("2 more wrong attempts")
        assert "Exercise 1" in screen and "Not quite" in screen
        term.keys("BSpace", "2x", "Enter")
        screen = term.wait_for("Correct")
        assert "▊  2x" in screen  # with the answer it judges

        def second_in_view(screen: str) -> bool:
            return "Exercise 2" in screen and "▊  A number or a list" in screen

        for _ in range(6):  # read on, page by page, until the next exercise is in view
            before = term.screen()
            term.keys("PageDown")
            term.wait_for_change(before)
            if term.wait_until(second_in_view, limit=5):
                break
        assert second_in_view(term.screen())
        term.keys("25", "Enter")
        screen = term.wait_for("✗")
        assert "Exercise 2" in screen and "▊  25" in screen
        assert "Not quite" in screen
    finally:
        term.close()


BREAKDOWN_PACK = {
    "pack.toml": 'format = 1\nid = "bd"\ntitle = "Breakdown"\nversion = "1.0.0"\n',
    "01-used-twice.md": """+++
id = "twice"
title = "A value used twice"
+++

```exercise
id = "product"
kind = "derivative"
prompt = "Differentiate $x \\\\sin(x)$ with respect to $x$."
function = "x*sin(x)"
wrt = "x"
answer = "sin(x) + x*cos(x)"
```
""",
}


def test_a_breakdown_end_to_end_at_80x24(tmp_path):
    """F5 on a derivative: every local derivative given, the backward pass watched and
    typed (the += where x is used twice), the assembled derivative carried back and
    judged correct, all in a real 80×24 terminal."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name, text in BREAKDOWN_PACK.items():
        (pack / name).write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    env = {
        "GRADTUTOR_HOME": str(home),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    term = Terminal([sys.executable, "-m", "gradtutor", "--pack", str(pack)], env, 80, 24)
    try:
        term.wait_for("A value used twice")
        term.keys("Enter")
        term.wait_for("f5 Break down")
        term.keys("F5")
        term.wait_for("Local derivatives · 1 of 3", "├─╯", "x feeds u₁ and u₂")  # the fan-out
        term.keys("cos(x)", "Enter")
        term.wait_for("Local derivatives · 2 of 3")
        term.keys("u1", "Enter")
        term.wait_for("Local derivatives · 3 of 3")
        term.keys("1", "Enter")  # wrong: the other factor, x, multiplies
        term.wait_for("Hint: the product rule")
        term.keys("BSpace", "x", "Enter")
        term.wait_for("Backward pass · node 1 of 3")
        term.keys("Enter")  # the output's gradient is 1
        term.wait_for("node 2 of 3")
        term.keys("Enter")  # watched
        term.wait_for("node 3 of 3", "x.grad = ?")
        assert "∂u₂/∂x" not in term.screen()  # the sum is the learner's to write first
        term.keys("F2")  # the hint writes it out
        term.wait_for("x.grad = u₁.grad·∂u₁/∂x + u₂.grad", "its gradient is the sum (+=)")
        term.keys("Enter")
        term.wait_for("The derivative, assembled", "sin(x) + x·cos(x)", "Carry it to the exercise")
        term.keys("Enter")
        term.wait_for("▊  sin(x) + x*cos(x)")
        term.keys("Enter")
        term.wait_for("✓ Correct", "Exercise 1", "▊  sin(x) + x*cos(x)")
    finally:
        term.close()
    record = json.loads((home / "progress.json").read_text())["packs"]["bd"]["lessons"]["twice"]
    assert record["exercises"]["product"]["breakdowns"] == 1
    assert record["exercises"]["product"]["solved"] is True
