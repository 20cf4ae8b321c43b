"""The pack model: frozen dataclasses, each its own schema.

A field that a pack sets carries its TOML type in its metadata (`toml("str")`), so the
loader derives the keys it accepts, their types and which are required (a field
without a default) from the classes themselves, as rustlings' `ExerciseInfo` is both
its type and its schema.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..outline import BrokenPack as BrokenPack  # re-exported: the browser lists them before a load
from ..outline import lesson_titles
from ..problems import ProblemList
from ..sizes import NetworkSize
from ..tomlspec import Key

FORMAT_VERSION = 1
FORMAT_PARAMS = 2
"""The pack format that parameters and practice blocks need (`format = 2`)."""
FORMAT_PROGRAMS = 3
"""The pack format that program exercises need (`format = 3`)."""
LATEST_FORMAT = 3


def toml(type_name: str, key: str | None = None) -> Mapping[str, str]:
    """Field metadata: the field is set from a pack, as a TOML value of this type."""
    return {"toml": type_name, "key": key or ""}


def keys_of(cls: type) -> list[Key]:
    """The TOML keys a dataclass reads: its fields marked with `toml()`, in order."""
    return list(_keys_of(cls))


@functools.lru_cache(maxsize=64)
def _keys_of(cls: type) -> tuple[Key, ...]:
    keys = []
    for f in dataclasses.fields(cls):
        if "toml" not in f.metadata:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        keys.append(Key(f.metadata["key"] or f.name, f.metadata["toml"], required))
    return tuple(keys)


# ----------------------------------------------------------------------------- exercises


@dataclass(frozen=True)
class Feedback:
    """An authored typical wrong answer and the message shown when a learner gives it."""

    match: str = field(metadata=toml("str"))
    message: str = field(metadata=toml("str"))
    line: int = 0
    id: str | None = field(default=None, metadata=toml("str"))
    """A stable name for the mistake, for the instructor's report (default: the match)."""

    @property
    def key(self) -> str:
        """What the report groups the learners' mistakes by: `feedback:ID`."""
        return "feedback:" + (self.id or " ".join(self.match.split()))


@dataclass(frozen=True)
class Param:
    """One `[params]` entry: how a number (or a vector or matrix of them) is drawn."""

    name: str
    form: str
    """`int`, `real` or `choose`."""
    low: float = 0
    high: float = 0
    digits: int = 1
    """Decimal places of a `real` draw."""
    choices: tuple[int | float, ...] = ()
    exclude: tuple[int | float, ...] = ()
    """`not = [...]`: values never drawn."""
    shape: tuple[int, ...] = ()
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class Exercise:
    """What every exercise kind has. `KIND` names the kind, one per subclass."""

    KIND: ClassVar[str] = ""

    id: str = field(metadata=toml("str"))
    prompt: str = field(metadata=toml("str"))
    hints: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    solution: str | None = field(default=None, metadata=toml("str"))
    feedback: tuple[Feedback, ...] = field(default=(), metadata=toml("table_list"))
    params: tuple[Param, ...] = field(default=(), metadata=toml("table"))
    """Numbers drawn per variant (LESSON_FORMAT.md, Parameters), in the order written."""
    where: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    """Conditions on the parameters; a draw that breaks one is drawn again."""
    line: int = 0
    """The line of the opening fence."""
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    """Where each top-level key is set, for problems found after loading."""
    pack_id: str = field(default="", compare=False)
    lesson_id: str = field(default="", compare=False)

    @property
    def kind(self) -> str:
        """`derivative`, `value`, `tensor` or `choice`."""
        return self.KIND

    @property
    def address(self) -> str:
        """`PACK/LESSON/EXERCISE`: what variants are drawn from."""
        return f"{self.pack_id}/{self.lesson_id}/{self.id}"

    def line_of(self, key: str) -> int:
        """The line of a key, or the fence when it is not set explicitly."""
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True, kw_only=True)
class DerivativeExercise(Exercise):
    """Differentiate `function` by `wrt`; the learner answers in the math language."""

    KIND: ClassVar[str] = "derivative"

    function: str = field(metadata=toml("str"))
    wrt: str = field(metadata=toml("str"))
    answer: str | None = field(default=None, metadata=toml("str"))
    domain: tuple[tuple[str, float, float], ...] = field(default=(), metadata=toml("table"))

    def domain_of(self, var: str) -> tuple[float, float]:
        """The sampling range of a variable; [-2, 2] unless the author set one."""
        for name, lo, hi in self.domain:
            if name == var:
                return lo, hi
        return -2.0, 2.0


@dataclass(frozen=True, kw_only=True)
class ValueExercise(Exercise):
    """A number or small tensor that autograd computes from `given`."""

    KIND: ClassVar[str] = "value"

    given: tuple[tuple[str, Any], ...] = field(default=(), metadata=toml("table"))
    """Pairs of name and value: a float or nested tuples of floats."""
    requires_grad: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    compute: str = field(metadata=toml("str"))
    ask: str = field(metadata=toml("str"))
    tolerance: float = field(default=1e-6, metadata=toml("number"))


@dataclass(frozen=True)
class Shapes:
    """Sizes of the lesson network in a tensor exercise."""

    n: int = field(default=8, metadata=toml("int"))
    d_in: int = field(default=4, metadata=toml("int"))
    hidden: int = field(default=5, metadata=toml("int"))


NETWORK_NAMES = ("x", "w1", "b1", "l1", "l2", "w2", "b2", "out", "y", "out_g", "l2_g", "l1_g")
"""The names a tensor answer may use."""
TENSOR_TARGETS = (
    "w1.grad",
    "b1.grad",
    "w2.grad",
    "b2.grad",
    "x.grad",
    "out.g",
    "l2.g",
    "l1.g",
)


@dataclass(frozen=True, kw_only=True)
class TensorExercise(Exercise):
    """A gradient formula over the lesson network's tensors."""

    KIND: ClassVar[str] = "tensor"

    target: str = field(metadata=toml("str"))
    answer: str | None = field(default=None, metadata=toml("str"))
    shapes: Shapes = field(default=Shapes(), metadata=toml("table"))
    seed: int = field(default=0, metadata=toml("int"))


@dataclass(frozen=True)
class Option:
    """One option of a choice exercise."""

    text: str = field(metadata=toml("str"))
    correct: bool = field(default=False, metadata=toml("bool"))
    why: str | None = field(default=None, metadata=toml("str"))
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class ChoiceExercise(Exercise):
    """A conceptual question; the learner picks an option (numbered from 1)."""

    KIND: ClassVar[str] = "choice"

    options: tuple[Option, ...] = field(metadata=toml("table_list", key="option"))


@dataclass(frozen=True)
class LibraryFunction:
    """A function a program exercise may call: an earlier program exercise of the pack
    (its `solution_code` runs where the learner has no accepted program of their own)."""

    exercise: str
    """The address `PACK/LESSON/EXERCISE` of the exercise that defines it."""
    header: str
    solution_code: str


@dataclass(frozen=True, kw_only=True)
class ProgramExercise(Exercise):
    """The learner writes a function's body; it runs (walked, never as Python) on shapes
    of our choosing and its gradients are compared with autograd's (LESSON_FORMAT.md)."""

    KIND: ClassVar[str] = "program"

    header: str = field(metadata=toml("str"))
    forward: str = field(metadata=toml("str"))
    shapes: tuple[tuple[str, tuple[str | int, ...]], ...] = field(metadata=toml("table"))
    """Each argument's dimensions, named (drawn at check time) or literal."""
    solution_code: str = field(metadata=toml("str"))
    sets: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    returns: str | None = field(default=None, metadata=toml("str"))
    upstream: tuple[tuple[str, str], ...] = field(default=(), metadata=toml("table"))
    uses: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    library: tuple[LibraryFunction, ...] = ()
    """The functions of `uses`, resolved by the loader (not a key of the file)."""

    @property
    def targets(self) -> tuple[str, ...]:
        """The gradients compared: `sets`, or the one `returns` names."""
        return self.sets or ((self.returns,) if self.returns else ())


PRACTICE_FUNCTIONS = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "power", "sqrt")
"""What a practice block may compose (`power` is u^n for n = 2 or 3)."""


@dataclass(frozen=True, kw_only=True)
class PracticeExercise(Exercise):
    """A practice block: generated chain-rule exercises whose depth follows the learner.

    It counts as one exercise of its lesson, solved at a streak of right answers at the
    top depth. Variant k is the k-th generated exercise, at depth
    `depth[0] + k % (depth[1] - depth[0] + 1)`.
    """

    KIND: ClassVar[str] = "practice"

    functions: tuple[str, ...] = field(metadata=toml("str_list"))
    depth: tuple[int, int] = field(default=(1, 3), metadata=toml("int_list"))
    streak: int = field(default=5, metadata=toml("int"))

    def depth_of(self, k: int) -> int:
        """The depth of the k-th generated exercise."""
        low, high = self.depth
        return low + k % (high - low + 1)

    def variant_at(self, depth: int, draw: int) -> int:
        """The variant number of a learner's draw at a given depth (see `depth_of`)."""
        low, high = self.depth
        return draw * (high - low + 1) + (min(max(depth, low), high) - low)


EXERCISE_CLASSES: dict[str, type[Exercise]] = {
    cls.KIND: cls
    for cls in (DerivativeExercise, ValueExercise, TensorExercise, ChoiceExercise, ProgramExercise)
}
EXERCISE_KINDS = tuple(EXERCISE_CLASSES)


# ----------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class StepperBlock:
    """A `stepper` block: opens the network stepper on this network. With `manual =
    "learner"`, its manual backward runs the learner's own `mse_grad`, `relu_grad` and
    `lin_grad` (the program exercises named in `uses`)."""

    line: int
    size: NetworkSize = NetworkSize()
    manual: str = "reference"
    uses: tuple[str, ...] = ()
    library: tuple[LibraryFunction, ...] = ()
    """The functions of `uses`, resolved by the loader."""


TRAINING_METHODS = ("manual", "autograd.grad", "backward")


@dataclass(frozen=True, kw_only=True)
class _Training:
    """What both training models have."""

    MODEL: ClassVar[str] = ""

    line: int
    zero_grad: bool = field(default=True, metadata=toml("bool"))
    seed: int = field(default=0, metadata=toml("int"))
    lr: float = field(default=0.01, metadata=toml("number"))

    @property
    def model(self) -> str:
        """`adaline` or `linear`."""
        return self.MODEL


@dataclass(frozen=True, kw_only=True)
class AdalineBlock(_Training):
    """ADALINE on two classes of a CSV file, trained up to three ways side by side."""

    MODEL: ClassVar[str] = "adaline"

    data: Path = field(metadata=toml("str"))
    features: tuple[str, ...] = field(metadata=toml("str_list"))
    target: str = field(metadata=toml("str"))
    classes: tuple[str, ...] = field(metadata=toml("str_list"))
    epochs: int = field(default=20, metadata=toml("int"))
    batch: int = field(default=10, metadata=toml("int"))
    test_fraction: float = field(default=0.3, metadata=toml("number"))
    methods: tuple[str, ...] = field(default=TRAINING_METHODS, metadata=toml("str_list"))


@dataclass(frozen=True, kw_only=True)
class LinearBlock(_Training):
    """A line fitted by SGD to `y = slope·x + noise·N(0, 1)`."""

    MODEL: ClassVar[str] = "linear"

    start: float = field(default=-5.0, metadata=toml("number"))
    stop: float = field(default=5.0, metadata=toml("number"))
    step: float = field(default=0.1, metadata=toml("number"))
    slope: float = field(default=-5.0, metadata=toml("number"))
    noise: float = field(default=0.4, metadata=toml("number"))
    w0: float = field(default=-10.0, metadata=toml("number"))
    b0: float = field(default=-20.0, metadata=toml("number"))
    steps: int = field(default=20, metadata=toml("int"))


TrainingBlock = AdalineBlock | LinearBlock
TRAINING_CLASSES: dict[str, type[AdalineBlock] | type[LinearBlock]] = {
    cls.MODEL: cls for cls in (AdalineBlock, LinearBlock)
}


@dataclass(frozen=True)
class Prose:
    """Markdown text between blocks."""

    text: str
    line: int


Segment = Prose | Exercise | StepperBlock | AdalineBlock | LinearBlock


# ----------------------------------------------------------------------------- lessons, packs


@dataclass(frozen=True)
class FrontMatter:
    """The TOML front matter of a lesson file."""

    id: str = field(metadata=toml("str"))
    title: str = field(metadata=toml("str"))
    requires: tuple[str, ...] | None = field(default=None, metadata=toml("str_list"))
    summary: str = field(default="", metadata=toml("str"))


@dataclass(frozen=True)
class Lesson:
    """One lesson file."""

    id: str
    title: str
    path: Path
    requires: tuple[str, ...] | None
    """Lessons that must be completed first; None means "the previous lesson"."""
    summary: str = ""
    segments: tuple[Segment, ...] = ()
    requires_line: int = 1

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        """The exercises, in the order the learner meets them."""
        return tuple(s for s in self.segments if isinstance(s, Exercise))

    def exercise(self, exercise_id: str) -> Exercise | None:
        """The exercise with this id, if any."""
        return next((e for e in self.exercises if e.id == exercise_id), None)


@dataclass(frozen=True)
class Manifest:
    """`pack.toml`."""

    id: str = field(metadata=toml("str"))
    title: str = field(metadata=toml("str"))
    version: str = field(metadata=toml("str"))
    format: int = field(default=FORMAT_VERSION, metadata=toml("int"))
    description: str = field(default="", metadata=toml("str"))
    authors: tuple[str, ...] = field(default=(), metadata=toml("str_list"))
    lessons: tuple[str, ...] | None = field(default=None, metadata=toml("str_list"))


@dataclass(frozen=True)
class Pack:
    """A loaded lesson pack."""

    id: str
    title: str
    version: str
    path: Path
    lessons: tuple[Lesson, ...]
    description: str = ""
    authors: tuple[str, ...] = ()
    format: int = FORMAT_VERSION

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with this id, if any."""
        return next((le for le in self.lessons if le.id == lesson_id), None)

    def titles(self, lesson_ids: Iterable[str]) -> str:
        """Lessons named as people read them: `Derivatives as slopes and The chain rule`."""
        return lesson_titles(self.lessons, lesson_ids)

    def requirements(self, lesson: Lesson) -> tuple[str, ...]:
        """The lessons that must be completed before `lesson` opens."""
        if lesson.requires is not None:
            return lesson.requires
        index = self.lessons.index(lesson)
        return (self.lessons[index - 1].id,) if index > 0 else ()


@dataclass(frozen=True)
class LoadResult:
    """A pack (None when it could not be loaded at all) and every problem found."""

    pack: Pack | None
    problems: ProblemList

    @property
    def ok(self) -> bool:
        """Loaded without errors (warnings allowed)."""
        return self.pack is not None and not self.problems.blocking
