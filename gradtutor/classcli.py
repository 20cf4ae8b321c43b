"""The class's commands: `gradtutor serve` and `gradtutor report`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .cliutil import EXIT_OK, pack_dirs, packs_of, usage_error


def cmd_serve(args: argparse.Namespace) -> int:
    """`gradtutor serve [--pack DIR]... [--class DIR] [--host H] [--port P]`."""
    import shlex

    from .core.classroom import ClassError, ClassRoom
    from .core.paths import home_dir

    class_dir = (args.class_dir or home_dir() / "class").resolve()
    if args.reload:
        from .core.served import server_pid

        pid = server_pid(class_dir)
        if pid is None:
            return usage_error("serve", f"no server is running for {class_dir}")
        os.kill(pid, signal.SIGHUP)
        print(
            f"Asked the server (process {pid}) to reload its packs: it serves them anew if "
            "they validate, else keeps the old ones; its log says which."
        )
        return EXIT_OK
    if args.reset_pin is not None:
        from .core.classroom import ONE_TIME_PIN_DAYS

        try:
            one_time = ClassRoom(class_dir).reset_pin(args.reset_pin)
        except (ClassError, OSError) as exc:
            return usage_error("serve", str(exc))
        if one_time is None:
            return usage_error("serve", f"no learner {args.reset_pin!r} in {class_dir}")
        print(
            f"One-time PIN for {args.reset_pin}: {one_time}\n"
            f"Hand it to the learner: it signs them in once (within {ONE_TIME_PIN_DAYS} days) "
            "to choose a PIN of their own. Their old PIN no longer works; progress is kept."
        )
        return EXIT_OK
    for directory in packs_of(args):
        if not (directory / "pack.toml").is_file():
            return usage_error("serve", f"{directory} is not a pack (no pack.toml)")
    if args.roster is not None:
        from .core.roster import read_roster

        try:
            entries = read_roster(args.roster)
            created = ClassRoom(class_dir).import_roster(entries)
        except (ClassError, OSError) as exc:
            return usage_error("serve", str(exc))
        print(
            f"Roster: {len(entries)} learner(s) may sign in ({created} with the PIN you issued); "
            "any other name is refused."
        )
    try:
        class_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return usage_error("serve", f"cannot use {class_dir}: {exc.strerror or exc}")
    if args.max_sessions < 1 or args.max_sessions_per_address < 1:
        return usage_error("serve", "the session limits must be at least 1")
    try:
        from .serving import ClassServer, student_addresses
    except ImportError:
        return usage_error("serve", "textual-serve is not installed (pip install textual-serve)")
    import socket

    from .zygote import Zygote

    with socket.socket() as probe:  # say so now, not after starting the session process
        try:
            probe.bind((args.host, args.port))
        except (OSError, OverflowError) as exc:
            why = getattr(exc, "strerror", None) or exc
            return usage_error("serve", f"cannot listen on {args.host}:{args.port}: {why}")
    from .core.served import COPY_FAILED, publish, write_pid

    sources = [d.resolve() for d in pack_dirs(packs_of(args))]
    published, problems = publish(class_dir, sources)
    if published is None:
        for line in problems:
            print(line, file=sys.stderr)
        copied = not problems[0].startswith(COPY_FAILED)
        why = "do not validate" if copied else "could not be copied"
        return usage_error("serve", f"the packs {why}; nothing is served")
    session = ["serve-session", "--class", str(class_dir), "--served"]
    # one warm process forks the sessions, which share its torch (gradtutor/zygote.py)
    zygote = Zygote()
    try:
        if not zygote.start():
            return usage_error("serve", "the session process could not be started")
        server = ClassServer(
            shlex.join(zygote.connect_command(session)),
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            allow_hosts=args.allow_host,
            max_sessions=args.max_sessions,
            max_per_address=args.max_sessions_per_address,
            trusted_proxies=args.trusted_proxy,
        )
        # SIGHUP is answered before the pid file says where to send it: its default
        # action would stop the server
        _reload_on_hangup(class_dir, sources)
        write_pid(class_dir)
        where = [args.public_url] if args.public_url else student_addresses(args.host, args.port)
        print(f"Serving gradtutor (class: {class_dir}); ctrl+c stops. Students open:")
        for address in where:
            print(f"  {address}")
        sys.stdout.flush()
        try:
            server.serve()
        except OSError as exc:
            return usage_error(
                "serve", f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}"
            )
    finally:
        zygote.stop()
    return EXIT_OK


def _reload_on_hangup(class_dir: Path, sources: list[Path]) -> None:
    """SIGHUP (or `serve --reload`): validate the packs again and serve the new copy, or
    keep the old one and log why. New sessions open what is current; open ones keep
    theirs.

    The signal handler only asks: one thread does the reloads, one at a time, so a
    reload never runs inside the server's loop (a failure there would stop the server)
    and a SIGHUP sent during one brings one more, which sees the latest edit."""
    if not hasattr(signal, "SIGHUP"):
        return
    asked = threading.Event()

    def reloads() -> None:
        while True:
            asked.wait()
            asked.clear()
            _reload(class_dir, sources)

    threading.Thread(target=reloads, name="reload", daemon=True).start()
    signal.signal(signal.SIGHUP, lambda signum, frame: asked.set())


def _reload(class_dir: Path, sources: list[Path]) -> None:
    """One reload, said in the log whatever happens."""
    from .core.served import publish

    stamp = time.strftime("%H:%M:%S")
    try:
        published, problems = publish(class_dir, sources)
    except Exception as exc:  # said, never raised: the server serves on
        published, problems = None, [f"reload failed: {exc}"]
    if published is None:
        print(
            f"[{stamp}] reload refused: the packs do not validate or could not be copied; "
            "still serving the previous version:",
            file=sys.stderr,
        )
        for line in problems:
            print(f"  {line}", file=sys.stderr)
    else:
        print(f"[{stamp}] reloaded: new sessions open the packs as saved now", file=sys.stderr)
    sys.stderr.flush()


def cmd_report(args: argparse.Namespace) -> int:
    """`gradtutor report PATH... [--csv FILE] [--html FILE]`."""
    from .core.report import build, to_csv, to_text_tables
    from .core.report_html import to_html

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        return usage_error("report", f"no such file or directory: {', '.join(missing)}")
    report = build(args.paths, pack_dirs(packs_of(args)))
    for what, path, text in (("CSV", args.csv, to_csv), ("HTML", args.html, to_html)):
        if path is None:
            continue
        try:
            path.write_text(text(report), encoding="utf-8")
        except OSError as exc:
            return usage_error("report", f"cannot write {path}: {exc.strerror or exc}")
        print(f"Wrote the {what} report to {path}.")
    from rich.console import Console

    width = None if sys.stdout.isatty() else 140  # a report piped to a file: wide tables
    # every text from a file is made safe in the report itself (safe_text), so rich's own
    # styles may reach the terminal as styles
    stream = getattr(sys.stdout, "unescaped", sys.stdout)
    Console(file=stream, highlight=False, width=width).print(to_text_tables(report))
    return EXIT_OK
