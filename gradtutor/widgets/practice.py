"""A practice block in place: one generated chain-rule exercise at a time.

Each exercise is answered once: right or wrong, the answer is judged, the solution of a
wrong one is shown, and the block's depth and streak follow (the policy is the core's,
`progress.practice_step`). F4, or Enter on the answered field, brings the next exercise.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from ..core.packs import PracticeExercise
from ..core.progress import Progress
from .exercise import AnswerChecked, ExerciseView


class PracticeView(ExerciseView):
    """A practice block: generated exercises whose depth follows the learner."""

    BINDINGS = [
        Binding("f4", "fresh", "Next exercise"),
    ]
    """F4 (or Enter once the answer is judged) brings the next generated exercise."""

    @property
    def block(self) -> PracticeExercise:
        """The practice block as authored."""
        assert isinstance(self.exercise, PracticeExercise)
        return self.exercise

    def header_text(self) -> Text:
        """`Exercise 5 · practice · depth 2 (1–3) · streak 1/3 at depth 3`, and done."""
        block, record = self.block, self.record
        low, high = block.depth
        depth = block.depth_of(self.variant)
        head = Text(f"Exercise {self.number}", style="bold")
        head.append(" · practice", style="dim")
        head.append(f" · depth {depth} ({low}–{high})")
        if depth < high and record.run:
            head.append(f" · {record.run} right at this depth", style="dim")
        head.append(f" · streak {record.streak}/{block.streak}", style="dim")
        if record.solved:
            head.append(" · ✓ done", style="green")
        if self.fixed.hints:
            head.append(f" · F2 hint ({self.hints_shown}/{len(self.fixed.hints)})", style="dim")
        return head

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F4 shows once the exercise on screen is judged."""
        if action == "fresh":
            return self.status != "unsolved"
        return super().check_action(action, parameters)

    def submit(self, answer: str) -> None:
        """Check the answer; once judged, Enter goes to the next exercise."""
        if self.status != "unsolved" and not self.checking:
            self.action_fresh()
            return
        super().submit(answer)

    def show_verdict(self, event: AnswerChecked) -> None:
        """Judge once: the verdict, the solution of a wrong answer, the depth that follows."""
        self.checking = False
        verdict = event.verdict
        self.checked_answer = event.answer.strip() if verdict.verdict != "undecided" else None
        self._render_verdict(verdict)
        if verdict.spends_attempt and verdict.verdict != "undecided":
            self.status = "solved" if verdict.correct else "revealed"
            self.show_solution()
            self._record(verdict.correct)
        self.follow_verdict()

    def _record(self, correct: bool) -> None:
        ids = (self.pack.id, self.lesson.id)
        lesson_ids = tuple(e.id for e in self.lesson.exercises)
        block = self.block
        self.app.save_progress(
            lambda store: store.record_practice(*ids, block, correct, lesson_ids),
            then=self._recorded,
        )

    def _recorded(self, progress: Progress, _: object) -> None:
        self.record = progress.exercise(self.pack.id, self.lesson.id, self.exercise.id)
        self.query_one(".exercise-head").update(self.header_text())  # type: ignore[attr-defined]
        after = Text("\nF4 or Enter: the next exercise", style="dim")
        if self.record.solved:
            after = Text("\nThe block is done; F4 or Enter keeps practising.", style="dim")
        text = self.verdict_text.copy()
        text.append_text(after)
        self._show(".verdict", text)

    def action_solution(self) -> None:
        """Show the solution: this exercise then counts as a wrong answer."""
        if self.status == "unsolved" and not self.checking:
            self.status = "revealed"
            self._record(False)
        self.show_solution(scroll=True)

    def action_fresh(self) -> None:
        """The next generated exercise, at the depth the last answer left."""
        if self.status == "unsolved":
            return
        # queued behind the write of the answer, so the depth is the one it left
        self.app.save_progress(lambda store: store.load(), then=self._next_ready)

    def _next_ready(self, progress: Progress, _: object) -> None:
        record = progress.exercise(self.pack.id, self.lesson.id, self.exercise.id)
        self.replace_with(record, progress.learner)
