"""Reading the blocks of a lesson: exercises of every kind, stepper and training blocks.

Each reader checks one block's keys against the schema its dataclass declares
(`keys_of`), records every problem at its line, and builds the frozen model.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from .. import sizes
from ..problems import ProblemList
from ..sizes import NetworkSize
from ..tomlspec import Key, KeyLocator, TableReader, parse_toml
from .fences import FenceCache
from .files import read_text
from .model import (
    EXERCISE_CLASSES,
    EXERCISE_KINDS,
    PRACTICE_FUNCTIONS,
    TENSOR_TARGETS,
    TRAINING_CLASSES,
    TRAINING_METHODS,
    AdalineBlock,
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Feedback,
    LinearBlock,
    Option,
    PracticeExercise,
    ProgramExercise,
    Segment,
    Shapes,
    StepperBlock,
    TensorExercise,
    ValueExercise,
    keys_of,
)
from .parameters import check_parameterized, read_params
from .programs import read_program

SLUG_TEXT = r"^[a-z0-9][a-z0-9-]*$"


def parse_block(
    kind: str,
    content: str,
    fence_line: int,
    path: Path,
    pack_dir: Path,
    problems: ProblemList,
    cache: FenceCache | None = None,
) -> Segment | None:
    """One fenced block, or None when it has errors (nothing later sees a broken block).
    `cache` remembers the parameter trials that passed (see `check_parameterized`)."""
    first = fence_line + 1
    data = parse_toml(content, path, first, problems, f"the {kind} block")
    if data is None:
        return None
    locator = KeyLocator(content, first, fence_line)
    reader = TableReader(path, locator, problems, f"the {kind} block at line {fence_line}")
    reader.unknown_is_error = kind in ("exercise", "practice")
    errors_before = len(problems.blocking)
    if kind == "exercise":
        block: Segment | None = _exercise(data, reader, fence_line, cache)
    elif kind == "practice":
        block = _practice(data, reader, fence_line)
    elif kind == "stepper":
        block = _stepper(data, reader, fence_line)
    else:
        block = _training(data, reader, fence_line, pack_dir)
    return block if len(problems.blocking) == errors_before else None


_KIND_KEY = Key("kind", "str", True)


def _exercise(
    data: dict[str, Any], reader: TableReader, line: int, cache: FenceCache | None
) -> Exercise | None:
    kind = data.get("kind")
    if isinstance(kind, str) and kind not in EXERCISE_KINDS:
        reader.error(
            "kind", f'unknown exercise kind "{kind}"; use one of {", ".join(EXERCISE_KINDS)}'
        )
        return None
    cls = EXERCISE_CLASSES.get(kind) if isinstance(kind, str) else None
    keys = [_KIND_KEY, *keys_of(cls or Exercise)]
    values = reader.read(data, keys)
    if cls is None or not {k.name for k in keys if k.required} <= values.keys():
        return None
    if not re.match(SLUG_TEXT, values["id"]):
        reader.error(
            "id", f'exercise id "{values["id"]}" must be a slug: lowercase letters, digits, -'
        )
    common = dict(
        id=values["id"],
        prompt=values["prompt"],
        hints=tuple(values.get("hints", ())),
        solution=values.get("solution"),
        feedback=_feedback(values.get("feedback", []), reader),
        params=read_params(values.get("params", {}), reader),
        where=tuple(values.get("where", ())),
        line=line,
        key_lines={name: reader.at(name)[0] for name in data},
    )
    if common["where"] and "params" not in values:
        reader.error("where", "`where` restricts parameters, but there is no `[params]` table")
    read = {
        DerivativeExercise: _derivative,
        ValueExercise: _value,
        TensorExercise: _tensor,
        ChoiceExercise: _choice,
        ProgramExercise: read_program,
    }[cls]
    exercise = read(values, reader, common)
    if exercise is not None and exercise.params:
        check_parameterized(exercise, reader, _reserved(exercise), cache)
    return exercise


def _reserved(ex: Exercise) -> dict[str, str]:
    """The names a parameter of this exercise may not take, and what they are."""
    from ..kinds import kind_of  # the kinds import this package's model

    return kind_of(ex).reserved(ex)


def _sub_reader(reader: TableReader, table: str, index: int, where: str) -> TableReader:
    sub = TableReader(reader.path, reader.locator, reader.problems, where, table, index)
    sub.unknown_is_error = reader.unknown_is_error
    return sub


def _feedback(entries: list[dict[str, Any]], reader: TableReader) -> tuple[Feedback, ...]:
    out = []
    keys = keys_of(Feedback)
    for i, entry in enumerate(entries):
        sub = _sub_reader(reader, "feedback", i, f"[[feedback]] number {i + 1}")
        values = sub.read(entry, keys)
        if {"match", "message"} <= values.keys():
            out.append(
                Feedback(values["match"], values["message"], sub.at("match")[0], values.get("id"))
            )
    return tuple(out)


def _derivative(values: dict[str, Any], reader: TableReader, common: dict[str, Any]) -> Exercise:
    domain = []
    for var, rng in values.get("domain", {}).items():
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
        )
        line, col = reader.locator.key(var, "domain")
        if not ok:
            reader.problems.error(
                reader.path, line, f"domain of `{var}` must be a pair [lo, hi] of numbers", col
            )
        elif not rng[0] < rng[1]:
            reader.problems.error(
                reader.path,
                line,
                f"domain of `{var}` is empty: {rng[0]} is not below {rng[1]}",
                col,
            )
        else:
            domain.append((var, float(rng[0]), float(rng[1])))
    return DerivativeExercise(
        function=values["function"],
        wrt=values["wrt"].strip(),
        answer=values.get("answer"),
        domain=tuple(domain),
        **common,
    )


def _as_numbers(value: Any) -> tuple[Any, list[int]] | None:
    """A number or rectangular nested list of numbers as floats/tuples, with its shape."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), []
    if isinstance(value, list) and value:
        items = [_as_numbers(v) for v in value]
        if any(i is None for i in items):
            return None
        shapes = {tuple(i[1]) for i in items}  # type: ignore[index]
        if len(shapes) != 1:
            return None
        return tuple(i[0] for i in items), [len(items), *items[0][1]]  # type: ignore[index]
    return None


def _value(values: dict[str, Any], reader: TableReader, common: dict[str, Any]) -> Exercise | None:
    given = []
    for name, raw in values.get("given", {}).items():
        line, col = reader.locator.key(name, "given")
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name) or "__" in name:
            reader.problems.error(reader.path, line, f"`{name}` is not a usable tensor name", col)
            continue
        parsed = _as_numbers(raw)
        if parsed is None:
            reader.problems.error(
                reader.path,
                line,
                f"given `{name}` must be a number or a rectangular list of numbers",
                col,
            )
            continue
        size = 1
        for dim in parsed[1]:
            size *= dim
        if size > sizes.MAX_GIVEN_ELEMENTS:
            reader.problems.error(
                reader.path,
                line,
                f"given `{name}` has {size} numbers; at most {sizes.MAX_GIVEN_ELEMENTS}",
            )
            continue
        given.append((name, parsed[0]))
    written = [*values.get("given", {}), *(p.name for p in common["params"])]
    names = [g[0] for g in given] + [p.name for p in common["params"]]
    if not written:
        reader.error(
            "compute", "a value exercise needs `given` values or `[params]` to compute from"
        )
    requires = values.get("requires_grad", names)
    for name in requires:
        if name not in written:
            reader.error(
                "requires_grad",
                f"requires_grad names `{name}`, which is not in `given`"
                + (" or `[params]`" if common["params"] else ""),
            )
    ask = values["ask"].strip()
    if ask != "value":
        leaf = ask.removesuffix(".grad")
        if not ask.endswith(".grad") or leaf not in written:
            where = "`given` or `[params]`" if common["params"] else "`given`"
            reader.error(
                "ask",
                f'ask = "{ask}" names nothing in {where}; use "value" or "NAME.grad" '
                f"with NAME one of: {', '.join(written) or '(none)'}",
            )
        elif leaf not in requires:
            reader.error("ask", f'ask = "{ask}" but `{leaf}` is not in requires_grad')
    tolerance = float(values.get("tolerance", 1e-6))
    if tolerance <= 0:
        reader.error("tolerance", "tolerance must be positive")
    return ValueExercise(
        given=tuple(given),
        requires_grad=tuple(r for r in requires if r in names),
        compute=values["compute"],
        ask=ask,
        tolerance=tolerance,
        **common,
    )


def _tensor(values: dict[str, Any], reader: TableReader, common: dict[str, Any]) -> Exercise:
    target = values["target"].strip()
    if target not in TENSOR_TARGETS:
        reader.error("target", f'target "{target}" is not one of: {", ".join(TENSOR_TARGETS)}')
    chosen = {}
    shape_reader = _sub_reader(reader, "shapes", 0, "`shapes`")
    shape_values = shape_reader.read(values.get("shapes", {}), keys_of(Shapes))
    for name, size in shape_values.items():
        if size < 1:
            shape_reader.error(name, f"shapes.{name} must be at least 1, not {size}")
        else:
            chosen[name] = size
    shapes = Shapes(**chosen)
    largest = max(shapes.n * shapes.d_in, shapes.d_in * shapes.hidden, shapes.n * shapes.hidden)
    if largest > sizes.MAX_TENSOR_ELEMENTS:
        reader.error(
            "shapes",
            f"shapes make a tensor of {largest} numbers; at most {sizes.MAX_TENSOR_ELEMENTS}",
        )
    return TensorExercise(
        target=target,
        answer=values.get("answer"),
        shapes=shapes,
        seed=values.get("seed", 0),
        **common,
    )


def _choice(values: dict[str, Any], reader: TableReader, common: dict[str, Any]) -> Exercise:
    options = []
    keys = keys_of(Option)
    for i, entry in enumerate(values["option"]):
        sub = _sub_reader(reader, "option", i, f"[[option]] number {i + 1}")
        opt = sub.read(entry, keys)
        if "text" in opt:
            line = reader.locator.table("option", i)
            options.append(Option(opt["text"], opt.get("correct", False), opt.get("why"), line))
    if len(values["option"]) < 2:
        reader.error("option", "a choice exercise needs at least two [[option]] tables")
    elif not any(o.correct for o in options):
        reader.error("option", "no option is marked `correct = true`")
    return ChoiceExercise(options=tuple(options), **common)


_PRACTICE_KEYS = [
    Key("id", "str", True),
    Key("functions", "str_list", True),
    Key("depth", "int_list"),
    Key("streak", "int"),
]


def _practice(data: dict[str, Any], reader: TableReader, line: int) -> PracticeExercise | None:
    values = reader.read(data, _PRACTICE_KEYS)
    if not {"id", "functions"} <= values.keys():
        return None
    if not re.match(SLUG_TEXT, values["id"]):
        reader.error(
            "id", f'practice id "{values["id"]}" must be a slug: lowercase letters, digits, -'
        )
    functions = values["functions"]
    unknown = [f for f in functions if f not in PRACTICE_FUNCTIONS]
    if unknown or not functions:
        reader.error(
            "functions",
            f"`functions` must list some of {', '.join(PRACTICE_FUNCTIONS)}"
            + (f"; `{unknown[0]}` is not one of them" if unknown else ""),
        )
    depth = values.get("depth", [1, 3])
    if len(depth) != 2 or not 1 <= depth[0] <= depth[1] <= sizes.MAX_PRACTICE_DEPTH:
        reader.error(
            "depth",
            f"`depth` must be [lowest, highest] with 1 <= lowest <= highest <= "
            f"{sizes.MAX_PRACTICE_DEPTH}",
        )
    streak = values.get("streak", 5)
    if not 1 <= streak <= 100:
        reader.error("streak", "`streak` must be from 1 to 100")
    return PracticeExercise(
        id=values["id"],
        prompt="",
        functions=tuple(dict.fromkeys(functions)),
        depth=(depth[0], depth[1]) if len(depth) == 2 else (1, 3),
        streak=streak,
        line=line,
        key_lines={name: reader.at(name)[0] for name in data},
    )


_STEPPER_KEYS = (Key("manual", "str", False), Key("uses", "str_list", False))
LEARNER_FUNCTIONS = ("mse_grad", "relu_grad", "lin_grad")
"""What a stepper with `manual = "learner"` calls, each from the exercise that defines it."""


def _stepper(data: dict[str, Any], reader: TableReader, line: int) -> StepperBlock | None:
    values = reader.read(data, [*keys_of(NetworkSize), *_STEPPER_KEYS])
    manual = values.pop("manual", "reference")
    uses = tuple(values.pop("uses", ()))
    size = NetworkSize(**values)
    problems = size.problems()
    for name, message in problems.items():
        reader.error(name if name in data else "n", message)
    if manual not in ("reference", "learner"):
        reader.error("manual", f'manual = "{manual}": use "reference" or "learner"')
        return None
    if manual == "learner" and not uses:
        reader.error(
            "manual",
            'manual = "learner" needs `uses`: the program exercises of '
            + ", ".join(LEARNER_FUNCTIONS),
        )
        return None
    return None if problems else StepperBlock(line=line, size=size, manual=manual, uses=uses)


_MODEL_KEY = Key("model", "str", True)


def _training(
    data: dict[str, Any], reader: TableReader, line: int, pack_dir: Path
) -> AdalineBlock | LinearBlock | None:
    model = data.get("model")
    if isinstance(model, str) and model not in TRAINING_CLASSES:
        reader.error("model", f'unknown model "{model}"; use "adaline" or "linear"')
        return None
    cls = TRAINING_CLASSES.get(model) if isinstance(model, str) else None
    keys = [_MODEL_KEY, *keys_of(cls or AdalineBlock)] if cls else [_MODEL_KEY]
    errors_before = len(reader.problems.errors)
    values = reader.read(data, keys)
    if not {k.name for k in keys if k.required} <= values.keys():
        return None
    for key, ceiling in (
        ("epochs", sizes.MAX_EPOCHS),
        ("batch", 10**9),
        ("steps", sizes.MAX_STEPS),
    ):
        if key in values and not 1 <= values[key] <= ceiling:
            reader.error(key, f"`{key}` must be from 1 to {ceiling:,}, not {values[key]:,}")
    for key, check in (("lr", sizes.lr_problem), ("seed", sizes.seed_problem)):
        message = check(values[key]) if key in values else None
        if message:
            reader.error(key, message)
    for key in ("start", "stop", "step", "slope", "noise", "w0", "b0"):
        if key in values and abs(values[key]) > sizes.MAX_MAGNITUDE:
            reader.error(
                key, f"`{key}` must be within ±{sizes.MAX_MAGNITUDE:g}, not {values[key]:g}"
            )
    values.pop("model", None)
    if cls is None or len(reader.problems.errors) > errors_before:
        return None
    if cls is AdalineBlock:
        return _adaline(values, reader, line, pack_dir)
    return _linear(values, reader, line)


_FLOATS = {"lr", "start", "stop", "step", "slope", "noise", "w0", "b0", "test_fraction"}


def _floats(values: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if k in _FLOATS else v for k, v in values.items()}


def _linear(values: dict[str, Any], reader: TableReader, line: int) -> LinearBlock | None:
    block = LinearBlock(line=line, **_floats(values))
    if block.step <= 0:
        reader.error("step", "`step` must be positive")
        return None
    if block.start >= block.stop:
        reader.error("start", "`start` must be below `stop`")
        return None
    points = math.ceil((block.stop - block.start) / block.step)
    if points > sizes.MAX_POINTS:
        reader.error(
            "step",
            f"from `start` to `stop` by `step` makes {points:,} points; at most {sizes.MAX_POINTS:,}",
        )
        return None
    if points * block.steps > sizes.MAX_POINT_STEPS:
        reader.error(
            "steps",
            f"{points:,} points × {block.steps:,} steps is too long a run for the tutor "
            f"(at most {sizes.MAX_POINT_STEPS:,})",
        )
        return None
    return block


def _adaline(
    values: dict[str, Any], reader: TableReader, line: int, pack_dir: Path
) -> AdalineBlock | None:
    data_path = pack_dir / values["data"]
    if not data_path.resolve().is_relative_to(pack_dir.resolve()):
        reader.error("data", "`data` must name a file inside the pack")
        return None
    if not data_path.is_file():
        reader.error("data", f'data file "{values["data"]}" does not exist in the pack')
        return None
    rows = _read_csv(data_path, pack_dir, reader.problems)
    if rows is None:
        return None
    if not rows:
        reader.error("data", f'data file "{values["data"]}" is not a readable CSV with a header')
        return None
    header = [h.strip() for h in rows[0][1]]
    missing = [c for c in (*values["features"], values["target"]) if c not in header]
    if missing:
        reader.error("features", f"columns not in {values['data']}: {', '.join(missing)}")
        return None
    classes = values["classes"]
    if len(classes) != 2:
        reader.error("classes", "ADALINE needs exactly two classes")
        return None
    target = header.index(values["target"])
    features = [header.index(f) for f in values["features"]]
    used = [(n, r) for n, r in rows[1:] if len(r) > target and r[target].strip() in classes]
    absent = [c for c in classes if not any(r[target].strip() == c for _, r in used)]
    if absent:
        reader.error("classes", f"no row of {values['data']} has {values['target']} = {absent[0]}")
        return None
    for lineno, row in used:
        for col in features:
            cell = row[col].strip() if len(row) > col else ""
            try:
                ok = math.isfinite(float(cell))
            except ValueError:
                ok = False
            if not ok:
                reader.problems.error(
                    data_path,
                    lineno,
                    f'the {header[col]} of this {row[target].strip()} row is "{cell}", not a number',
                )
                return None
    bad = [m for m in values.get("methods", ()) if m not in TRAINING_METHODS]
    if bad:
        reader.error("methods", f'unknown method "{bad[0]}"; use {", ".join(TRAINING_METHODS)}')
        return None
    fraction = float(values.get("test_fraction", 0.3))
    if not 0 <= fraction < 1:
        reader.error("test_fraction", "`test_fraction` must be at least 0 and below 1")
        return None
    train_rows = len(used) - int(round(fraction * len(used)))
    batch = values.get("batch", 10)
    updates = values.get("epochs", 20) * max(1, math.ceil(train_rows / batch))
    if updates > sizes.MAX_UPDATES:
        reader.error(
            "epochs",
            f"{updates:,} minibatch updates per method ({train_rows} rows in batches of {batch}); "
            f"at most {sizes.MAX_UPDATES:,}: fewer epochs or larger batches",
        )
        return None
    values = dict(values)
    values["data"] = data_path.resolve()
    for key in ("features", "classes", "methods"):
        if key in values:
            values[key] = tuple(values[key])
    return AdalineBlock(line=line, **_floats(values))


def _read_csv(
    path: Path, pack_dir: Path, problems: ProblemList
) -> list[tuple[int, list[str]]] | None:
    """The rows of a data file with their line numbers; None (reported) when unreadable."""
    text = read_text(path, problems, sizes.MAX_DATA_BYTES, pack_dir)
    if text is None:
        return None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        problems.error(path, 1, f"not a readable CSV file: {exc}")
        return None
