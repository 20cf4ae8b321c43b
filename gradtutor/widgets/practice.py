"""A practice block in place: one generated chain-rule exercise at a time.

Each exercise is answered once: right or wrong, the answer is judged, the solution of a
wrong one is shown, and the block's depth and streak follow (the policy is the core's,
`progress.practice_step`; the session's `practice` mode judges once). F4, or Enter on
the answered field, brings the next exercise.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from ..core.packs import PracticeExercise
from .exercise import ExerciseView


class PracticeView(ExerciseView):
    """A practice block: generated exercises whose depth follows the learner."""

    BINDINGS = [
        Binding("f4", "fresh", "Next"),
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
            head.append(
                f" · F2 hint ({self.session.hints_shown}/{len(self.fixed.hints)})", style="dim"
            )
        return head

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F4 shows once the exercise on screen is judged."""
        if action == "fresh":
            return self.session.can_refresh
        return super().check_action(action, parameters)
