"""Problems found in a pack: one per line of `gradtutor validate` output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .text import visible

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One error or warning, located as precisely as the loader knows."""

    path: Path
    line: int | None
    col: int | None
    severity: Severity
    message: str
    opens: bool = False
    """An error that does not keep the pack from opening (an unknown key: the tutor lists
    it beside the pack; `validate` still fails on it)."""

    def location(self) -> str:
        """`FILE`, `FILE:LINE` or `FILE:LINE:COL`, with FILE relative to the cwd when shorter."""
        text = visible(display_path(self.path))
        if self.line is not None:
            text += f":{self.line}"
            if self.col is not None:
                text += f":{self.col}"
        return text

    def format(self) -> str:
        """The compiler-style line: `FILE:LINE:COL: error: MESSAGE`."""
        return f"{self.location()}: {self.severity}: {visible(self.message)}"

    def to_json(self) -> dict[str, object]:
        """A plain dict for `--json` output."""
        return {
            "file": visible(display_path(self.path)),
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": visible(self.message),
        }


def display_path(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


class ProblemList(list[Problem]):
    """A list of problems with helpers to add them."""

    def error(
        self,
        path: Path,
        line: int | None,
        message: str,
        col: int | None = None,
        opens: bool = False,
    ) -> None:
        """Record an error (`opens`: one that does not keep the pack from opening)."""
        self.append(Problem(path, line, col, "error", message, opens))

    def warning(self, path: Path, line: int | None, message: str, col: int | None = None) -> None:
        """Record a warning."""
        self.append(Problem(path, line, col, "warning", message))

    @property
    def errors(self) -> list[Problem]:
        """Only the errors."""
        return [p for p in self if p.severity == "error"]

    @property
    def blocking(self) -> list[Problem]:
        """The errors that keep a block, a lesson or the pack from loading."""
        return [p for p in self if p.severity == "error" and not p.opens]

    @property
    def warnings(self) -> list[Problem]:
        """Only the warnings."""
        return [p for p in self if p.severity == "warning"]
