"""The command line. Every subcommand is a thin call into `gradtutor.core`.

This module is on the tutor's start path: it imports neither torch nor sympy. Commands
that need them import their core module inside the command.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .cliutil import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    pack_dirs,
    pack_option,
    packs_of,
    usage_error,
)
from .core.sizes import MAX_SESSIONS, MAX_SESSIONS_PER_ADDRESS, NetworkSize


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line hint on usage errors, and reads
    an argument that begins with a single `-` as a value (`check "-2x e^(-x^2)"`,
    `--of -x^2`): gradtutor's only short option is `-h`, so anything else that starts
    with one dash is an answer or a function, never an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse reads what this matches as a value ("a negative number") while no
        # option looks like one; none of ours does
        self._negative_number_matcher = re.compile(r"^-(?!-)(?!h$).+$", re.S)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `gradtutor` and its subcommands."""
    parser = _Parser(
        prog="gradtutor",
        description="A terminal tutor for the chain rule and backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"gradtutor {__version__}")
    parser.add_argument(
        "--pack",
        action="append",
        type=Path,
        metavar="DIR",
        help="open this pack (repeatable); default: the built-in pack and $GRADTUTOR_HOME/packs/*",
    )
    parser.add_argument(
        "--unlock-all",
        action="store_true",
        help="preview: open every lesson; nothing is written to progress",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("validate", help="lint lesson packs")
    p.add_argument("dirs", nargs="*", type=Path, metavar="DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--structure-only", action="store_true", help="skip the checks that need the answer checker"
    )

    p = sub.add_parser("check", help="check an answer")
    p.add_argument("answer", nargs="?", metavar="ANSWER")
    p.add_argument("--of", metavar="FUNCTION", help="the function to differentiate")
    p.add_argument("--wrt", metavar="VAR", help="the variable to differentiate by")
    pack_option(p, "the pack holding the exercise")
    p.add_argument("--exercise", metavar="LESSON/EXERCISE")
    p.add_argument("--batch", metavar="FILE", help="JSON Lines of answers ('-' for stdin)")
    p.add_argument(
        "--file", metavar="FILE", help="read the answer from a file (a program exercise's code)"
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument(
        "--variant", type=int, default=0, metavar="K", help="check against variant K (default 0)"
    )

    p = sub.add_parser("train", help="run a lesson's training blocks without the interface")
    pack_option(p, "the pack holding the lesson")
    p.add_argument("--lesson", metavar="LESSON", required=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("show", help="an exercise as a learner sees it, for a variant")
    pack_option(p, "the pack holding the exercise")
    p.add_argument("--exercise", metavar="LESSON/EXERCISE", required=True)
    p.add_argument("--variant", type=int, default=0, metavar="K")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--full", action="store_true", help="also the hints, solution and feedback")
    p.add_argument("--count", action="store_true", help="how many distinct variants there are")
    p.add_argument("--learner", metavar="ID", help="the variant this learner id sees")
    p.add_argument("--round", type=int, default=0, metavar="R", help="with --learner: their round")
    p.add_argument("--name", metavar="NAME", help="with --class: the variant this learner sees")
    p.add_argument("--class", dest="class_dir", type=Path, metavar="DIR", help="a class directory")

    p = sub.add_parser("progress", help="show or reset the learner's progress")
    p.add_argument("--json", action="store_true")
    p.add_argument("--reset", nargs="?", const="*", metavar="PACK", help="forget progress")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--export", type=Path, metavar="FILE", help="write your progress to hand in")
    p.add_argument("--name", metavar="NAME", help="your name in the export")
    p.add_argument("--id", metavar="ID", help="your id on the class roster, in the export")
    pack_option(p, "the packs to show (repeatable)")

    p = sub.add_parser("serve", help="the tutor in a web browser, for a class")
    pack_option(p, "the packs to serve (repeatable; default: the tutor's)")
    p.add_argument(
        "--class",
        dest="class_dir",
        type=Path,
        metavar="DIR",
        help="where learners' progress lives (default: $GRADTUTOR_HOME/class)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument("--public-url", metavar="URL", help="the address browsers use, behind a proxy")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="another host name browsers may use for this server (repeatable)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDR",
        help="a proxy's address whose X-Forwarded-For entry names the browser (repeatable)",
    )
    p.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, help=f"default {MAX_SESSIONS}")
    p.add_argument(
        "--max-sessions-per-address",
        type=int,
        default=MAX_SESSIONS_PER_ADDRESS,
        help=f"default {MAX_SESSIONS_PER_ADDRESS}",
    )
    p.add_argument(
        "--reset-pin",
        metavar="NAME",
        help="print a one-time PIN for NAME (who then chooses a new PIN), and exit",
    )
    p.add_argument(
        "--roster",
        type=Path,
        metavar="FILE",
        help="a CSV of id,name[,pin]: only these learners may sign in",
    )
    p.add_argument(
        "--reload",
        action="store_true",
        help="tell the server of --class DIR to validate and serve its packs anew, and exit",
    )

    p = sub.add_parser(
        "serve-session", help=argparse.SUPPRESS
    )  # one browser session (serve runs it)
    pack_option(p, "")
    p.add_argument("--class", dest="class_dir", type=Path, required=True)
    p.add_argument("--served", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("report", help="the instructor's view of a class")
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="class directories and exports"
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="one row per learner")
    p.add_argument("--html", type=Path, metavar="FILE", help="one self-contained page")
    pack_option(p, "packs that name and order the exercises (default: the tutor's)")

    p = sub.add_parser("stepper", help="open the network stepper")
    default = NetworkSize()
    p.add_argument("--n", type=int, default=default.n)
    p.add_argument("--d-in", type=int, default=default.d_in)
    p.add_argument("--hidden", type=int, default=default.hidden)
    p.add_argument("--seed", type=int, default=default.seed)
    pack_option(p, "the packs of the tutor behind the stepper (repeatable)")
    p.add_argument("--json", action="store_true", help="print the whole trace and exit")

    p = sub.add_parser("explain", help="the chain rule on a function, node by node")
    p.add_argument(
        "function", metavar="FUNCTION", help="in the math language; after -- if it starts with -"
    )
    p.add_argument("--wrt", metavar="VAR", required=True, help="the variable to differentiate by")
    p.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="the point (repeatable); variables left out are chosen",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("new", help="scaffold a lesson pack")
    p.add_argument("dir", type=Path, metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gradtutor` console script."""
    from .core.text import SafeStream

    args = build_parser().parse_args(argv)
    if args.command in (None, "serve-session"):  # the tutor's terminal belongs to Textual
        return _dispatch(args)
    streams = sys.stdout, sys.stderr
    sys.stdout = SafeStream(sys.stdout)
    sys.stderr = SafeStream(sys.stderr)
    try:
        return _dispatch(args)
    finally:
        sys.stdout, sys.stderr = streams


def _dispatch(args: argparse.Namespace) -> int:
    from .core.progress import HomeUnusable

    try:
        match args.command:
            case None:
                return cmd_tutor(args)
            case "validate":
                return cmd_validate(args)
            case "check":
                from .checkcli import cmd_check

                return cmd_check(args)
            case "progress":
                return cmd_progress(args)
            case "stepper":
                return cmd_stepper(args)
            case "new":
                return cmd_new(args)
            case "explain":
                return cmd_explain(args)
            case "report":
                from .classcli import cmd_report

                return cmd_report(args)
            case "serve":
                from .classcli import cmd_serve

                return cmd_serve(args)
            case "serve-session":
                from .app import create_app

                if args.served:  # the copy the server published: edits wait for a reload
                    from .core.served import current_pack_dirs

                    dirs = current_pack_dirs(args.class_dir)
                else:
                    dirs = pack_dirs(packs_of(args))
                create_app(pack_dirs=dirs, class_dir=args.class_dir).run()
                return EXIT_OK
            case "show":
                from .packcli import cmd_show

                return cmd_show(args)
            case "train":
                from .packcli import cmd_train

                return cmd_train(args)
    except HomeUnusable as exc:
        return usage_error(args.command or "", exc.sentence())
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


def cmd_tutor(args: argparse.Namespace) -> int:
    """Open the tutor."""
    for directory in args.pack or []:
        if not (directory / "pack.toml").is_file():
            print(f"gradtutor: error: {directory} is not a pack (no pack.toml)", file=sys.stderr)
            return EXIT_USAGE
    from .app import create_app

    create_app(pack_dirs=pack_dirs(args.pack), unlock_all=args.unlock_all).run()
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """`gradtutor validate DIR... [--json]` (a top-level `--pack DIR` is one more DIR)."""
    from .core.validate import validate_packs

    dirs = [*packs_of(args), *args.dirs]
    if not dirs:
        return usage_error(
            "validate", "give the pack directories to check: gradtutor validate DIR..."
        )
    report = validate_packs(dirs, deep=not args.structure_only)
    errors = len(report.problems.errors)
    warnings = len(report.problems.warnings)
    if args.json:
        doc = {
            "ok": report.ok,
            "errors": errors,
            "warnings": warnings,
            "problems": [p.to_json() for p in report.problems],
        }
        print(json.dumps(doc, indent=2))
    else:
        for problem in report.problems:
            print(problem.format())
        lessons = sum(len(p.lessons) for p in report.packs)
        summary = f"{len(report.packs)} pack(s), {lessons} lesson(s): {errors} error(s), {warnings} warning(s)"
        print(summary, file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_progress(args: argparse.Namespace) -> int:
    """`gradtutor progress [--json] [--reset [PACK]]`."""
    from .core.packs import load_pack
    from .core.paths import home_dir
    from .core.progress import (
        ProgressStore,
        completions_to_record,
        lesson_states,
        progress_report,
    )

    store = ProgressStore(home_dir())
    store.check_home()
    if args.export is not None:
        return _export(args, store)
    if args.reset is not None:
        target = None if args.reset == "*" else args.reset
        what = "all progress" if target is None else f'the progress of pack "{target}"'
        if not args.yes:
            if not sys.stdin.isatty():
                print(f"gradtutor: refusing to reset {what} without --yes", file=sys.stderr)
                return EXIT_USAGE
            reply = input(f"Reset {what}? This cannot be undone. [y/N] ")
            if reply.strip().lower() not in ("y", "yes"):
                print("Nothing was reset.")
                return EXIT_FAIL
        store.reset(target)
        print(f"Reset {what}.")
        return EXIT_OK
    progress = store.load()
    for notice in store.take_notices():
        print(f"gradtutor: {notice}", file=sys.stderr)
    packs = [r.pack for r in map(load_pack, pack_dirs(packs_of(args))) if r.pack is not None]
    for pack in packs:  # progress written before completions were recorded
        if completions_to_record(pack, progress):
            progress = store.record_completions(pack)
    if args.json:
        print(json.dumps(progress_report(packs, progress), indent=2, allow_nan=False))
        return EXIT_OK
    marks = {
        "done": "✓ done",
        "in progress": "… in progress",
        "open": "○ open",
        "locked": "⊘ locked",
    }
    for pack in packs:
        states = lesson_states(pack, progress)
        done = sum(s.status == "done" for s in states.values())
        print(f"{pack.title} ({pack.id}): {done}/{len(pack.lessons)} lessons done")
        width = max((len(le.id) for le in pack.lessons), default=0)
        for lesson in pack.lessons:
            state = states[lesson.id]
            line = f"  {lesson.id:<{width}}  {marks[state.status]:<15}"
            if state.total:
                line += f" {state.solved}/{state.total} exercises"
            if state.waits_for:
                line += f"  (waits for {', '.join(state.waits_for)})"
            print(line.rstrip())
    others = [p for p in progress.pack_ids() if p not in {pk.id for pk in packs}]
    for pack_id in others:
        where = progress.opened_from(pack_id)
        if where:
            print(f"{pack_id}: progress recorded; the pack was last opened from {where}")
        else:
            print(f"{pack_id}: progress recorded; its pack is not among those shown")
    print(f"Progress file: {store.path}")
    return EXIT_OK


def _same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file (through links too)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _export(args: argparse.Namespace, store: Any) -> int:
    """`gradtutor progress --export FILE [--name NAME]`."""
    import getpass

    from .core.classroom import ClassError, check_name
    from .core.exports import export_document
    from .core.packs import load_pack

    progress = store.load()
    name = args.name
    if name is None:
        stored = progress.data.get("name")
        name = stored if isinstance(stored, str) and stored.strip() else getpass.getuser()
    try:
        check_name(name)
    except ClassError as exc:
        return usage_error("progress", str(exc))
    found: dict[str, dict[str, str | None]] = {}
    for directory in pack_dirs(packs_of(args)):
        pack = load_pack(directory).pack
        if pack is not None and pack.id in progress.pack_ids():
            found.setdefault(pack.id, {"id": pack.id, "title": pack.title, "version": pack.version})
    # every pack of the progress is listed; one not found here by its id alone
    packs = [found.get(i, {"id": i, "title": None, "version": None}) for i in progress.pack_ids()]
    learner_id = None if args.id is None else " ".join(str(args.id).split())[:80]
    document = export_document(progress.data, name, packs, learner_id or None)
    target = Path(args.export)
    live = {store.path, store.lock_path}
    if any(_same_file(target, path) for path in live):
        return usage_error(
            "progress",
            f"{target} is your live progress file; export to another file (say, hand-in.json)",
        )
    if target.is_dir():
        return usage_error("progress", f"{target} is a directory; name a file to write")
    from .core.progress.store import write_atomically

    payload = json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")
    try:  # a new file renamed into place: never written through a link, never half
        write_atomically(target.absolute(), payload, ".export-")
    except OSError as exc:
        return usage_error("progress", f"cannot write {args.export}: {exc.strerror or exc}")
    print(f"Wrote the progress of {document['name']} to {args.export}: hand this file in.")
    return EXIT_OK


MAX_JSON_ELEMENTS = 100_000
"""n * d_in and n * hidden of a trace printed with `stepper --json`."""


def cmd_stepper(args: argparse.Namespace) -> int:
    """`gradtutor stepper [--n N] [--d-in D] [--hidden H] [--seed S] [--json]`."""
    import re

    size = NetworkSize(args.n, args.d_in, args.hidden, args.seed)
    problems = size.problems()
    if problems:
        for message in problems.values():
            # the block's key names become the flags the user typed
            flags = re.sub(
                r"`(n|d_in|hidden)`", lambda m: f"--{m.group(1).replace('_', '-')}", message
            )
            usage_error("stepper", flags.replace("the seed", "--seed"))
        return EXIT_USAGE
    if args.json:
        if max(size.n * size.d_in, size.n * size.hidden) > MAX_JSON_ELEMENTS:
            return usage_error(
                "stepper",
                f"--json prints every tensor; at most {MAX_JSON_ELEMENTS:,} numbers in x and l1 "
                "(open the stepper without --json for larger networks)",
            )
        from .core.stepper import trace_json

        print(json.dumps(trace_json(size.n, size.d_in, size.hidden, size.seed)))
        return EXIT_OK
    for directory in packs_of(args):
        if not (directory / "pack.toml").is_file():
            return usage_error("stepper", f"{directory} is not a pack (no pack.toml)")
    from .app import create_app

    create_app(pack_dirs=pack_dirs(packs_of(args)), stepper=size).run()
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """`gradtutor explain FUNCTION --wrt VAR [--at NAME=VALUE]... [--json]`."""
    import math

    at: dict[str, float] = {}
    for item in args.at:
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not key.strip() or not math.isfinite(number):
            return usage_error(
                "explain", f"--at takes NAME=VALUE with a finite number, not {item!r}"
            )
        at[key.strip()] = number
    from .core.compgraph import explain, explain_text
    from .core.mathlang import MathError

    try:
        if args.json:
            print(
                json.dumps(explain(args.function, args.wrt.strip(), at or None), ensure_ascii=False)
            )
        else:
            print(explain_text(args.function, args.wrt.strip(), at or None))
    except MathError as exc:
        return usage_error("explain", str(exc))
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """`gradtutor new DIR`."""
    from .core.scaffold import scaffold_pack

    if packs_of(args):
        return usage_error("new", "--pack does not apply to new: give the directory to create")
    try:
        written = scaffold_pack(args.dir)
    except FileExistsError as exc:
        print(f"gradtutor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"wrote {path}")
    print(f"Check it with: gradtutor validate {args.dir}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
