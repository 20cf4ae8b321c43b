"""The pack linter behind `gradtutor validate`.

Structure first (everything the loader finds: keys, types, slugs, ids, `requires`,
files, encodings, format versions), then, unless `deep=False`, the checks that need the
answer checker: every expression parses in its language and every answer key agrees with
autograd (see `gradtutor.core.authoring`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .packs import Pack, load_pack
from .problems import Problem, ProblemList


@dataclass
class ValidationReport:
    """The packs that loaded and every problem found, in file and line order."""

    packs: list[Pack] = field(default_factory=list)
    problems: ProblemList = field(default_factory=ProblemList)

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not self.problems.errors


def validate_packs(directories: Iterable[Path | str], deep: bool = True) -> ValidationReport:
    """Validate each pack directory; pack ids must be unique across them."""
    report = ValidationReport()
    seen: dict[str, Path] = {}
    for directory in directories:
        result = load_pack(directory)
        problems = ProblemList(result.problems)
        pack = result.pack
        if pack is not None:
            if pack.id in seen:
                problems.error(
                    Path(directory) / "pack.toml",
                    1,
                    f'pack id "{pack.id}" is already used by the pack in {seen[pack.id]}',
                )
            seen.setdefault(pack.id, Path(directory))
            if deep:
                from .authoring import check_pack_content  # heavy: torch and sympy

                problems.extend(check_pack_content(pack))
            report.packs.append(pack)
        report.problems.extend(sorted(problems, key=_order))
    return report


def _order(problem: Problem) -> tuple[str, int, int]:
    return (str(problem.path), problem.line or 0, problem.col or 0)
