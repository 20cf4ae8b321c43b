"""One exercise's life, headless: what the learner sees, what an answer does, what is saved.

`ExerciseSession` holds the state of one exercise on screen (its status, the answer last
judged and its verdict, hints shown, attempts left) and turns each thing the learner does
into a typed progress command (`core.progress.commands`). The interface renders it and
queues the commands; it never decides a status itself. Checking (`check`) is the slow
part and may run in a worker thread: it reads the session but changes nothing. Every
change (`judge`, `hint`, `reveal`, `saved`) happens on one thread, the interface's.

A practice block is the same session with `practice` set: each generated exercise is
judged once, right or wrong, and F4 (or Enter) brings the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .kinds import Preview, kind_of
from .packs import Exercise, LibraryFunction, PracticeExercise
from .progress.commands import (
    ExerciseAddress,
    FreshVariant,
    Mistake,
    NextPractice,
    ProgressCommand,
    RecordAnswer,
    RecordBreakdown,
    RecordHint,
    RecordPractice,
    RecordReveal,
    Saved,
)
from .progress.document import REVEAL_AFTER
from .progress.view import ExerciseProgress, Progress

if TYPE_CHECKING:
    from .checking import Verdict
    from .variants import Variant

Status = Literal["unsolved", "solved", "revealed"]
"""Unsolved; solved (this round); revealed: the solution was shown, not solved."""


@dataclass
class Refusal:
    """Why an answer was not sent to the checker (nothing is charged)."""

    message: str
    already_checked: bool = False


@dataclass
class Judged:
    """What judging an answer did: the verdict, and the command to save (if any)."""

    verdict: Verdict
    command: ProgressCommand | None


@dataclass
class ExerciseSession:
    """The state of one exercise shown to one learner (see the module's docstring)."""

    address: ExerciseAddress
    exercise: Exercise
    """As authored: its id, and what is checked."""
    record: ExerciseProgress
    lesson_exercises: tuple[str, ...] = ()
    learner: str = ""
    variant: int = 0
    shown: Variant | None = None
    problem: str | None = None
    """Why the learner's numbers could not be drawn (the authored exercise is shown)."""
    status: Status = "unsolved"
    hints_shown: int = 0
    checked_answer: str | None = None
    """The answer the verdict belongs to (None: none, or it was undecided)."""
    verdict: Verdict | None = None
    checking: bool = False
    carried_shown: str | None = None
    """An answer the breakdown assembled from local derivatives that were shown: right,
    it still counts as shown, not solved."""
    attempts_known: bool = False
    """The last judged answer has been saved: the attempts left (or a practice block's
    next step) are known."""
    accepted: dict[str, str] = field(default_factory=dict)
    """The learner's accepted programs of the exercises this one may call, by address."""
    _ids: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def open(
        cls,
        pack: str,
        lesson: str,
        exercise: Exercise,
        record: ExerciseProgress,
        learner: str = "",
        lesson_exercises: tuple[str, ...] = (),
    ) -> ExerciseSession:
        """The session of an exercise as progress left it: the learner's own variant."""
        from .variants import learner_k

        variant = learner_k(exercise, learner, record.round, record.depth)
        shown, problem = _shown_variant(exercise, variant, record.current.params)
        pending: ProgressCommand | None = None
        if shown is None:  # the pack changed: the round's numbers no longer fit it
            variant = learner_k(exercise, learner, record.round + 1, record.depth)
            shown, problem = _shown_variant(exercise, variant)
            pending = FreshVariant(ExerciseAddress(pack, lesson, exercise.id), force=True)
            record = _next_round(record)
        assert shown is not None  # without stored numbers a variant is always made
        now = record.current
        status: Status = "solved" if now.solved else "revealed" if now.revealed else "unsolved"
        session = cls(
            ExerciseAddress(pack, lesson, exercise.id),
            exercise,
            record,
            lesson_exercises,
            learner,
            variant,
            shown,
            problem,
            status,
            min(now.hints, len(shown.exercise.hints)),
        )
        session.pending = pending
        return session

    pending: ProgressCommand | None = None
    """A command to save as soon as the exercise is shown: a fresh round, when an edit of
    the pack left the learner's numbers outside its `[params]` or `where`."""

    @property
    def library(self) -> tuple[LibraryFunction, ...]:
        """The functions a program exercise may call (none for other kinds)."""
        return getattr(self.exercise, "library", ())

    @property
    def params_to_keep(self) -> dict[str, object] | None:
        """The round's drawn numbers, to keep in progress with the first thing that
        makes them matter (an answer, a hint, the solution); None once kept."""
        if not self.exercise.params or self.shown is None or self.problem:
            return None
        return dict(self.shown.params) if self.record.current.params is None else None

    # -- what is shown ----------------------------------------------------------------

    @property
    def fixed(self) -> Exercise:
        """The exercise as the learner sees it: the drawn numbers in place."""
        assert self.shown is not None
        return self.shown.exercise

    @property
    def practice(self) -> bool:
        """A practice block: judged once per generated exercise."""
        return kind_of(self.exercise).judged_once

    @property
    def kind(self) -> str:
        """The kind of the exercise shown (a practice block shows derivatives)."""
        return self.fixed.kind

    @property
    def chooses(self) -> bool:
        """The learner picks one of the options shown (no answer field, no preview)."""
        return kind_of(self.fixed).chooses

    @property
    def options(self) -> list[str]:
        """The option texts in the order shown ([] for kinds without options)."""
        assert self.shown is not None
        return self.shown.shown_options()

    @property
    def can_break_down(self) -> bool:
        """F5: derivative exercises whose function could be drawn have a graph."""
        return kind_of(self.fixed).breaks_down and not self.problem

    @property
    def attempts_left(self) -> int | None:
        """Wrong attempts left before the solution is shown (None once it is solved or
        shown, or while the count is being saved)."""
        if self.status != "unsolved" or self.practice or not self.attempts_known:
            return None
        now = self.record.current
        return max(0, REVEAL_AFTER - (now.attempts - (1 if now.solved else 0)))

    def preview(self, answer: str) -> Preview:
        """How the answer reads (or where it fails): the answer field's live preview."""
        return kind_of(self.fixed).preview(self.fixed, answer)

    # -- answering ---------------------------------------------------------------------

    def refusal(self, answer: str) -> Refusal | None:
        """Why this answer would not be checked now (None: it will be)."""
        if self.checking:
            return Refusal("⋯ still checking the last answer")
        if not answer.strip() and not self.chooses:
            return Refusal("Type an answer first.")
        if answer.strip() == self.checked_answer:
            return Refusal("That answer was just checked; change it to try again.", True)
        return None

    def check(self, answer: str) -> Verdict:
        """Judge an answer (torch, maybe sympy: call it off the UI thread). Reads the
        session, changes nothing; never raises."""
        from .checking import Verdict, check_exercise

        try:
            return check_exercise(
                self.exercise,
                answer,
                variant=self.variant,
                accepted=self.accepted,
                values=dict(self.shown.params) if self.shown and self.exercise.params else None,
            )
        except Exception:  # a bug in checking must not close the tutor
            return Verdict(
                "undecided", "The check could not be completed; your answer was not judged."
            )

    def judge(self, answer: str, verdict: Verdict) -> Judged:
        """Take a verdict into the session; returns the command that records it."""
        self.checking = False
        self.verdict = verdict
        self.attempts_known = False
        self.checked_answer = answer.strip() if verdict.verdict != "undecided" else None
        if not verdict.spends_attempt or verdict.verdict == "undecided":
            return Judged(verdict, None)
        if self.practice:
            assert isinstance(self.exercise, PracticeExercise)
            if self.status != "unsolved":
                return Judged(verdict, None)
            self.status = "solved" if verdict.correct else "revealed"
            command: ProgressCommand = RecordPractice(
                self.address, self.exercise, verdict.correct, self.lesson_exercises
            )
            return Judged(verdict, command)
        if verdict.correct and answer.strip() == self.carried_shown:
            from dataclasses import replace

            shown = replace(
                verdict,
                message="Right, and assembled by the breakdown from local derivatives you "
                "were shown: this counts as shown, not solved."
                + (" F4 gives fresh numbers to solve on your own." if self.can_refresh else ""),
            )
            self.verdict = shown
            return Judged(shown, None)
        if verdict.correct:
            self.status = "solved"
        program = verdict.details.get("program") if verdict.correct else None
        return Judged(
            verdict,
            RecordAnswer(
                self.address,
                verdict.correct,
                self.lesson_exercises,
                self._mistake(verdict),
                program if isinstance(program, str) else None,
                self.params_to_keep,
            ),
        )

    def submit(self, answer: str) -> Judged | Refusal:
        """Check and judge in one call (headless use: tests, scripts)."""
        refused = self.refusal(answer)
        if refused is not None:
            return refused
        return self.judge(answer, self.check(answer))

    def _mistake(self, verdict: Verdict) -> Mistake | None:
        if verdict.correct:
            return None
        answer, feedback, diagnosis = verdict.mistake(
            kind_of(self.exercise).mistake_text(self.exercise, verdict)
        )
        return (
            answer,
            feedback,
            diagnosis,
            mistake_key(self.exercise, self.fixed, feedback, diagnosis),
        )

    def saved(self, saved: Saved) -> None:
        """A command of this exercise was saved: take in what it decided."""
        self.record = saved.progress.exercise(
            self.address.pack, self.address.lesson, self.address.exercise
        )
        if isinstance(saved.command, RecordAnswer | RecordPractice):
            self.attempts_known = True
            if saved.revealed and self.status == "unsolved":
                self.status = "revealed"

    # -- hints, the solution, fresh numbers, the breakdown -----------------------------------

    def hint(self) -> tuple[int | None, str | None, ProgressCommand | None]:
        """The next hint: (its index, or None with a message saying why not; the command)."""
        hints = self.fixed.hints
        if not hints:
            return None, "This exercise has no hints.", None
        if self.hints_shown >= len(hints):
            return None, "That was the last hint. F3 shows the solution.", None
        index = self.hints_shown
        self.hints_shown += 1
        return index, None, RecordHint(self.address, self.hints_shown, self.params_to_keep)

    def reveal(self) -> ProgressCommand | None:
        """Show the solution: recorded as revealed, not solved (a practice exercise then
        counts as a wrong answer). Refused while a check is pending."""
        if self.status != "unsolved" or self.checking:
            return None
        self.status = "revealed"
        if self.practice:
            assert isinstance(self.exercise, PracticeExercise)
            return RecordPractice(self.address, self.exercise, False, self.lesson_exercises)
        return RecordReveal(self.address, self.params_to_keep)

    @property
    def can_refresh(self) -> bool:
        """F4: fresh numbers (or the next practice exercise) once this one is judged."""
        from .variants import has_variants

        if self.status == "unsolved" or self.checking:
            return False
        return self.practice or has_variants(self.exercise)

    def fresh(self) -> ProgressCommand | None:
        """The command that starts the next round (None when it cannot start yet)."""
        if not self.can_refresh:
            return None
        return NextPractice(self.address) if self.practice else FreshVariant(self.address)

    def breakdown(self) -> ProgressCommand | None:
        """Opening the breakdown is counted."""
        return RecordBreakdown(self.address) if self.can_break_down else None

    def carried(self, shown: bool, answer: str = "") -> ProgressCommand | None:
        """The breakdown's answer came back; with local derivatives shown on the way it
        is a shown solution (revealed), never a solved one, even once checked."""
        if not shown:
            return None
        self.carried_shown = answer.strip()
        return self.reveal()

    def solution_markdown(self) -> str:
        """The solution text, or the reference answer when the author wrote none (may
        need torch or sympy: call it off the UI thread). Never raises."""
        ex = self.fixed
        parts = [ex.solution] if ex.solution else []
        try:
            shown = self.shown
            assert shown is not None
            kind = kind_of(shown.exercise)
            reference = kind.reference(shown)
            if kind.solution_extra is not None:
                extra = kind.solution_extra(shown, reference)
            else:
                extra = f"One answer: `{reference}`" if reference and not ex.solution else None
            if extra:
                parts.append(extra)
        except Exception:  # the solution text is a nicety; never fail on it
            pass
        return "**Solution.** " + "\n\n".join(parts) if parts else ""


def mistake_key(
    authored: Exercise, fixed: Exercise, feedback: str | None, diagnosis: str | None
) -> str | None:
    """What fired for a wrong answer, the same for every learner whatever their numbers:
    `feedback:ID` (the entry's `id`, or its match as authored) or `diagnosis:KIND` (the
    diagnosis's first clause with its numbers masked)."""
    if feedback is not None:
        for shown, entry in zip(fixed.feedback, authored.feedback, strict=False):
            if shown.message == feedback:
                return entry.key
    if diagnosis:
        return "diagnosis:" + diagnosis_kind(diagnosis)
    return None


def diagnosis_kind(text: str) -> str:
    """A diagnosis without the numbers that differ between learners: its first sentence,
    numbers masked (`right shape, but # times the gradient`)."""
    import re

    from .text import mask_numbers

    first = re.split(r"(?<=[.:?!])\s", text.strip(), maxsplit=1)[0]
    return mask_numbers(first)[:200]


def accepted_programs(progress: Progress, library: Iterable[LibraryFunction]) -> dict[str, str]:
    """The learner's accepted code for each function of a library (what a program
    exercise, or a stepper block, may call), by the address of the exercise that defines
    it; those without one run the reference."""
    found = {}
    for function in library:
        pack, lesson, exercise_id = function.exercise.split("/")
        code = progress.exercise(pack, lesson, exercise_id).program
        if code is not None:
            found[function.exercise] = code
    return found


def _next_round(record: ExerciseProgress) -> ExerciseProgress:
    """The record as a fresh round leaves it: the round's own counters start over, the
    totals and the solved state stay."""
    from dataclasses import replace

    from .progress.view import RoundProgress

    return replace(record, round=record.round + 1, current=RoundProgress())


def _shown_variant(
    exercise: Exercise, k: int, stored: dict[str, object] | None = None
) -> tuple[Variant, str | None] | tuple[None, None]:
    """The variant to show (with the learner's stored numbers, when they still fit; None
    when they no longer do), and what went wrong when it cannot be made (the authored
    exercise is shown then, with the problem above it)."""
    from .mathlang import LanguageError
    from .params import DrawError
    from .variants import Variant, variant_of, variant_with

    try:
        if stored and exercise.params:
            kept = variant_with(exercise, k, stored)  # type: ignore[arg-type]
            return (kept, None) if kept is not None else (None, None)
        return variant_of(exercise, k), None
    except (DrawError, LanguageError) as exc:
        return Variant(k, {}, exercise), f"This exercise's numbers could not be drawn: {exc}"
