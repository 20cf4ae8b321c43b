"""Served sessions forked from one warm process, so that they share torch's memory.

`import torch` costs a process about 210 MB, most of it memory that no two processes
share. `gradtutor serve` therefore starts one *zygote* that imports torch and the
checker once, then forks a child per browser session: the children share those pages
copy-on-write. textual-serve still runs one small command per session
(`python -m gradtutor.zygote connect SOCKET ARGS...`, no torch): it hands its standard
streams and environment to the zygote over a Unix socket (SCM_RIGHTS), and waits for the
forked session to end, with its exit status. The zygote imports no Textual and starts no
thread before forking: each child starts its app as a fresh process would.
"""

from __future__ import annotations

import array
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

MAX_MESSAGE = 1 << 20


def _send_fds(sock: socket.socket, payload: bytes, fds: list[int]) -> None:
    sock.sendmsg(
        [struct.pack("!I", len(payload)) + payload],
        [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))],
    )


def _recv_fds(sock: socket.socket) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    data, ancdata, _, _ = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    (size,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        more = sock.recv(size - len(body))
        if not more:
            break
        body += more
    return body, list(fds)


def serve_zygote(path: Path) -> None:
    """Import the heavy modules once, then fork a session for every connection."""
    import gradtutor.core.compgraph  # noqa: F401
    from gradtutor.core.checking import freeze_imports  # torch: what the children share

    freeze_imports()  # and the collector never touches those pages, so they stay shared
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if path.exists():
        path.unlink()
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        try:
            body, fds = _recv_fds(conn)
        except (OSError, struct.error):
            conn.close()
            continue
        if os.fork() == 0:  # the session
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _run_session(conn, json.loads(body), fds)
            os._exit(0)
        conn.close()
        for fd in fds:
            os.close(fd)


def _run_session(conn: socket.socket, request: dict, fds: list[int]) -> None:
    import threading

    def watch() -> None:  # the command textual-serve started has gone: so does the session
        try:
            conn.recv(1)
        except OSError:
            pass
        os._exit(0)

    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    threading.Thread(target=watch, daemon=True).start()
    from .cli import main

    status = 1
    try:
        status = main(request["argv"])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        try:
            conn.sendall(struct.pack("!i", status))
        except OSError:
            pass
        sys.stdout.flush()
    os._exit(status)


def connect(path: Path, argv: list[str]) -> int:
    """Hand this process's streams to the zygote and wait for the session's status."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError as exc:
        print(
            f"gradtutor: the tutor's session process is not running ({exc.strerror or exc}); ask your instructor to restart `gradtutor serve`.",
            file=sys.stderr,
        )
        return 2
    request = {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}
    _send_fds(sock, json.dumps(request).encode(), [0, 1, 2])

    def stop(signum: int, frame: object) -> None:
        sock.close()  # the session reads its own stdin to its end; nothing more to do
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    data = b""
    while len(data) < 4:
        more = sock.recv(4 - len(data))
        if not more:
            return 1
        data += more
    (status,) = struct.unpack("!i", data)
    return status


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        serve_zygote(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["connect"]:
        sys.exit(connect(Path(sys.argv[2]), sys.argv[3:]))
    else:
        sys.exit("usage: python -m gradtutor.zygote run SOCKET | connect SOCKET ARGS...")
