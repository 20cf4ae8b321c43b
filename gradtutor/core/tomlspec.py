"""Typed reading of TOML tables with line-accurate problems.

`tomllib` gives values but no positions, so `KeyLocator` scans the source text for
`key = ...` lines and table headers; that is enough to point an instructor at the line
of a missing, mistyped or unknown key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import ProblemList

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
        table, index = "", 0
        counts: dict[str, int] = {}
        for offset, line in enumerate(text.splitlines()):
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

    def table(self, table: str = "", index: int = 0) -> int:
        """The line of a table's header; for the root, `root_line` (a block's fence)."""
        if not table:
            return self.root_line
        return self._headers.get((table, index), self.root_line)


def parse_toml(
    text: str, path: Path, first_line: int, problems: ProblemList, what: str
) -> dict[str, Any] | None:
    """Parse TOML, turning a syntax error into a located problem; None on failure."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        pos = _TOML_POS.search(message)
        line, col = first_line, None
        if pos:
            line = first_line + int(pos.group(1)) - 1
            col = int(pos.group(2))
            message = message[: pos.start()].strip()
        problems.error(path, line, f"{what} is not valid TOML: {message}", col)
        return None


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "str_list": "a list of strings",
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
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "bool":
            return isinstance(value, bool)
        case "str_list":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
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

    def read(self, data: dict[str, Any], keys: list[Key]) -> dict[str, Any]:
        """Return the well-typed values; report missing, mistyped and unknown keys."""
        known = {k.name: k for k in keys}
        out: dict[str, Any] = {}
        for name, value in data.items():
            spec = known.get(name)
            line, col = self.locator.key(name, self.table, self.index)
            if spec is None:
                self.problems.warning(
                    self.path,
                    line,
                    f"unknown key `{name}` in {self.where} (known keys: "
                    f"{', '.join(sorted(known))}); is it a typo?",
                    col,
                )
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
        return f'the string "{value[:40]}"'
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
