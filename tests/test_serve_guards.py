"""The class server's guards, in process: hosts and origins, session caps, clamped
terminal sizes, sessions that end when their websocket closes, the page itself.

The sessions here are small Python commands standing in for the tutor (the server runs
whatever command it is given), so that each test sees exactly what a session received.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gradtutor import serving
from gradtutor.core.sizes import MAX_TERMINAL_HEIGHT, MAX_TERMINAL_WIDTH
from gradtutor.serving import ClassServer, bounded_stdin, clamp_size, student_addresses

RECORDER = r"""
import json, os, sys
out = sys.argv[1]
with open(out, "a") as fh:
    fh.write(json.dumps({"size": [os.environ["COLUMNS"], os.environ["ROWS"]],
                         "peer": os.environ.get("GRADTUTOR_PEER")}) + "\n")
sys.stdout.write("__GANGLION__\n"); sys.stdout.flush()
data = sys.stdin.buffer
while True:  # record every packet the server relays, until stdin closes
    kind = data.read(1)
    if not kind:
        break
    size = int.from_bytes(data.read(4), "big")
    payload = data.read(size).decode()
    with open(out, "a") as fh:
        fh.write(json.dumps({"kind": kind.decode(), "payload": payload}) + "\n")
    if kind == b"M" and json.loads(payload).get("type") == "quit":
        break
"""

STUBBORN = r"""
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stdout.write("__GANGLION__\n"); sys.stdout.flush()
open(sys.argv[1], "w").write("started")
while True:  # deaf to "quit" and to SIGTERM, as a session busy for minutes was
    time.sleep(0.01)
"""


def _server(tmp_path: Path, script: str, **options) -> tuple[ClassServer, Path]:
    program = tmp_path / "session.py"
    program.write_text(script)
    record = tmp_path / "record.jsonl"
    command = shlex.join([sys.executable, str(program), str(record)])
    return ClassServer(command, host="127.0.0.1", port=8000, **options), record


async def _client(server: ClassServer) -> TestClient:
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    return client


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def _until(condition, what: str, turns: int = 3000):
    """Wait on state: yield to the loop until `condition()` holds (no fixed sleep)."""
    for _ in range(turns):
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def _finish(client: TestClient, server: ClassServer, sockets=()) -> None:
    """Close the sockets, wait until every session has ended, then stop the server."""
    for ws in sockets:
        await ws.close()
    await _until(lambda: not server.sessions, "every session to end")
    await client.close()


def _origin(client: TestClient) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


# -- sizes -------------------------------------------------------------------------------


def test_sizes_are_clamped():
    assert clamp_size(100_000, 100_000) == (MAX_TERMINAL_WIDTH, MAX_TERMINAL_HEIGHT)
    assert clamp_size("50000", "-3") == (MAX_TERMINAL_WIDTH, 1)
    assert clamp_size("nan?", None) == (80, 24)
    assert clamp_size(1e308, float("inf")) == (MAX_TERMINAL_WIDTH, 24)


async def test_a_huge_size_in_the_url_or_a_resize_is_clamped(tmp_path):
    server, record = _server(tmp_path, RECORDER)
    client = await _client(server)
    try:
        ws = await client.ws_connect("/ws?width=50000&height=50000", headers=_origin(client))
        await ws.send_str(json.dumps(["resize", {"width": 100000, "height": 100000}]))
        await ws.send_str("not json at all")  # ignored, as are the next two
        await ws.send_str(json.dumps({"resize": 1}))
        await ws.send_str("[" * 100_000)
        await ws.send_str(json.dumps(["stdin", "x" * 100_000]))
        await _until(lambda: len(_records(record)) >= 3, "the resize and the keys relayed")
    finally:
        await _finish(client, server, [ws])
    first, resize, keys = _records(record)[:3]
    assert first["size"] == [str(MAX_TERMINAL_WIDTH), str(MAX_TERMINAL_HEIGHT)]
    assert first["peer"] == "127.0.0.1"
    meta = json.loads(resize["payload"])
    assert (meta["width"], meta["height"]) == (MAX_TERMINAL_WIDTH, MAX_TERMINAL_HEIGHT)
    assert keys["kind"] == "D" and len(keys["payload"]) == serving.MAX_STDIN_CHARS


def test_a_cut_paste_keeps_its_end():
    text = serving.PASTE_START + "y" * 100_000 + serving.PASTE_END
    cut = bounded_stdin(text)
    assert cut.endswith(serving.PASTE_END) and len(cut) < 20_000


# -- who may connect -------------------------------------------------------------------------


async def test_hosts_and_origins_not_on_the_list_are_refused(tmp_path):
    server, record = _server(tmp_path, RECORDER, allow_hosts=["class.example.org"])
    client = await _client(server)
    try:
        page = await client.get("/")
        assert page.status == 200
        for host in ("evil.example", "attacker.test:8000", "127.0.0.1.nip.io"):
            refused = await client.get("/", headers={"Host": host})
            assert refused.status == 421, host
        allowed = await client.get("/", headers={"Host": "class.example.org"})
        assert allowed.status == 200
        cross = await client.get("/", headers={"Origin": "http://evil.example"})
        assert cross.status == 403
        for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
            with pytest.raises(Exception):  # noqa: B017 - the upgrade is refused
                await client.ws_connect("/ws", headers=headers)
        # a DNS-rebinding name points at 127.0.0.1 but is neither Host nor Origin here
        with pytest.raises(Exception):  # noqa: B017
            await client.ws_connect(
                "/ws", headers={"Host": "rebind.evil", "Origin": "http://rebind.evil"}
            )
        assert _records(record) == []  # no session was started for any of them
        ws = await client.ws_connect("/ws", headers=_origin(client))
        await _until(lambda: _records(record), "the one allowed session")
    finally:
        await _finish(client, server, [ws])


async def test_sessions_are_capped_in_all_and_per_address(tmp_path):
    server, record = _server(tmp_path, RECORDER, max_sessions=3, max_per_address=2)
    client = await _client(server)
    sockets = []
    try:
        for _ in range(2):
            sockets.append(await client.ws_connect("/ws", headers=_origin(client)))
        await _until(lambda: len(_records(record)) == 2, "two sessions")
        refused = await client.get("/ws", headers={**_origin(client), "Upgrade": "websocket"})
        assert refused.status == 429
        server.trusted_proxies = {"127.0.0.1"}  # now another address, through the proxy
        third = await client.ws_connect(
            "/ws", headers={**_origin(client), "X-Forwarded-For": "6.6.6.6, 10.0.0.9"}
        )
        sockets.append(third)
        await _until(lambda: len(_records(record)) == 3, "a third session")
        assert _records(record)[-1]["peer"] == "10.0.0.9"  # the proxy's entry, not the first
        full = await client.get(
            "/ws",
            headers={**_origin(client), "Upgrade": "websocket", "X-Forwarded-For": "10.0.0.8"},
        )
        assert full.status == 503
        await sockets.pop().close()
        await _until(lambda: sum(server.sessions.values()) == 2, "a place freed")
    finally:
        await _finish(client, server, sockets)


async def test_a_session_that_ignores_quit_and_sigterm_ends_when_its_socket_closes(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(serving, "STOP_GRACE", 0.2)
    server, started = _server(tmp_path, STUBBORN)
    services = []
    original = serving.SessionService.start

    async def keep(self, width, height):
        services.append(self)
        await original(self, width, height)

    monkeypatch.setattr(serving.SessionService, "start", keep)
    client = await _client(server)
    try:
        ws = await client.ws_connect("/ws", headers=_origin(client))
        await _until(started.exists, "the session to start")
        await ws.close()
        process = services[0]._process
        await _until(lambda: process.returncode is not None, "the session to end")
        await _until(lambda: not server.sessions, "its place to be freed")
    finally:
        await _finish(client, server)


# -- the page ----------------------------------------------------------------------------


async def test_the_page_uses_its_own_host_and_loads_nothing_from_elsewhere(tmp_path):
    server, _ = _server(tmp_path, RECORDER, allow_hosts=["192.0.2.44"])
    server.host = "0.0.0.0"
    client = await _client(server)
    try:
        page = await (await client.get("/", headers={"Host": "192.0.2.44:8000"})).text()
    finally:
        await client.close()
    assert "0.0.0.0" not in page and "googleapis" not in page
    assert 'data-session-websocket-url="ws://192.0.2.44:8000/ws"' in page
    addresses = {
        part.split('"')[0].split(")")[0]
        for part in page.replace("'", '"').split("http")[1:]
        if part.startswith("://") or part.startswith("s://")
    }
    assert all(a.startswith("://192.0.2.44:8000/") for a in addresses), addresses
    assert "RobotoMono-VariableFont_wght.ttf" in page  # the font, from the package
    assert "focus()" in page


def test_a_server_on_every_interface_prints_addresses_students_can_use():
    printed = student_addresses("0.0.0.0", 8000)
    assert printed and not any("0.0.0.0" in a for a in printed)
    assert all(a.startswith("http://") and a.endswith(":8000") for a in printed)
    assert student_addresses("10.1.2.3", 80) == ["http://10.1.2.3:80"]
