"""The exercise kinds, the interface's half: the answer field of each kind and its
example text (the core's half, with the model and the preview, is `core/kinds/`)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..core.kinds import kind_of
from ..core.session import ExerciseSession
from .inputs import AnswerInput
from .rendering import rich_text

PLACEHOLDERS = {
    "derivative": "An expression, as on paper: 3u² cos(u), e^(−u)/u, σ(u)…",
    "value": "A number or a list: 0.4, [1.5, −2], [[1, 0], [0, 1]]",
    "tensor": "A tensor expression: x.T @ x, l1.g.sum(1), (out − y).mean()…",
    "program": "The body of the function: one statement per line; ctrl+s checks it",
}
"""The example text of empty answer fields: the syntax, with names and numbers that
answer no exercise of the built-in pack (a test checks it)."""


def answer_widget(session: ExerciseSession) -> Widget:
    """Where the learner answers an exercise of this kind: a list of options for a
    choice, else a one-line field as long as the kind's language reads."""
    kind = kind_of(session.fixed)
    if kind.name == "program":
        from .program import ProgramField

        return ProgramField(getattr(session.fixed, "header", ""), session.record.program or "")
    chars = kind.answer_chars
    if chars is None:  # the kind chooses: a list of options
        options = [
            Option(Text.assemble((f"{i}. ", "bold"), rich_text(text)), id=str(i))
            for i, text in enumerate(session.options, 1)
        ]
        return OptionList(*options, classes="choice-options")
    return AnswerInput(
        placeholder=PLACEHOLDERS[kind.name],
        max_length=chars,
        classes="answer-input",
        select_on_focus=False,
    )
