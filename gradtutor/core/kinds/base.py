"""What an exercise kind is: the `Kind` record every kind's module fills in."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..packs.model import Exercise

if TYPE_CHECKING:
    from ..checking.verdict import Verdict
    from ..draws import Variant
    from ..paramlang import Value
    from ..sandbox import SymbolicSandbox

Found = Iterator[tuple[int, str, str]]
"""Problems an author must hear of: (line, "error" or "warning", message)."""


@dataclass(frozen=True)
class Preview:
    """How an answer reads, for the line under the answer field."""

    text: str
    """The answer as read (pretty), or what went wrong."""
    error: bool = False
    column: int | None = None
    """Where an answer that could not be read went wrong (1-based)."""
    answer: str = ""
    """The answer typed (shown above the caret of an error)."""
    note: str = ""
    """A dim remark after the reading."""


@dataclass(frozen=True)
class Fixing:
    """What a kind changes when drawn values are put into one of its exercises."""

    changes: dict[str, object] = field(default_factory=dict)
    """Fields of the exercise to replace (beside the texts every kind renders)."""
    match: Callable[[str], str] = str
    """How a `[[feedback]]` match is written for these values."""


@dataclass(frozen=True)
class CheckContext:
    """What a check may need beside the answer."""

    symbolic: bool = True
    """May sympy be asked (derivatives)."""
    sandbox: SymbolicSandbox | None = None
    accepted: Mapping[str, str] = field(default_factory=dict)
    """The learner's accepted programs, by exercise address (program exercises' `uses`)."""


def _no_preview(ex: Exercise, answer: str) -> Preview:
    return Preview("")


def _nothing(ex: Exercise, *args: object) -> Iterator[tuple[int, str, str]]:
    return iter(())


def _no_answers(ex: Exercise) -> list[str]:
    return []


def _no_reference(variant: Variant) -> str | None:
    return None


def _not_checked(variant: Variant, answer: str, context: CheckContext) -> Verdict:
    from ..checking.verdict import invalid

    return invalid(f"Exercises of kind {variant.exercise.kind} are not answered directly.")


def _no_fixing(ex: Exercise, values: dict[str, Value], rng: random.Random) -> Fixing:
    return Fixing()


def _nothing_reserved(ex: Exercise) -> dict[str, str]:
    return {}


def _no_texts(ex: Exercise) -> Iterator[tuple[str, str]]:
    return iter(())


def _no_shuffle(ex: Exercise, k: int, rng: random.Random) -> tuple[int, ...]:
    return ()


def _no_mistake_text(ex: Exercise, verdict: Verdict) -> str | None:
    return None


@dataclass(frozen=True)
class Kind:
    """One exercise kind: everything the core does differently for it, in one record.

    Fields are plain functions so that a kind's module stays importable on the start
    path (each imports torch or sympy only inside the function that needs it).
    """

    name: str
    """The `kind` key of lesson files."""
    model: type[Exercise]
    answer_chars: int | None
    """The answer field's length (None: no field; one of the options is chosen)."""
    check: Callable[[Variant, str, CheckContext], Verdict] = _not_checked
    """Judge an answer to a fixed variant."""
    preview_answer: Callable[[Exercise, str], Preview] = _no_preview
    """How an answer reads while it is typed (may raise; `preview` guards it)."""
    reference: Callable[[Variant], str | None] = _no_reference
    """The reference answer of a fixed variant, as a learner would type it."""
    solution_extra: Callable[[Variant, str | None], str | None] | None = None
    """Markdown added to the solution (given the reference); None: "One answer: `REF`"
    when the author wrote no solution."""
    problems: Callable[[Exercise, bool], Found] = _nothing
    """The authoring checks of this kind on a fixed exercise (`symbolic`: may sympy run)."""
    reference_answers: Callable[[Exercise], list[str]] = _no_answers
    """Answers that must be judged correct (pack integrity), beside `problems`' own."""
    match_problem: Callable[[str], str | None] = lambda match: None
    """What is wrong with a `[[feedback]]` match before it is checked (None: nothing)."""
    fix: Callable[[Exercise, dict[str, Value], random.Random], Fixing] = _no_fixing
    """The kind's own changes when drawn values are put in."""
    reserved: Callable[[Exercise], dict[str, str]] = _nothing_reserved
    """Names a parameter may not take, and what they already are."""
    texts: Callable[[Exercise], Iterator[tuple[str, str]]] = _no_texts
    """Texts beside prompt, hints, solution and feedback in which `{{ }}` is replaced."""
    shuffle: Callable[[Exercise, int, random.Random], tuple[int, ...]] = _no_shuffle
    """The order variant k shows the options in (() for kinds without options)."""
    mistake_text: Callable[[Exercise, Verdict], str | None] = _no_mistake_text
    """The text a wrong answer is recorded with, when not the answer typed."""
    make_variant: Callable[[Exercise, int], Variant] | None = None
    """Variant k made by the kind itself (a practice block generates them)."""
    variant_index: Callable[[Exercise, int, int | None], int] | None = None
    """Which variant a learner's seed shows at a depth (kinds that generate them)."""
    answer_numbers: Callable[[Exercise], list[float]] = lambda ex: []
    """The numbers that answer an exercise as authored (a breakdown must not show them)."""
    shown_fields: Callable[[Exercise], dict[str, object]] = lambda ex: {}
    """What `gradtutor show --json` prints beside the prompt and the options, for graders."""
    judged_once: bool = False
    """Each exercise shown is judged once (a practice block), not until solved."""
    breaks_down: bool = False
    """F5 opens a breakdown of its function into a graph."""

    @property
    def chooses(self) -> bool:
        """The learner picks an option instead of typing an answer."""
        return self.answer_chars is None

    def preview(self, ex: Exercise, answer: str) -> Preview:
        """The preview of an answer; never raises (a preview must not take the tutor down)."""
        if not answer.strip():
            return Preview("")
        try:
            return self.preview_answer(ex, answer)
        except Exception:
            return Preview("", note="(no preview for this answer; Enter still checks it)")
