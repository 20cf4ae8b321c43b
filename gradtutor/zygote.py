"""Served sessions forked from one warm process, so that they share torch's memory.

`import torch` costs a process about 210 MB, most of it memory that no two processes
share. `gradtutor serve` therefore starts one *zygote* that imports torch and the
checker once, then forks a child per browser session: the children share those pages
copy-on-write. textual-serve still runs one small command per session
(`python -m gradtutor.zygote connect SOCKET ARGS...`, no torch): it hands its standard
streams and environment to the zygote over a Unix socket (SCM_RIGHTS), and waits for the
forked session to end, with its exit status. The zygote imports no Textual and starts no
thread before forking: each child starts its app as a fresh process would.

The zygote never lets one connection stop the others: connections are read without
blocking, each within RECEIVE_SECONDS, descriptors are closed on every path that does
not hand them to a session, and a failed fork (or a full descriptor table) refuses that
one session and goes on. `Zygote`, in the serve process, restarts a zygote that dies
anyway, and gives up with a message if it keeps dying.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MAX_MESSAGE = 1 << 20
"""A request: argv, environment and working directory, as JSON."""
RECEIVE_SECONDS = 5.0
"""How long a connection may take to send its request."""
FDS = 3
"""Descriptors a request carries: standard input, output and error."""
EX_TEMPFAIL = 75
"""The status a refused session ends with (no process could be forked for it)."""
RESTARTS = 5
"""Zygote deaths within RESTART_WINDOW seconds before `serve` gives up."""
RESTART_WINDOW = 60.0


def _send_fds(sock: socket.socket, payload: bytes, fds: list[int]) -> None:
    sock.sendmsg(
        [struct.pack("!I", len(payload)) + payload],
        [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))],
    )


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class _Pending:
    """A connection whose request is still arriving."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.data = b""
        self.fds: list[int] = []
        self.deadline = time.monotonic() + RECEIVE_SECONDS

    def receive(self) -> bool | None:
        """Read what has arrived: True when the request is whole, False while more is
        expected, None when the connection is finished with (closed, oversized, or
        carrying more descriptors than a request has)."""
        fds = array.array("i")
        try:
            data, ancdata, _, _ = self.conn.recvmsg(65536, socket.CMSG_SPACE(FDS * fds.itemsize))
        except BlockingIOError:
            return False
        except OSError:
            return None
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        self.fds.extend(fds)
        if not data or len(self.fds) > FDS:
            return None
        self.data += data
        if len(self.data) >= 4:
            size: int = struct.unpack("!I", self.data[:4])[0]
            if size > MAX_MESSAGE:
                return None
            return len(self.data) - 4 >= size
        return False

    def request(self) -> dict[str, Any] | None:
        """The request, when it is one: argv, env and cwd of the right types, 3 fds."""
        try:
            size: int = struct.unpack("!I", self.data[:4])[0]
            request = json.loads(self.data[4 : 4 + size])
        except (ValueError, struct.error, RecursionError):
            return None
        if len(self.fds) != FDS or not isinstance(request, dict):
            return None
        argv, env, cwd = request.get("argv"), request.get("env"), request.get("cwd")
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            return None
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            return None
        if not isinstance(cwd, str):
            return None
        return request

    def close(self) -> None:
        """Close the connection and every descriptor it brought."""
        _close_all(self.fds)
        self.fds = []
        with contextlib.suppress(OSError):
            self.conn.close()


def serve_zygote(path: Path) -> None:
    """Import the heavy modules once, then fork a session for every whole request."""
    import gradtutor.core.compgraph  # noqa: F401
    from gradtutor.core.checking import freeze_imports  # torch: what the children share

    freeze_imports()  # and the collector never touches those pages, so they stay shared
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if path.exists() or path.is_symlink():
        path.unlink()
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    pending: dict[int, _Pending] = {}
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                _accept(listener, selector, pending)
                continue
            item = pending[key.fd]
            done = item.receive()
            if done is False:
                continue
            selector.unregister(item.conn)
            del pending[key.fd]
            request = item.request() if done else None
            if request is None:
                item.close()
                continue
            _fork_session(item, request, listener, selector, pending)
        now = time.monotonic()
        for fd, item in list(pending.items()):
            if now > item.deadline:  # sent nothing (or not enough) in time
                selector.unregister(item.conn)
                del pending[fd]
                item.close()


def _accept(
    listener: socket.socket, selector: selectors.BaseSelector, pending: dict[int, _Pending]
) -> None:
    try:
        conn, _ = listener.accept()
    except (BlockingIOError, InterruptedError):
        return
    except OSError:  # EMFILE, ENFILE, ENOBUFS: the connection waits in the backlog
        time.sleep(0.05)  # and this loop does not spin while descriptors are freed
        return
    conn.setblocking(False)
    item = _Pending(conn)
    pending[conn.fileno()] = item
    selector.register(conn, selectors.EVENT_READ)


def _fork_session(
    item: _Pending,
    request: dict[str, Any],
    listener: socket.socket,
    selector: selectors.BaseSelector,
    pending: dict[int, _Pending],
) -> None:
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM: refuse this session, keep serving
        with contextlib.suppress(OSError):
            item.conn.setblocking(True)
            item.conn.settimeout(1.0)
            item.conn.sendall(struct.pack("!i", EX_TEMPFAIL))
        item.close()
        return
    if pid == 0:  # the session
        try:
            selector.close()
            listener.close()
            for other in pending.values():
                other.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            item.conn.setblocking(True)
            _run_session(item.conn, request, item.fds)
        finally:
            os._exit(1)
    item.close()


def _run_session(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    def watch() -> None:  # the command textual-serve started has gone: so does the session
        try:
            conn.recv(1)
        except OSError:
            pass
        os._exit(0)

    serve_log = os.dup(2)  # the zygote's stderr: the terminal `gradtutor serve` runs in
    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["GRADTUTOR_SERVE_LOG_FD"] = str(serve_log)
    with contextlib.suppress(OSError):
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
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()  # before the status: the connect process then lets go
            sys.stderr.flush()
        try:
            conn.sendall(struct.pack("!i", status))
        except OSError:
            pass
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
        sock.close()  # the session sees its socket close and ends at once
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
    if status == EX_TEMPFAIL:
        print(
            "gradtutor: no session could be started (the server is out of processes or "
            "memory); try again in a moment.",
            file=sys.stderr,
        )
    return int(status)


class Zygote:
    """The zygote as `gradtutor serve` runs it: started, watched, restarted."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="gradtutor-serve-"))
        self.socket_path = self.directory / "zygote.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._deaths: list[float] = []

    def connect_command(self, argv: list[str]) -> list[str]:
        """The command textual-serve runs for one session."""
        return [sys.executable, "-m", "gradtutor.zygote", "connect", str(self.socket_path), *argv]

    def start(self) -> bool:
        """Start the zygote and wait until it listens; False when it could not."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gradtutor.zygote", "run", str(self.socket_path)]
        )
        deadline = time.monotonic() + 120  # importing torch on a busy machine
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        threading.Thread(target=self._watch, args=(self.process,), daemon=True).start()
        return True

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        status = process.wait()
        if self._stopping.is_set():
            return
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW] + [now]
        if len(self._deaths) > RESTARTS or not self.start():
            print(
                f"gradtutor serve: the session process keeps ending (status {status}); "
                "stopping. Start `gradtutor serve` again.",
                file=sys.stderr,
                flush=True,
            )
            os.kill(os.getpid(), signal.SIGTERM)
            return
        print(
            f"gradtutor serve: the session process ended (status {status}); restarted it.",
            file=sys.stderr,
            flush=True,
        )

    def stop(self) -> None:
        """Stop the zygote and remove its socket."""
        self._stopping.set()
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.socket_path.unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        serve_zygote(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["connect"]:
        sys.exit(connect(Path(sys.argv[2]), sys.argv[3:]))
    else:
        sys.exit("usage: python -m gradtutor.zygote run SOCKET | connect SOCKET ARGS...")
