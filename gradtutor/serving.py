"""`gradtutor serve`'s web server: textual-serve's, hardened for a room of browsers.

textual-serve runs one command per websocket and relays its terminal. On top of it this
server:

- answers only to the hosts it is known by (`allowed_hosts`: localhost, the loopback
  and interface addresses, the machine's name, the `--public-url` host, `--allow-host`),
  checking the `Host` of every request and the `Origin` of every request that has one; a
  websocket upgrade must carry an `Origin` of the page's own origin, so that a page on
  another site (or a DNS-rebinding name) can neither open a session nor read one;
- caps the sessions in all and per address (each is a process), and clamps every
  terminal size that arrives, in the URL or in a `resize` message;
- ends a session promptly when its websocket closes, even one too busy to hear "quit";
- writes the page itself: addresses built from the request's own `Host` (so `--host
  0.0.0.0` works), fonts served from the package, nothing loaded from another host, and
  the terminal focused on load.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import html
import ipaddress
import json
import logging
import os
import shlex
import signal
import socket
import struct
from asyncio.subprocess import Process
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from .core.sizes import (
    MAX_SESSIONS,
    MAX_SESSIONS_PER_ADDRESS,
    MAX_TERMINAL_HEIGHT,
    MAX_TERMINAL_WIDTH,
)

log = logging.getLogger("textual-serve")

MAX_STDIN_CHARS = 16_384
"""Characters of one `stdin` message relayed to a session (a paste is one message)."""
STOP_GRACE = 5.0
"""Seconds a session is given to quit after its websocket closed, before it is killed."""
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def clamp_size(width: Any, height: Any) -> tuple[int, int]:
    """A terminal size from a browser, as whole numbers within 1..MAX (80×24 when it is
    not a number at all)."""

    def whole(value: Any, default: int, ceiling: int) -> int:
        try:
            number = int(float(value))
        except (TypeError, ValueError, OverflowError):
            number = default
        return max(1, min(ceiling, number))

    return whole(width, 80, MAX_TERMINAL_WIDTH), whole(height, 24, MAX_TERMINAL_HEIGHT)


def interface_addresses() -> set[str]:
    """Every address of this machine's network interfaces (IPv4 and IPv6)."""
    found: set[str] = set()
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):
                packed = fcntl.ioctl(
                    s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15])
                )  # SIOCGIFADDR
                found.add(socket.inet_ntoa(packed[20:24]))
    with contextlib.suppress(OSError), open("/proc/net/if_inet6", encoding="ascii") as fh:
        for line in fh:
            raw = line.split()[0]
            found.add(str(ipaddress.IPv6Address(bytes.fromhex(raw))))
    return found


def host_of(value: str) -> str:
    """The host name of a `Host` header or an origin, lower-case, without port or
    brackets ("" when it has none)."""
    value = value.strip()
    if "://" not in value:
        value = "//" + value
    try:
        return (urlsplit(value).hostname or "").lower()
    except ValueError:
        return ""


def allowed_hosts(bind: str, public_url: str | None, extra: list[str]) -> set[str]:
    """The host names this server answers to."""
    hosts = {"localhost", "127.0.0.1", "::1"} | interface_addresses()
    with contextlib.suppress(OSError):
        name = socket.gethostname()
        hosts |= {name.lower(), socket.getfqdn(name).lower()}
    if bind not in ("", "0.0.0.0", "::"):
        hosts.add(host_of(bind))
    if public_url:
        hosts.add(host_of(public_url))
    hosts |= {host_of(h) for h in extra}
    hosts.discard("")
    return hosts


def student_addresses(bind: str, port: int) -> list[str]:
    """Addresses to print at start: every interface's when listening on all of them."""
    if bind in ("0.0.0.0", "::", ""):
        hosts = sorted(
            (a for a in interface_addresses() if ":" not in a), key=lambda a: a != "127.0.0.1"
        )
    else:
        hosts = [bind]
    return [f"http://{h}:{port}" for h in hosts]


class SessionService(AppService):
    """One session: its process learns the browser's address, and a stop never waits
    for ever on a session too busy to quit."""

    def __init__(self, *args: Any, peer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peer = peer

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment["GRADTUTOR_PEER"] = self.peer
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        """The session's command, run without a shell (a shell between the server and
        the session would be what a kill reaches) in a process group of its own."""
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def set_terminal_size(self, width: int, height: int) -> None:
        await super().set_terminal_size(*clamp_size(width, height))

    async def stop(self) -> None:
        """Ask the session to quit; kill it if it has not within STOP_GRACE seconds."""
        task = self._task
        if task is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.send_meta({"type": "quit"}), STOP_GRACE)
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE)
        except TimeoutError:
            self.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, STOP_GRACE)
        self._task = None
        process = self._process
        if process is not None:  # reap it (and release its pipes) before forgetting it
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                self.kill()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), STOP_GRACE)
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)

    def kill(self) -> None:
        """End the session's process now (its forked session sees its socket close)."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


class ClassServer(Server):
    """textual-serve's server with the class's guards (see the module's docstring)."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        public_url: str | None = None,
        allow_hosts: list[str] | None = None,
        max_sessions: int = MAX_SESSIONS,
        max_per_address: int = MAX_SESSIONS_PER_ADDRESS,
        trusted_proxies: list[str] | None = None,
    ) -> None:
        super().__init__(command, host=host, port=port, title="gradtutor")
        self.public_url_given = public_url.rstrip("/") if public_url else None
        self.hosts = allowed_hosts(host, public_url, allow_hosts or [])
        self.extra_hosts = {host_of(h) for h in allow_hosts or []}
        self.max_sessions = max_sessions
        self.max_per_address = max_per_address
        self.trusted_proxies = set(trusted_proxies or [])
        self.sessions: Counter[str] = Counter()
        self.templates_path = Path(__file__).parent / "web"

    # -- who may come in -----------------------------------------------------------

    def peer(self, request: web.Request) -> str:
        """The browser's address: the connection's, or, behind a trusted proxy, the
        entry that proxy added to X-Forwarded-For (the last one: the ones before it
        are whatever the browser sent)."""
        remote = request.remote or "unknown"
        if remote in self.trusted_proxies:
            forwarded = request.headers.get("X-Forwarded-For", "")
            entries = [e.strip() for e in forwarded.split(",") if e.strip()]
            if entries:
                return entries[-1][:64]
        return remote

    def origin_allowed(self, request: web.Request, origin: str) -> bool:
        """The page's own origin: the request's (checked) Host, the public URL's, or a
        host allowed by --allow-host."""
        parts = urlsplit(origin) if "://" in origin else None
        if parts is None or parts.scheme not in ("http", "https"):
            return False
        if parts.netloc.lower() == request.host.lower():
            return True
        if self.public_url_given:
            public = urlsplit(self.public_url_given)
            if (parts.scheme, parts.netloc.lower()) == (public.scheme, public.netloc.lower()):
                return True
        return (parts.hostname or "").lower() in self.extra_hosts

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Refuse a request whose Host, or Origin, is not this server's."""
        host = host_of(request.headers.get("Host", ""))
        if host not in self.hosts:
            log.warning("refused a request for host %r from %s", host[:80], self.peer(request))
            return web.Response(
                status=421,
                text=f"This gradtutor server does not answer to the host {host[:80]!r}.\n"
                "Start it with --allow-host HOST (or --public-url) to add one.\n",
            )
        origin = request.headers.get("Origin")
        if origin is not None and not self.origin_allowed(request, origin):
            log.warning("refused a request from origin %r", origin[:80])
            return web.Response(status=403, text="Requests from other sites are refused.\n")
        response: web.StreamResponse = await handler(request)
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `gradtutor serve` prints its own addresses."""

    # -- the page ------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page, its addresses built from the public URL or the request's Host."""
        base = self.public_url_given or f"{request.scheme}://{request.host}"
        websocket = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
        font_size = clamp_size(request.query.get("fontsize", "16"), 24)[0]
        page = (self.templates_path / "index.html").read_text(encoding="utf-8")
        page = (
            page.replace("{{STATIC}}", html.escape(base + "/static/", quote=True))
            .replace("{{WEBSOCKET}}", html.escape(websocket + "/ws", quote=True))
            .replace("{{FONT_SIZE}}", str(max(8, min(font_size, 48))))
        )
        return web.Response(text=page, content_type="text/html")

    # -- the sessions --------------------------------------------------------------

    # A refused session gets a plain HTTP answer, not a WebSocket: wider than the base's.
    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """One session: refused without an Origin or past the caps; sizes clamped."""
        if "Origin" not in request.headers:
            return web.Response(status=403, text="A session needs the page's Origin.\n")
        peer = self.peer(request)
        if sum(self.sessions.values()) >= self.max_sessions:
            log.warning("refused a session from %s: %d sessions already", peer, self.max_sessions)
            return web.Response(status=503, text="The class server is full; try again later.\n")
        if self.sessions[peer] >= self.max_per_address:
            log.warning(
                "refused a session from %s: %d from there already", peer, self.sessions[peer]
            )
            return web.Response(status=429, text="Too many sessions from your address.\n")
        width, height = clamp_size(
            request.query.get("width", "80"), request.query.get("height", "24")
        )
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        self.sessions[peer] += 1
        service: SessionService | None = None
        try:
            await websocket.prepare(request)
            service = SessionService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
                peer=peer,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one session's failure never stops the server
            log.exception(error)
        finally:
            try:
                if service is not None:
                    await service.stop()
            finally:  # a place is free once its process has ended
                self.sessions[peer] -= 1
                if self.sessions[peer] <= 0:
                    del self.sessions[peer]
        return websocket

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """Relay the browser's messages; anything malformed is ignored."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except (ValueError, RecursionError):
                continue
            if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(bounded_stdin(data).encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(
                    *clamp_size(data.get("width"), data.get("height"))
                )
            elif kind == "ping" and isinstance(data, str | int | float):
                await websocket.send_json(["pong", str(data)[:64]])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()


def bounded_stdin(data: str) -> str:
    """At most MAX_STDIN_CHARS of one message; a cut paste keeps its end marker, so the
    session does not wait for one."""
    if len(data) <= MAX_STDIN_CHARS:
        return data
    cut = data[:MAX_STDIN_CHARS]
    if PASTE_START in cut and PASTE_END not in cut[cut.rindex(PASTE_START) :]:
        cut += PASTE_END
    return cut
