"""Reading a `program` exercise's block: its header, forward, shapes and targets, checked
for structure (`validate` runs its solution_code against autograd: kinds/program.py)."""

from __future__ import annotations

import re
from typing import Any

from ..tomlspec import TableReader
from .model import Exercise, ProgramExercise

_DIMENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_program(
    values: dict[str, Any], reader: TableReader, common: dict[str, Any]
) -> Exercise | None:
    """A program exercise: its header, forward, shapes and targets checked for structure
    here; `validate` runs its solution_code against autograd (kinds/program.py)."""
    from ..proglang import ProgramError, parse_header, parse_program

    if common["params"]:
        reader.error("params", "program exercises take no [params]: their shapes are drawn")
    try:
        header = parse_header(values["header"])
    except ProgramError as exc:
        reader.error("header", str(exc))
        return None
    shapes: list[tuple[str, tuple[str | int, ...]]] = []
    for name, dims in values["shapes"].items():
        if name not in header.params:
            reader.error("shapes", f"shapes.{name} is not a parameter of `{header.text}`")
            continue
        ok = isinstance(dims, list) and all(
            isinstance(d, str) and _DIMENSION.match(d) or type(d) is int and 1 <= d <= 64
            for d in dims
        )
        if not ok or len(dims) > 4:
            reader.error(
                "shapes",
                f'shapes.{name} must list up to 4 dimensions, each a name ("n") or a whole '
                "number from 1 to 64",
            )
            continue
        shapes.append((name, tuple(dims)))
    try:
        forward = parse_program(header, values["forward"])
    except ProgramError as exc:
        reader.error("forward", f"`forward` does not parse: {exc}")
        return None
    defined = {name for name, _ in shapes} | _assigned(forward)
    for name in header.params:
        if name not in defined:
            reader.error(
                "shapes", f"`{name}` needs a shape in `shapes`, or a value computed by `forward`"
            )
    upstream = []
    for name, expr in values.get("upstream", {}).items():
        if name not in defined or not isinstance(expr, str):
            reader.error("upstream", f"upstream.{name}: a name of `forward` and a text expression")
            continue
        upstream.append((name, expr))
    sets = tuple(values.get("sets", ()))
    returns = values.get("returns")
    if bool(sets) == bool(returns):
        reader.error("sets", 'say what the function gives: `sets = [...]` or `returns = "..."`')
    for target in (*sets, *([returns] if returns else [])):
        base, _, attr = target.partition(".")
        if attr != "g" or base not in header.params:
            reader.error(
                "sets" if sets else "returns",
                f'"{target}" must be the gradient of a parameter, such as "{header.params[0]}.g"',
            )
    return ProgramExercise(
        header=header.text,
        forward=values["forward"],
        shapes=tuple(shapes),
        solution_code=values["solution_code"],
        sets=sets,
        returns=returns,
        upstream=tuple(upstream),
        uses=tuple(values.get("uses", ())),
        **common,
    )


def _assigned(program: Any) -> set[str]:
    import ast

    return {
        s.targets[0].id
        for s in program.body
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
    }
