"""Ten concurrent browser sessions of `gradtutor serve`, in headless Chromium.

Per session: the time from opening the page to the sign-in screen (the app logs it in
the class's activity log), the memory of the session (PSS from /proc/PID/smaps_rollup of
its processes: the app and its sympy child), and, with all ten signed in and in a lesson,
the check latency: from Enter to the attempt saved in the learner's progress. The
baseline, in the same run: a bare Textual app served the same way, one session.
Skipped, saying why, without Chromium or Playwright.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import Spread, verdict

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SESSIONS = 10
ROUNDS = 3
PACK = ROOT / "tests" / "packs" / "valid"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition, limit: float = 120.0, step: float = 0.005):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("the served sessions did not answer in time")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _events(class_dir: Path, event: str) -> int:
    try:
        text = (class_dir / "activity.jsonl").read_text(encoding="utf-8")
    except OSError:
        return 0
    return sum(json.loads(line)["event"] == event for line in text.splitlines() if line.strip())


def _attempts(home: Path) -> int:
    try:
        data = json.loads((home / "progress.json").read_text(encoding="utf-8"))
        lesson = data["packs"]["format-tour"]["lessons"]["derivatives"]
        return int(lesson["exercises"]["square"]["attempts"])
    except (OSError, ValueError, KeyError):
        return 0


def _settled_pss(pids: list[int]) -> int:
    last = -1
    for _ in range(40):
        total = sum(_pss_kib(p) for p in pids)
        if last > 0 and abs(total - last) < 0.01 * last:
            return total
        last = total
        time.sleep(0.25)
    return last


def _bare_baseline(browser) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """PSS (MB) and seconds to a listening page of one served bare Textual app."""
    port = _free_port()
    command = f"{sys.executable} {ROOT / 'bench' / 'bare_app.py'}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from textual_serve.server import Server; Server({command!r}, port={port}).serve()",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: _listening(port))
        page = browser.new_page()
        start = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}")

        def app_up() -> list[int]:
            return [p for p in _descendants(server.pid) if _pss_kib(p) > 20_000]

        pids = _wait(app_up)
        took = time.monotonic() - start
        pss = _settled_pss(_descendants(server.pid)) / 1024
        page.close()
        return pss, took
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        del pids


def run() -> dict[str, float]:
    """Per-session memory (MB), time to the first screen (s) and check latency (ms)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped: Playwright is not installed (pip install playwright)")
        return {}
    if not CHROMIUM.exists():
        print(f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
        return {}
    from gradtutor.core.classroom import ClassRoom

    work = Path(tempfile.mkdtemp(prefix="gradtutor-serve-bench-"))
    class_dir = work / "class"
    port = _free_port()
    env = {**os.environ, "GRADTUTOR_HOME": str(work / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gradtutor", "serve", "--pack", str(PACK), "--class", str(class_dir)]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: _listening(port))
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            bare_pss, bare_first = _bare_baseline(browser)
            pages, homes, first = [], [], []
            for i in range(1, SESSIONS + 1):
                page = browser.new_page(viewport={"width": 1000, "height": 700})
                start = time.monotonic()
                page.goto(f"http://127.0.0.1:{port}")
                _wait(lambda i=i: _events(class_dir, "session-open") >= i)
                first.append(time.monotonic() - start)
                page.focus(".xterm-helper-textarea")
                page.keyboard.type(f"learner {i}")
                page.keyboard.press("Tab")
                page.keyboard.type("2718")
                page.keyboard.press("Enter")
                _wait(lambda i=i: _events(class_dir, "registered") >= i)
                home = ClassRoom(class_dir).home_of(f"learner {i}")

                def in_lesson(home: Path = home) -> bool:
                    try:
                        return bool(json.loads((home / "progress.json").read_text()).get("last"))
                    except (OSError, ValueError):
                        return False

                _wait(lambda home=home: (home / "progress.json").exists())
                for _ in range(20):  # Enter opens the lesson once the browser is up
                    page.keyboard.press("Enter")
                    try:
                        _wait(in_lesson, limit=3)
                        break
                    except TimeoutError:
                        continue
                pages.append(page)
                homes.append(home)
            latencies = []
            for r in range(ROUNDS):  # every session answers while all ten are open
                for page, home in zip(pages, homes, strict=True):
                    page.keyboard.type(f"{r + 3}x")
                    start = time.monotonic()
                    page.keyboard.press("Enter")
                    _wait(lambda home=home, r=r: _attempts(home) >= r + 1)
                    latencies.append(time.monotonic() - start)
                    page.keyboard.press("Backspace")
                    page.keyboard.press("Backspace")
            sessions = [pid for pid in _descendants(server.pid) if _pss_kib(pid) > 0]
            total = _settled_pss(sessions) / 1024
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    per_session = total / SESSIONS
    first_spread = Spread.of(first)
    check = Spread.of(latencies)
    p90 = sorted(latencies)[int(0.9 * len(latencies))] * 1000
    print(
        f"{SESSIONS} concurrent sessions: memory {per_session:.0f} MB PSS per session (app and "
        f"its sympy child), {total:.0f} MB in all; a bare Textual app served alike: {bare_pss:.0f} MB"
    )
    print(
        f"  first screen (page opened to sign-in painted): median {first_spread.median:.2f} s "
        f"(IQR {first_spread.low:.2f}–{first_spread.high:.2f}); a bare app's process up: {bare_first:.2f} s"
    )
    print(
        f"  check latency with all {SESSIONS} active (Enter to the attempt saved), "
        f"{len(latencies)} answers: median {check.ms()}, p90 {p90:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    print(f"  goal: 200 MB or less per session {verdict(per_session <= 200)}")
    return {
        "session_mb": per_session,
        "first_screen_s": first_spread.median,
        "check_ms": check.median * 1000,
        "mean_check_ms": statistics.mean(latencies) * 1000,
    }
