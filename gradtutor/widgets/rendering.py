"""How the core's answers are drawn: feedback text, previews, verdicts, and where a
widget sits in a scrolling lesson. Text from packs and learners is `rich.text.Text`,
never markup."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from ..core.kinds import Preview
from ..core.mathtext import plain_math
from ..core.text import visible

if TYPE_CHECKING:
    from ..core.checking import Verdict

_CODE = re.compile(r"`([^`]+)`")

VERDICT_STYLES = {
    "correct": ("✓ ", "bold green"),
    "incorrect": ("✗ ", "bold red"),
    "invalid": ("? ", "bold yellow"),
    "undecided": ("~ ", "bold magenta"),
}


def rich_text(text: str, style: str = "") -> Text:
    """Feedback and option text: math as Unicode, `code` as code (never markup)."""
    out = Text(style=style)
    plain = visible(plain_math(text))
    last = 0
    for match in _CODE.finditer(plain):
        out.append(plain[last : match.start()])
        out.append(match.group(1), style="bold reverse")
        last = match.end()
    out.append(plain[last:])
    return out


def error_preview(answer: str, message: str, column: int | None) -> Text:
    """The answer with a caret under the column where it went wrong."""
    text = Text()
    if column is not None and answer and len(answer) < 120:
        text.append(answer + "\n", style="dim")
        text.append(" " * max(0, column - 1) + "^ ", style="bold red")
    else:
        text.append("⚠ ", style="bold red")
    text.append(message, style="red")
    return text


def preview_text(preview: Preview) -> Text:
    """The line under the answer field: the reading in bold, or the error with its caret."""
    if preview.error:
        return error_preview(preview.answer, preview.text, preview.column)
    text = Text(preview.text, style="bold")
    if preview.note:
        text.append(("   " if preview.text else "") + preview.note, style="dim")
    return text


def verdict_text(verdict: Verdict, attempts_left: int | None = None) -> Text:
    """A verdict with its feedback, counterexample, the F5 offer and the attempts left."""
    icon, style = VERDICT_STYLES[verdict.verdict]
    text = Text()
    text.append_text(rich_text(icon + verdict.message, style))
    if verdict.verdict == "invalid":
        text.append("\nThis cost no attempt.", style="dim")
    if verdict.feedback:
        text.append("\n")
        text.append_text(rich_text(verdict.feedback))
    if verdict.counterexample:
        text.append("\n" + verdict.counterexample_sentence(), style="dim")
    if verdict.details.get("breakdown"):
        text.append(
            "\nF5 breaks the function down node by node, to find the missing piece.",
            style="cyan",
        )
    if attempts_left and verdict.verdict == "incorrect":
        s = "s" if attempts_left != 1 else ""
        text.append(
            f"\n{attempts_left} more wrong attempt{s} before the solution is shown (F3 shows it now).",
            style="dim",
        )
    return text


def region_in(widget: Widget, ancestor: Widget) -> Region:
    """A widget's region in the virtual (scrollable) space of one of its ancestors."""
    region = widget.virtual_region_with_margin
    node = widget
    while node.parent is not None and node.parent is not ancestor:
        container = node.parent
        assert isinstance(container, Widget)
        region = (
            region.translate(container.styles.margin.top_left)
            .translate(container.styles.border.spacing.top_left)
            .translate(container.virtual_region_with_margin.offset)
        )
        node = container
    return region
