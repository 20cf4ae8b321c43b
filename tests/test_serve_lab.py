"""The README's lab recipe in a real browser: `gradtutor serve --host 0.0.0.0`, opened at
the machine's own address (not 127.0.0.1). The page loads nothing from another host,
takes the keyboard at once, and a page on another site can open no session.

Waits are on the class directory's state (the activity log), as in test_serve_browser.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest

from gradtutor.serving import interface_addresses

from .conftest import PACKS
from .test_serve_browser import CHROMIUM, _count, _free_port, _wait, sync_playwright

pytestmark = pytest.mark.skipif(
    sync_playwright is None or not CHROMIUM.exists(),
    reason="needs Playwright and Debian's chromium (/usr/bin/chromium); .ci/run installs both",
)

LAB_ADDRESSES = sorted(a for a in interface_addresses() if "." in a and not a.startswith("127."))


def _serve(tmp_path, class_dir, port, *extra):
    env = {**os.environ, "GRADTUTOR_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gradtutor", "serve", "--pack", str(PACKS / "valid")]
        + ["--class", str(class_dir), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    printed = []

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            printed.append(line)

    threading.Thread(target=read, daemon=True).start()
    _wait(lambda: any("Students open" in line for line in printed), "serve to start")
    _wait(lambda: len(printed) >= 2, "the addresses")
    return server, printed


def _stop(server) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


@pytest.mark.skipif(not LAB_ADDRESSES, reason="this machine has no address but loopback")
def test_the_lab_recipe_works_at_the_machines_own_address(tmp_path):
    class_dir = tmp_path / "class"
    port = _free_port()
    server, printed = _serve(tmp_path, class_dir, port, "--host", "0.0.0.0")
    address = LAB_ADDRESSES[0]
    url = f"http://{address}:{port}"
    try:
        assert any(url in line for line in printed), printed  # printed for the students
        assert not any("0.0.0.0" in line for line in printed)
        assert sync_playwright is not None
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            hosts = []
            page.on("request", lambda r: hosts.append(urlsplit(r.url).netloc))
            page.goto(url)
            _wait(lambda: _count(class_dir, "session-open") >= 1, "the sign-in screen")
            # no click, no focus call: the page gave the terminal the keyboard itself
            page.keyboard.type("Grace Hopper")
            page.keyboard.press("Tab")
            page.keyboard.type("1906")
            page.keyboard.press("Enter")
            _wait(lambda: _count(class_dir, "registered") == 1, "the registration")
            assert _count(class_dir, "refused") == 0  # the PIN never went into the name
            assert set(hosts) == {f"{address}:{port}"}, hosts  # nothing from elsewhere
            browser.close()
    finally:
        _stop(server)


def test_a_page_on_another_site_can_open_no_session(tmp_path):
    class_dir = tmp_path / "class"
    port = _free_port()
    server, _ = _serve(tmp_path, class_dir, port)
    attacker_port = _free_port()
    page_text = f"""<!DOCTYPE html><html><body><script>
      const ws = new WebSocket("ws://127.0.0.1:{port}/ws?width=80&height=24");
      ws.onopen = () => {{ document.title = "opened"; }};
      ws.onerror = () => {{ document.title = "refused"; }};
      ws.onclose = () => {{ if (document.title !== "opened") document.title = "refused"; }};
    </script></body></html>"""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = page_text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    attacker = http.server.HTTPServer(("127.0.0.1", attacker_port), Page)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        assert sync_playwright is not None
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(f"http://localhost:{attacker_port}/")  # another origin than the server's
            _wait(lambda: page.title() in ("opened", "refused"), "the attempt to end")
            assert page.title() == "refused"
            browser.close()
        assert _count(class_dir, "session-open") == 0
    finally:
        attacker.shutdown()
        _stop(server)
