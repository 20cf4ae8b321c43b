"""A class in a real browser: `gradtutor serve` driven by Playwright through Debian's
headless Chromium (never a downloaded browser).

The terminal in the page is drawn on a canvas, so the test reads the state it needs from
the class directory: the activity log says when a session opened and how a sign-in went,
the learner's progress says when a lesson opened and an exercise was solved. Every wait
is on such a state, with a generous limit.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import PACKS, ROOT, run_cli

CHROMIUM = Path("/usr/bin/chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - .ci/run installs it
    sync_playwright = None

pytestmark = pytest.mark.skipif(
    sync_playwright is None or not CHROMIUM.exists(),
    reason="needs Playwright and Debian's chromium (/usr/bin/chromium); .ci/run installs both",
)

NAME, PIN, WRONG_PIN = "Ada Lovelace", "2718", "0000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition, what: str, limit: float = 90.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _events(class_dir: Path) -> list[dict]:
    try:
        lines = (class_dir / "activity.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def _count(class_dir: Path, event: str) -> int:
    return sum(e["event"] == event for e in _events(class_dir))


def _progress(home: Path) -> dict:
    try:
        return json.loads((home / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class Served:
    """`gradtutor serve` in its own process group, its log (stderr) collected line by line."""

    def __init__(self, tmp_path: Path, pack: Path, class_dir: Path, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "GRADTUTOR_HOME": str(tmp_path / "home")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gradtutor", "serve", "--pack", str(pack)]
            + ["--class", str(class_dir), "--port", str(self.port), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its sessions too are stopped at the end
        )
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def listening(self) -> bool:
        """Whether it accepts connections."""
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Stop it and every session it started."""
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def sign_in(page, url: str, class_dir: Path, name: str, pin: str) -> None:
    """Open the page, wait for its sign-in screen, type the name, Tab, the PIN, Enter."""
    opened = _count(class_dir, "session-open")
    page.goto(url)
    _wait(lambda: _count(class_dir, "session-open") > opened, "a sign-in screen")
    page.focus(".xterm-helper-textarea")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")


def launch(p):
    """Debian's Chromium, headless."""
    return p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])


def test_a_class_signs_in_solves_and_is_reported_in_a_real_browser(tmp_path):
    from gradtutor.core.classroom import ClassRoom

    class_dir = tmp_path / "class"
    port = _free_port()
    env = {**os.environ, "GRADTUTOR_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gradtutor", "serve", "--pack", str(PACKS / "valid")]
        + ["--class", str(class_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its sessions too are stopped at the end
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        _wait(listening, "the server to listen")
        assert sync_playwright is not None
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(url)
            _wait(lambda: _count(class_dir, "session-open") >= 1, "the sign-in screen")
            page.focus(".xterm-helper-textarea")  # the terminal takes the keys
            page.keyboard.type(NAME)
            page.keyboard.press("Tab")
            page.keyboard.type(PIN)
            page.keyboard.press("Enter")
            _wait(lambda: _count(class_dir, "registered") == 1, "the registration")
            home = ClassRoom(class_dir).home_of(NAME)
            _wait(lambda: _progress(home).get("name") == NAME, "the learner's progress")
            for _ in range(3):  # the browser is up once the sign-in screen has gone
                page.keyboard.press("Enter")  # open the first lesson
                try:
                    _wait(lambda: (_progress(home).get("last") or {}).get("lesson"), "a lesson", 10)
                    break
                except AssertionError:
                    continue
            assert _progress(home)["last"]["lesson"] == "derivatives"
            page.keyboard.type("2x")
            page.keyboard.press("Enter")

            def solved() -> bool:
                lessons = _progress(home).get("packs", {}).get("format-tour", {}).get("lessons", {})
                return bool(
                    lessons.get("derivatives", {})
                    .get("exercises", {})
                    .get("square", {})
                    .get("solved")
                )

            _wait(solved, "exercise 1 solved")
            page.screenshot(path=str(tmp_path / "solved.png"))

            # a second browser session, the right name, a wrong PIN: nobody gets in
            intruder = browser.new_page(viewport={"width": 1200, "height": 800})
            intruder.goto(url)
            _wait(lambda: _count(class_dir, "session-open") >= 2, "a second sign-in screen")
            intruder.focus(".xterm-helper-textarea")
            intruder.keyboard.type(NAME.lower())
            intruder.keyboard.press("Tab")
            intruder.keyboard.type(WRONG_PIN)
            intruder.keyboard.press("Enter")
            _wait(lambda: _count(class_dir, "wrong-pin") == 1, "the refusal")
            assert _count(class_dir, "signed-in") == 0 and _count(class_dir, "registered") == 1
            account = json.loads((home / "account.json").read_text(encoding="utf-8"))
            assert account["failures"] == 1

            # the report shows the solved exercise, and no attempt from the wrong PIN
            out = tmp_path / "report"
            out.mkdir()
            result = run_cli(
                "report", str(class_dir), "--csv", str(out / "r.csv"), "--html", str(out / "r.html")
            )
            assert result.returncode == 0, result.stderr
            rows = list(csv.DictReader(io.StringIO((out / "r.csv").read_text(encoding="utf-8"))))
            assert [r["learner"] for r in rows] == [NAME]
            assert rows[0]["solved"] == "1" and rows[0]["attempts"] == "1"
            html = (out / "r.html").read_text(encoding="utf-8")
            assert NAME in html and "derivatives/square" in html and "<svg" in html
            assert "http://" not in html and "https://" not in html and "<script" not in html
            report_page = browser.new_page(viewport={"width": 1100, "height": 700})
            report_page.goto((out / "r.html").as_uri())
            shot = tmp_path / "report.png"
            report_page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            if os.environ.get("GRADTUTOR_UPDATE_DOCS"):
                (ROOT / "docs" / "report.png").write_bytes(shot.read_bytes())
            browser.close()
        # the PIN is nowhere on disk in clear
        for path in class_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert PIN.encode() not in data and WRONG_PIN.encode() not in data, path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_a_roster_admits_only_its_names_in_a_real_browser(tmp_path):
    """Third edition, item 5: with --roster, a name not on it is refused and gets no
    account; a roster name signs in with the PIN the instructor issued."""
    from gradtutor.core.classroom import ClassRoom

    class_dir = tmp_path / "class"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,pin\ns-1,Ada Lovelace,4711\n", encoding="utf-8")
    server = Served(tmp_path, PACKS / "valid", class_dir, "--roster", str(roster))
    try:
        _wait(server.listening, "the server to listen")
        assert sync_playwright is not None
        with sync_playwright() as p:
            browser = launch(p)
            sign_in(browser.new_page(), server.url, class_dir, "Mallory", "1234")
            _wait(lambda: _count(class_dir, "refused") >= 1, "the refusal")
            # (the sentence itself is drawn on the terminal's canvas; the sign-in screen's
            # own test reads it: test_class_accounts.py)
            assert _count(class_dir, "registered") == 0
            assert [name for name, _ in ClassRoom(class_dir).members()] == ["Ada Lovelace"]
            sign_in(browser.new_page(), server.url, class_dir, "ada lovelace", "4711")
            _wait(lambda: _count(class_dir, "signed-in") == 1, "the issued PIN to sign in")
            browser.close()
    finally:
        server.stop()


DRAWN_LESSON = """+++
id = "drawn"
title = "Drawn numbers"
+++

```exercise
id = "product"
kind = "value"
prompt = "What is {{a}} times {{b}}?"
compute = "a * b"
ask = "value"
requires_grad = []
hints = ["Multiply."]

[params]
a = { int = [RANGE] }
b = { int = [RANGE] }
```
"""


def test_a_reload_reaches_new_sessions_and_moves_no_learners_numbers(tmp_path):
    """Third edition, items 7 and 8, in a real browser: a learner's numbers are kept with
    their first answer; the instructor widens the ranges and reloads; in a new session the
    learner's stored numbers still decide what is right (a fresh draw would differ)."""
    from gradtutor.core.classroom import ClassRoom
    from gradtutor.core.served import server_pid

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.toml").write_text('format = 2\nid = "drawn"\ntitle = "D"\nversion = "1"\n')
    (pack / "01.md").write_text(DRAWN_LESSON.replace("RANGE", "2, 9"))
    class_dir = tmp_path / "class"
    server = Served(tmp_path, pack, class_dir)

    def exercise_record(home):
        lessons = _progress(home).get("packs", {}).get("drawn", {}).get("lessons", {})
        return lessons.get("drawn", {}).get("exercises", {}).get("product", {})

    def session(browser, answer_of) -> None:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        signed = _count(class_dir, "signed-in") + _count(class_dir, "registered")
        sign_in(page, server.url, class_dir, NAME, PIN)
        _wait(
            lambda: _count(class_dir, "signed-in") + _count(class_dir, "registered") > signed,
            "the sign-in",
        )
        home = ClassRoom(class_dir).home_of(NAME)
        _wait(lambda: _progress(home).get("name") == NAME, "the learner's progress")
        written = (home / "progress.json").stat().st_ino  # every save replaces the file
        for _ in range(3):
            page.keyboard.press("Enter")  # open the lesson: it saves where the learner is
            try:
                _wait(lambda: (home / "progress.json").stat().st_ino != written, "a lesson", 10)
                break
            except AssertionError:
                continue
        before = exercise_record(home).get("attempts", 0)
        page.keyboard.type(answer_of(home))
        page.keyboard.press("Enter")
        _wait(lambda: exercise_record(home).get("attempts", 0) > before, "the answer saved")
        page.close()

    try:
        _wait(lambda: server_pid(class_dir), "the server")
        assert sync_playwright is not None
        with sync_playwright() as p:
            browser = launch(p)
            session(browser, lambda home: "0")  # wrong: the numbers are kept with it
            home = ClassRoom(class_dir).home_of(NAME)
            kept = exercise_record(home)["current"]["params"]
            assert set(kept) == {"a", "b"}
            (pack / "01.md").write_text(DRAWN_LESSON.replace("RANGE", "2, 900"))
            assert run_cli("serve", "--reload", "--class", str(class_dir)).returncode == 0
            _wait(lambda: any("reloaded" in line for line in server.log), "the reload")
            session(browser, lambda home: str(kept["a"] * kept["b"]))
            record = exercise_record(home)
            assert record["solved"] is True and record["current"]["params"] == kept
            browser.close()
    finally:
        server.stop()
