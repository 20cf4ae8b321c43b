"""The process that forks served sessions: one bad connection, one failed fork or a full
descriptor table never takes every later session down."""

from __future__ import annotations

import array
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gradtutor import zygote
from gradtutor.zygote import EX_TEMPFAIL, Zygote

from .test_serve_browser import _wait  # waits on state, with a generous limit


def _start(socket_path: Path, **popen) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gradtutor.zygote", "run", str(socket_path)], **popen
    )
    _wait(socket_path.exists, "the zygote to listen")
    return process


def _version_through(socket_path: Path) -> subprocess.CompletedProcess:
    """A whole session through the zygote: `gradtutor --version`, forked and run."""
    return subprocess.run(
        [sys.executable, "-m", "gradtutor.zygote", "connect", str(socket_path), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def running_zygote(tmp_path):
    path = tmp_path / "z.sock"
    process = _start(path)
    yield path, process
    process.kill()
    process.wait()


def test_a_silent_connection_blocks_no_one(running_zygote):
    path, _ = running_zygote
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(str(path))  # and sends nothing
    try:
        result = _version_through(path)
        assert result.returncode == 0 and "gradtutor" in result.stdout
    finally:
        silent.close()


def test_descriptors_of_bad_requests_are_closed(running_zygote):
    path, process = running_zygote
    before = _open_fds(process.pid)
    with open(os.devnull) as null:
        for i in range(300):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
                body = b"not json" if i % 3 else b'{"argv": 1}'
                count = 3 if i % 2 else 10  # more descriptors than a request has
                s.sendmsg(
                    [struct.pack("!I", len(body)) + body],
                    [
                        (
                            socket.SOL_SOCKET,
                            socket.SCM_RIGHTS,
                            array.array("i", [null.fileno()] * count),
                        )
                    ],
                )
                s.recv(4)  # the zygote closes it: a refusal, no session
    _wait(lambda: _open_fds(process.pid) <= before + 2, "the descriptors to be closed", 30)
    assert _version_through(path).returncode == 0


def test_a_full_descriptor_table_is_survived(tmp_path, monkeypatch):
    monkeypatch.setattr(zygote, "RECEIVE_SECONDS", 1.0)  # not inherited; the child has 5 s
    path = tmp_path / "z.sock"

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

    process = _start(path, preexec_fn=few_descriptors)
    hogs = []
    try:
        for _ in range(60):  # more connections than it can hold descriptors for
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(path))
            hogs.append(s)
        assert process.poll() is None
        for s in hogs:
            s.close()
        hogs = []
        result = _wait(lambda: _version_through(path), "a session after the flood")
        assert result.returncode == 0 and process.poll() is None
    finally:
        for s in hogs:
            s.close()
        process.kill()
        process.wait()


def test_a_failed_fork_refuses_one_session_and_keeps_serving(monkeypatch):
    server_side, client_side = socket.socketpair()
    read_end, write_end = os.pipe()
    fds = [os.dup(read_end) for _ in range(3)]
    item = zygote._Pending(server_side)
    item.fds = list(fds)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    zygote._fork_session(item, {}, None, None, {})  # type: ignore[arg-type]
    (status,) = struct.unpack("!i", client_side.recv(4))
    assert status == EX_TEMPFAIL
    for fd in fds:  # none of the session's descriptors is left open in the zygote
        with pytest.raises(OSError):
            os.fstat(fd)
    client_side.close()
    os.close(read_end)
    os.close(write_end)


def test_serve_restarts_a_zygote_that_dies():
    keeper = Zygote()
    try:
        assert keeper.start()
        first = keeper.process
        first.send_signal(signal.SIGKILL)
        _wait(lambda: keeper.process is not first and keeper.socket_path.exists(), "a restart")
        result = _wait(lambda: _version_through(keeper.socket_path), "a session")
        assert result.returncode == 0
    finally:
        keeper.stop()
