"""Reading `[params]` and `where`, and checking a parameterized exercise when it loads.

Structure only, and quick: each draw is well formed, names shadow nothing, `where` and
every `{{ EXPR }}` parse over the parameters, `where` accepts enough draws, and a few
draws render every text. `gradtutor validate` then checks 50 variants against autograd
(authoring.py).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterator
from typing import Any

from .. import paramlang, sizes, tensorlang
from ..mathlang.functions import CONSTANTS, NAMES
from ..params import DrawError, acceptance, draw
from ..sizes import MAX_PARAM_SOURCE_CHARS, MAX_WHERE_CONDITIONS
from ..tomlspec import TableReader
from .fences import FenceCache
from .model import Exercise, Param

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FORMS = ("int", "real", "choose")
_KEYS = {*FORMS, "not", "shape", "digits"}
TRIAL_DRAWS = 20


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def read_params(raw: Any, reader: TableReader) -> tuple[Param, ...]:
    """The `[params]` table as Params, in the order written; problems at their keys."""
    if not isinstance(raw, dict):
        return ()
    out = []
    if len(raw) > sizes.MAX_PARAMS:
        reader.error("params", f"{len(raw)} parameters; at most {sizes.MAX_PARAMS}")
        return ()
    for name, spec in raw.items():
        line, col = reader.locator.key(name, "params")
        problem = _param_problem(name, spec)
        if problem is not None:
            reader.problems.error(reader.path, line, f"parameter `{name}`: {problem}", col)
            continue
        out.append(_param(name, spec, line))
    return tuple(out)


def _param_problem(name: str, spec: Any) -> str | None:
    if not NAME.match(name) or "__" in name:
        return "a parameter name is a letter followed by letters, digits or _"
    if not isinstance(spec, dict):
        return "write it as a table, such as `{ int = [2, 9] }`"
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        return f"unknown key `{unknown[0]}` (known: int, real, choose, not, shape, digits)"
    forms = [f for f in FORMS if f in spec]
    if len(forms) != 1:
        return "give exactly one of `int = [lo, hi]`, `real = [lo, hi]`, `choose = [...]`"
    form, value = forms[0], spec[forms[0]]
    if form == "choose":
        if not isinstance(value, list) or not value or not all(_number(v) for v in value):
            return "`choose` must be a non-empty list of numbers"
    elif not (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)):
        return f"`{form}` must be a pair [lo, hi] of numbers"
    elif form == "int" and not all(isinstance(v, int) for v in value):
        return "`int` bounds must be whole numbers (for decimals use `real`)"
    elif value[0] > value[1] or (form == "real" and value[0] == value[1]):
        return f"the range [{value[0]}, {value[1]}] is empty"
    bounds = value if form != "choose" else [min(value), max(value)]
    if max(abs(b) for b in bounds) > sizes.MAX_PARAM_MAGNITUDE:
        return f"draws must lie within ±{sizes.MAX_PARAM_MAGNITUDE:g}"
    digits = spec.get("digits", 1)
    if "digits" in spec and form != "real":
        return "`digits` goes with `real` only"
    if type(digits) is not int or not 0 <= digits <= 10:
        return "`digits` must be a whole number from 0 to 10"
    excluded = spec.get("not", [])
    if not isinstance(excluded, list) or not all(_number(v) for v in excluded):
        return "`not` must be a list of numbers"
    if form == "int" and value[1] - value[0] < 10_000:
        if set(range(value[0], value[1] + 1)) <= set(excluded):
            return "`not` excludes every value of the range"
    if form == "choose" and set(value) <= set(excluded):
        return "`not` excludes every value of `choose`"
    shape = spec.get("shape", [])
    if not (
        isinstance(shape, list)
        and len(shape) <= 2
        and all(type(d) is int and d >= 1 for d in shape)
    ):
        return "`shape` must be [k] or [rows, cols] with whole numbers from 1"
    if math.prod(shape) > sizes.MAX_PARAM_ELEMENTS:
        return (
            f"`shape` {shape} makes {math.prod(shape)} numbers; at most "
            f"{sizes.MAX_PARAM_ELEMENTS} (a prompt shows them all)"
        )
    return None


def _param(name: str, spec: dict[str, Any], line: int) -> Param:
    form = next(f for f in FORMS if f in spec)
    value = spec[form]
    return Param(
        name=name,
        form=form,
        low=value[0] if form != "choose" else 0,
        high=value[1] if form != "choose" else 0,
        digits=spec.get("digits", 1),
        choices=tuple(value) if form == "choose" else (),
        exclude=tuple(spec.get("not", ())),
        shape=tuple(spec.get("shape", ())),
        line=line,
    )


def texts_of(ex: Exercise) -> Iterator[tuple[str, str]]:
    """(key, text) of every text field in which `{{ EXPR }}` is replaced."""
    yield "prompt", ex.prompt
    for hint in ex.hints:
        yield "hints", hint
    if ex.solution is not None:
        yield "solution", ex.solution
    for fb in ex.feedback:
        yield "feedback", fb.message
    from ..kinds import kind_of  # the kinds import this package's model

    yield from kind_of(ex).texts(ex)


def check_parameterized(
    ex: Exercise, reader: TableReader, reserved: dict[str, str], cache: FenceCache | None = None
) -> None:
    """Report what is wrong with an exercise's parameters, at FILE:LINE:COL.

    `reserved` maps the names a parameter may not take to what they are ("a given
    name", "the variable x is differentiated by", ...)."""
    names = frozenset(p.name for p in ex.params)
    for p in ex.params:
        what = reserved.get(p.name)
        if what is None and p.name in NAMES:
            what = "a function of the math language"
        if what is None and (p.name in CONSTANTS or p.name in tensorlang.FUNCTIONS):
            what = "a constant" if p.name in CONSTANTS else "a function of the tensor language"
        if what is not None:
            line, col = reader.locator.key(p.name, "params")
            reader.problems.error(
                reader.path, line, f"parameter `{p.name}` shadows {what}; rename it", col
            )
    if _over_limits(ex, reader):
        return
    for condition in ex.where:
        try:
            paramlang.parse(condition, names)
        except tensorlang.TensorLangError as exc:
            _located(reader, "where", condition, f"`where` condition `{condition}`: {exc}")
            return
    broken = False
    for key, text in texts_of(ex):
        for _, expr in paramlang.substitutions(text):
            try:
                paramlang.parse(expr, names)
            except tensorlang.TensorLangError as exc:
                # the column inside the braces means little here: the problem is located
                why = re.sub(r" \(column \d+\)$", "", str(exc))
                _located(reader, key, "{{" + expr + "}}", f"`{{{{{expr.strip()}}}}}`: {why}")
                broken = True
    if broken or len(reader.problems.blocking):
        return
    # The trial is a pure function of the exercise (its draws are seeded): one that
    # passed before need not be drawn again at every start (`validate` always draws).
    key = hashlib.sha1(f"trial {TRIAL_DRAWS} {sizes.MIN_WHERE_RATE}\0{ex!r}".encode()).hexdigest()
    if cache is not None and cache.passed(key):
        return
    before = len(reader.problems.blocking)
    _trial(ex, reader)
    if cache is not None and len(reader.problems.blocking) == before:
        cache.remember_passed(key)


def _over_limits(ex: Exercise, reader: TableReader) -> bool:
    """Report `where` conditions and `{{ }}` expressions past their limits (each is
    evaluated for every draw, in every session that loads the pack)."""
    if len(ex.where) > MAX_WHERE_CONDITIONS:
        reader.error(
            "where",
            f"`where` has {len(ex.where)} conditions; at most {MAX_WHERE_CONDITIONS} "
            "(join conditions with `and` only where they belong together)",
        )
        return True
    sources = list(ex.where) + [
        e for _, text in texts_of(ex) for _, e in paramlang.substitutions(text)
    ]
    total = sum(len(s) for s in sources)
    if total > MAX_PARAM_SOURCE_CHARS:
        reader.error(
            "where" if ex.where else "prompt",
            f"the `where` conditions and `{{{{ }}}}` expressions of this exercise have "
            f"{total:,} characters; at most {MAX_PARAM_SOURCE_CHARS:,}",
        )
        return True
    return False


def _trial(ex: Exercise, reader: TableReader) -> None:
    rng = random.Random(0)
    try:
        rate = acceptance(ex.params, ex.where, rng)
    except tensorlang.TensorLangError as exc:
        reader.error("where", f"`where` cannot be computed for a draw: {exc}")
        return
    if rate < sizes.MIN_WHERE_RATE:
        reader.error(
            "where",
            f"`where` (almost) never holds: {rate:.1%} of 400 draws pass; widen the ranges "
            "or loosen the conditions",
        )
        return
    for _ in range(TRIAL_DRAWS):
        try:
            values = draw(ex.params, ex.where, rng)
        except DrawError as exc:
            reader.error("params", str(exc))
            return
        for key, text in texts_of(ex):
            try:
                paramlang.render(text, values)
            except tensorlang.TensorLangError as exc:
                shown = ", ".join(f"{k} = {paramlang.format_value(v)}" for k, v in values.items())
                reader.error(key, f"a `{{{{ }}}}` in `{key}` cannot be computed for {shown}: {exc}")
                return


def _located(reader: TableReader, key: str, fragment: str, message: str) -> None:
    line, col = reader.at(key)
    found = reader.locator.find(fragment, line)
    if found is not None:
        line, col = found
    reader.problems.error(reader.path, line, message, col)
