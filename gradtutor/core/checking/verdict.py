"""The verdict type and the tolerances every check shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

VerdictKind = Literal["correct", "incorrect", "invalid", "undecided"]

RTOL = 1e-6
ATOL = 1e-8
"""How close a derivative answer must come to autograd at every sampled point."""
TENSOR_RTOL = 1e-5
TENSOR_ATOL = 1e-8
"""How close a tensor answer must come to autograd (torch.allclose), everywhere."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check, in the shape of `gradtutor check --json`."""

    verdict: VerdictKind
    message: str
    normalized: str | None = None
    feedback: str | None = None
    counterexample: dict[str, Any] | None = None
    column: int | None = None
    """Where an invalid answer went wrong (1-based), for the interface."""
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def correct(self) -> bool:
        """Whether the answer was judged correct."""
        return self.verdict == "correct"

    @property
    def spends_attempt(self) -> bool:
        """Invalid answers cost the learner nothing."""
        return self.verdict != "invalid"

    def mistake(self, option_text: str | None = None) -> tuple[str, str | None, str | None]:
        """What progress remembers of a wrong answer: (the answer as read, the authored
        feedback it got, the diagnosis it got). A choice is remembered by its option's
        text (`option_text`), the same in every order of options."""
        answer = option_text if option_text is not None else (self.normalized or "")
        diagnosis = self.message
        for opening in ("Not quite.", "Not this one."):
            diagnosis = diagnosis.removeprefix(opening)
        return answer, self.feedback, diagnosis.strip() or None

    def counterexample_sentence(self, name: Callable[[str], str] = str) -> str:
        """`At x = 1.3: the derivative is 2.6, your answer gives -2.6.` ("" without one);
        `name` writes each variable (the breakdown's `u₁` for `u1`)."""
        ce = self.counterexample
        if not ce:
            return ""
        at = ", ".join(f"{name(k)} = {v}" for k, v in ce["point"].items())
        return f"At {at}: the derivative is {ce['expected']}, your answer gives {ce['got']}."

    def to_json(self) -> dict[str, Any]:
        """The object `gradtutor check --json` prints."""
        return {
            "verdict": self.verdict,
            "message": self.message,
            "normalized": self.normalized,
            "feedback": self.feedback,
            "counterexample": self.counterexample,
        }


def invalid(message: str, column: int | None = None) -> Verdict:
    """An answer that could not be understood."""
    return Verdict("invalid", message, column=column)
