"""Make docs/report.png: a sample class reported as HTML, photographed by Debian's
headless Chromium through Playwright.

    .venv/bin/python docs/report_screenshot.py
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from gradtutor.core.classroom import ClassRoom
from gradtutor.core.progress import ProgressStore
from gradtutor.core.report import build, to_html

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = [
    ("derivatives", "square", ["x^6", "7*x^7"], "The exponent comes down as a factor and drops by one."),
    ("chain-rule", "square-of-line", ["2*(3*x + 2)"], "That is the outer derivative alone: the inner function's slope is missing."),
    ("chain-rule", "bell", ["exp(-2*x^2)"], "A chain factor is missing: multiply by the derivative of the inner function -2*x^2."),
    ("autograd-linear", "fanout-product", ["x*cos(x)"], "That follows only the path through sin x."),
    ("autograd-linear", "fanout-three", ["(2*x + 1)*exp(x)"], "A path is missing: x is used in 3 places."),
]


def main() -> None:
    rng = random.Random(3)
    work = Path(tempfile.mkdtemp())
    room = ClassRoom(work / "class")
    for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Emmy Noether", "Kurt Gödel"):
        store = ProgressStore(room.sign_in(name, "0000").home)
        for lesson, exercise, wrong, said in EXERCISES:
            if rng.random() < 0.15:
                continue
            for _ in range(rng.choice([0, 0, 1, 2])):
                store.record_answer("backprop-from-scratch", lesson, exercise, False, mistake=(rng.choice(wrong), None, said))
            if rng.random() < 0.8:
                store.record_answer("backprop-from-scratch", lesson, exercise, True)
            if rng.random() < 0.3:
                store.record_hint("backprop-from-scratch", lesson, exercise, 1)
    page = work / "report.html"
    page.write_text(to_html(build([work / "class"], [ROOT / "lessons"])), encoding="utf-8")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        shot = browser.new_page(viewport={"width": 1150, "height": 700})
        shot.goto(page.as_uri())
        shot.screenshot(path=str(ROOT / "docs" / "report.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
