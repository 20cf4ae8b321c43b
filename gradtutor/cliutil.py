"""What every command module shares: exit statuses, `--pack`, a usage error in one line.

A module of its own so that `cli` (which dispatches) and the command modules it
dispatches to (`checkcli`, `packcli`, `classcli`) never import each other in a circle.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_VARIANT = 2**63 - 1
"""The largest variant number `show` and `check --variant` take."""


def pack_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """A subcommand's own `--pack`, kept apart from the top-level one (see `packs_of`)."""
    parser.add_argument(
        "--pack",
        action="append",
        type=Path,
        metavar="DIR",
        dest="sub_packs",
        default=[],
        help=help_text,
    )


def packs_of(args: argparse.Namespace) -> list[Path]:
    """Every `--pack`, given before the subcommand (`gradtutor --pack X check`) or after it."""
    return [*(args.pack or []), *getattr(args, "sub_packs", [])]


def usage_error(command: str, message: str) -> int:
    """One line on standard error; the exit status of a usage error."""
    print(f"gradtutor {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def pack_dirs(given: list[Path] | None) -> list[Path]:
    """The packs given, or the default ones."""
    from .core.paths import default_pack_dirs

    return list(given) if given else default_pack_dirs()


def variant_problem(k: object) -> str | None:
    """Why a variant number cannot be used, or None."""
    if type(k) is not int or not 0 <= k <= MAX_VARIANT:
        return f"a variant is a whole number from 0 to {MAX_VARIANT:,}, not {k}"
    return None
