"""Typed reading of TOML tables with line-accurate problems.

`tomllib` gives values but no positions, so `KeyLocator` scans the source text for
`key = ...` lines and table headers; that is enough to point an instructor at the line
of a missing, mistyped or unknown key.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import ProblemList
from .text import describe_control, is_control, strip_controls_in_prose, visible

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.\s*[A-Za-z0-9_\-"']+\s*)*=""")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


class KeyLocator:
    """Maps (table, index, key) to the 1-based line and column of the key in the source."""

    def __init__(self, text: str, first_line: int, root_line: int | None = None) -> None:
        self.first_line = first_line
        self.root_line = first_line if root_line is None else root_line
        self._keys: dict[tuple[str, int, str], tuple[int, int]] = {}
        self._headers: dict[tuple[str, int], int] = {}
        self._lines = text.splitlines()
        table, index = "", 0
        counts: dict[str, int] = {}
        for offset, line in enumerate(self._lines):
            lineno = first_line + offset
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                name = header.group(2).strip().strip("\"'")
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                else:
                    index = 0
                table = name
                self._headers[(table, index)] = lineno
                continue
            key = _KEY.match(line)
            if key:
                name = key.group(1).strip("\"'")
                col = len(line) - len(line.lstrip()) + 1
                self._keys.setdefault((table, index, name), (lineno, col))

    def key(self, name: str, table: str = "", index: int = 0) -> tuple[int, int | None]:
        """Where `name` is set in the given table; falls back to the table's header."""
        if (table, index, name) in self._keys:
            return self._keys[(table, index, name)]
        if table and ("", 0, table) in self._keys:  # an inline table: `given = { x = 1 }`
            return self._keys[("", 0, table)]
        if not table and (name, 0) in self._headers:  # a [table] or [[array]] header
            return self._headers[(name, 0)], None
        return self.table(table, index), None

    def find(self, fragment: str, from_line: int) -> tuple[int, int] | None:
        """Where `fragment` first appears on or after a source line (1-based line, col)."""
        for offset in range(max(0, from_line - self.first_line), len(self._lines)):
            col = self._lines[offset].find(fragment)
            if col >= 0:
                return self.first_line + offset, col + 1
        return None

    def table(self, table: str = "", index: int = 0) -> int:
        """The line of a table's header; for the root, `root_line` (a block's fence)."""
        if not table:
            return self.root_line
        return self._headers.get((table, index), self.root_line)


def _longest_digit_run(text: str) -> tuple[int, int]:
    """(line, column) of the longest run of digits and underscores, 1-based."""
    best = max(re.finditer(r"[0-9_]+", text), key=lambda m: m.end() - m.start(), default=None)
    if best is None:
        return 1, 1
    line = text.count("\n", 0, best.start()) + 1
    return line, best.start() - (text.rfind("\n", 0, best.start()) + 1) + 1


_SINGLE_QUOTED_VALUE = re.compile(r"^\s*[\w.\"-]+\s*=\s*\[?\s*'(?!'')")


def _apostrophe_in_literal(text: str, line: int) -> bool:
    """Whether the TOML line `line` (1-based) opens a single-quoted string and holds more
    than two single quotes: `prompt = 'the learner's answer'`."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return False
    source = lines[line - 1]
    return bool(_SINGLE_QUOTED_VALUE.match(source)) and source.count("'") > 2


def parse_toml(
    text: str, path: Path, first_line: int, problems: ProblemList, what: str
) -> dict[str, Any] | None:
    """Parse TOML, turning a syntax error into a located problem; None on failure.

    Control characters that the TOML escapes put into strings (`\\t`, `\\u001b`, ...)
    are reported at their line and column, and removed from the values returned.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        pos = _TOML_POS.search(message)
        line, col = first_line, None
        if pos:
            line = first_line + int(pos.group(1)) - 1
            col = int(pos.group(2))
            message = message[: pos.start()].strip()
        elif "end of document" in message:
            # Something opened and never closed: point at the last line with content.
            lines = text.splitlines()
            last = max((i for i, t in enumerate(lines) if t.strip()), default=0)
            line = first_line + last
            message = message.replace("(at end of document)", "").strip()
            message += " at the end of the TOML (is a bracket or a quote never closed?)"
        if "Unescaped '\\'" in message or "escape sequence" in message.lower():
            message += (
                ". In a double-quoted string a backslash starts an escape; for LaTeX such as"
                " `\\sigma`, write the string in single quotes ('...'), a literal string"
            )
        if pos and _apostrophe_in_literal(text, int(pos.group(1))):
            message += (
                ". An apostrophe (') ends a single-quoted string: write the string in triple"
                " single quotes ('''...'''), which may hold an apostrophe and LaTeX alike"
            )
        problems.error(path, line, f"{what} is not valid TOML: {message}", col)
        return None
    except RecursionError:
        problems.error(path, first_line, f"{what} is nested too deeply to read")
        return None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        line, col = _longest_digit_run(text)
        problems.error(
            path,
            first_line + line - 1,
            f"{what} has a number too long to read (over {sys.get_int_max_str_digits():,} digits)",
            col,
        )
        return None
    for line, col, ch, escape in string_controls(text):
        problems.error(path, first_line + line - 1, _control_message(ch, escape), col)
    for line, col, word in newline_before_latex(text):
        problems.warning(
            path,
            first_line + line - 1,
            f'`\\n` in a double-quoted string is a newline: "\\{word}" reads as a newline '
            f"followed by \"{word[1:]}\". For LaTeX, write the string in single quotes ('...')",
            col,
        )
    cleaned: dict[str, Any] = _clean(data)
    return cleaned


_LATEX_TRAPS = {"\\t": "tanh", "\\b": "beta", "\\f": "frac", "\\r": "rho"}


def _control_message(ch: str, escape: str) -> str:
    word = _LATEX_TRAPS.get(escape)
    if word is not None:  # LaTeX in a double-quoted string: the commonest case by far
        return (
            f'`{escape}` in a double-quoted TOML string is {describe_control(ch)}: "\\{word}" '
            f'reads as that character followed by "{word[1:]}". Write the string in single '
            "quotes ('...'), a literal string, where a backslash stays a backslash"
        )
    return (
        f"`{escape}` puts {describe_control(ch)} into this string: a control character"
        " that would drive the learner's terminal; remove it"
    )


def _clean(value: Any) -> Any:
    """Control characters removed from every string (newline and TAB kept for Markdown)."""
    if isinstance(value, str):
        return strip_controls_in_prose(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {strip_controls_in_prose(k): _clean(v) for k, v in value.items()}
    return value


_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_LATEX_AFTER_N = ("nabla", "nu", "neq", "ne", "not", "neg", "ni", "nleq", "ngeq", "nmid")


# The tokens that matter for finding escapes: comments and literal strings (skipped, so
# that a quote or backslash inside them is not mistaken for one), and basic strings. An
# unclosed single-line string ends at its line (tomllib has already said so).
_STRING_TOKENS = re.compile(
    r"#[^\n]*"
    r"|'''[\s\S]*?(?:'''|\Z)"
    r"|'[^'\n]*'?"
    r'|"""(?:[^\\]|\\[\s\S])*?(?:"""|\Z)'
    r'|"(?:[^"\\\n]|\\.)*"?'
)
_NEWLINE = re.compile("\n")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.)|\n)")


def _scan_strings(text: str) -> Iterator[tuple[int, int, str, str, int]]:
    """Every escape sequence in the basic strings of a TOML text:
    (line, col, escape, char, offset).

    A small lexer of TOML's string forms and comments, enough to find where an escape
    sits (tomllib gives values, not positions). Lines and columns are 1-based.
    """
    if "\\" not in text:
        return
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    for token in _STRING_TOKENS.finditer(text):
        if not token.group().startswith('"'):
            continue
        for esc in _ESCAPE.finditer(token.group()):
            at = token.start() + esc.start()
            line = bisect.bisect_left(newlines, at) + 1
            col = at - (newlines[line - 2] + 1 if line > 1 else 0) + 1
            hex4, hex8, simple = esc.groups()
            if simple is not None:
                if simple in _SIMPLE_ESCAPES:
                    yield line, col, "\\" + simple, _SIMPLE_ESCAPES[simple], at
                continue  # an escape tomllib refused
            if hex4 or hex8:
                try:
                    yield line, col, esc.group(), chr(int(hex4 or hex8, 16)), at
                except (ValueError, OverflowError):
                    pass
            # else a line-ending backslash


def string_controls(text: str) -> list[tuple[int, int, str, str]]:
    """(line, col, char, escape) of each control character an escape puts into a string.

    Newlines are fine (prose); a TAB typed as itself is fine too (Markdown lays it out):
    what is reported is what the author most likely did not mean.
    """
    return [
        (line, col, ch, escape)
        for line, col, escape, ch, _ in _scan_strings(text)
        if is_control(ch) and ch != "\n"
    ]


def newline_before_latex(text: str) -> list[tuple[int, int, str]]:
    """`\\nabla`, `\\nu`, ... in a double-quoted string: a newline the author did not mean."""
    found = []
    for line, col, escape, _, at in _scan_strings(text):
        if escape != "\\n":
            continue
        word = re.match(r"[A-Za-z]*", text[at + 1 :])
        if word and word.group() in _LATEX_AFTER_N:
            found.append((line, col, word.group()))
    return found


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "str_list": "a list of strings",
    "int_list": "a list of integers",
    "table": "a table",
    "table_list": "a list of tables ([[name]])",
    "any": "a value",
}


@dataclass(frozen=True)
class Key:
    """One allowed key of a TOML table."""

    name: str
    type: str
    required: bool = False


def type_ok(value: Any, type_name: str) -> bool:
    """Whether a TOML value has the named type (booleans are not numbers here)."""
    match type_name:
        case "str":
            return isinstance(value, str)
        case "int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "number":  # TOML's inf and nan are no use as a size, a rate or a value
            return (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
        case "bool":
            return isinstance(value, bool)
        case "str_list":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
        case "int_list":
            return isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            )
        case "table":
            return isinstance(value, dict)
        case "table_list":
            return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return True


@dataclass
class TableReader:
    """Checks one table's keys against a spec, recording problems at their lines."""

    path: Path
    locator: KeyLocator
    problems: ProblemList
    where: str
    table: str = ""
    index: int = 0
    unknown_is_error: bool = False
    """An unknown key is an error (exercises: a misspelt `hints` would silently vanish),
    though one that lets the pack open; elsewhere a warning."""

    def read(self, data: dict[str, Any], keys: list[Key]) -> dict[str, Any]:
        """Return the well-typed values; report missing, mistyped and unknown keys."""
        known = {k.name: k for k in keys}
        out: dict[str, Any] = {}
        for name, value in data.items():
            spec = known.get(name)
            line, col = self.locator.key(name, self.table, self.index)
            if spec is None:
                message = (
                    f"unknown key `{name}` in {self.where} (known keys: "
                    f"{', '.join(sorted(known))}); is it a typo?"
                )
                if self.unknown_is_error:
                    self.problems.error(self.path, line, message, col, opens=True)
                else:
                    self.problems.warning(self.path, line, message, col)
                continue
            if not type_ok(value, spec.type):
                self.problems.error(
                    self.path,
                    line,
                    f"`{name}` in {self.where} must be {_TYPE_NAMES[spec.type]}, "
                    f"not {describe(value)}",
                    col,
                )
                continue
            out[name] = value
        for spec in keys:
            if spec.required and spec.name not in data:
                self.problems.error(
                    self.path,
                    self.locator.table(self.table, self.index),
                    f"{self.where} is missing the required key `{spec.name}`",
                )
        return out

    def at(self, name: str) -> tuple[int, int | None]:
        """The location of a key in this table."""
        return self.locator.key(name, self.table, self.index)

    def error(self, name: str, message: str) -> None:
        """Record an error at a key of this table."""
        line, col = self.at(name)
        self.problems.error(self.path, line, message, col)


def describe(value: Any) -> str:
    """A short, readable description of a TOML value for error messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f'the string "{visible(value[:40])}"'
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value}, which is not a finite number"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
