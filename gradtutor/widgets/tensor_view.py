"""TensorView: a tensor drawn to the width it has. Small tensors in full, a row never
wrapping (fewer decimals first, then the middle columns elided with the shape shown);
large ones as statistics and a heat strip."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from ..core.summary import TensorSummary

_HEAT = ["#2b6cb0", "#4299e1", "#90cdf4", "#cbd5e0", "#fbd38d", "#f6ad55", "#e53e3e"]


def shape_text(shape: tuple[int, ...]) -> str:
    """(5, 1), (5,) or () for a number."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _stat(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4f}".rstrip("0").rstrip(".")


def _cell(v: float, decimals: int) -> str:
    if abs(v) >= 10**5:
        return f"{v:.{max(decimals - 2, 1)}e}"
    text = f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.00"


def _fit_row_cells(
    rows: tuple[tuple[float, ...], ...], width: int, sep: int
) -> tuple[list[list[str]], int, int]:
    """Cells of every row with the most decimals that fit, the cell width, and how many
    columns fit (all of them, or fewer: the middle ones are then elided)."""
    columns = len(rows[0])
    for decimals in (4, 3, 2):
        cells = [[_cell(v, decimals) for v in row] for row in rows]
        w = max(len(c) for row in cells for c in row)
        if columns * (w + sep) - sep <= width:
            return cells, w, columns
    return cells, w, max(2, (width - 1 - sep) // (w + sep))


def _fit_rows(
    rows: tuple[tuple[float, ...], ...], width: int, vector: bool
) -> tuple[list[str], str]:
    """The rows as aligned text no wider than `width`, and a note when columns were elided."""
    sep = 2
    inner = width - 2 if vector else width  # room for the brackets of a vector
    cells, w, keep = _fit_row_cells(rows, inner, sep)
    columns = len(rows[0])
    joiner = ", " if vector else "  "
    note = ""
    if keep < columns:
        head, tail = (keep + 1) // 2, keep // 2
        cells = [[*row[:head], "…", *row[-tail:]] for row in cells]
        note = f"  ({columns - head - tail} of {columns} {'entries' if vector else 'columns'} not shown)"
    lines = [joiner.join(c.rjust(w) if not vector else c for c in row) for row in cells]
    if vector:
        lines = [f"[{lines[0]}]"]
    return lines, note


def render_summary(name: str, summary: TensorSummary | None, changed: bool, width: int) -> Text:
    """The Text of a named tensor at a width (`None`: a gradient not computed yet)."""
    text = Text()
    text.append(name, style="bold reverse" if changed else "bold")
    if summary is None:
        text.append("  None", style="dim italic")
        return text
    text.append(f"  {shape_text(summary.shape)}", style="dim")
    inner = max(8, width - 2)
    if summary.rows is not None:
        lines, note = _fit_rows(summary.rows, inner, vector=len(summary.shape) == 1)
        for line in lines:
            text.append("\n  " + line)
        if note:
            text.append("\n" + note, style="dim italic")
        return text
    assert summary.stats is not None
    mean, std, lo, hi = summary.stats
    parts = [f"mean {_stat(mean)}", f"std {_stat(std)}", f"min {_stat(lo)}", f"max {_stat(hi)}"]
    line = ""
    for part in parts:  # statistics wrap between items, never inside one
        if line and len(line) + 2 + len(part) > inner:
            text.append("\n  " + line)
            line = part
        else:
            line = f"{line}  {part}" if line else part
    text.append("\n  " + line + "\n  ")
    for level in summary.heat[:inner]:
        text.append("█", style=_HEAT[min(len(_HEAT) - 1, int(level * (len(_HEAT) - 1)))])
    return text


class TensorView(Widget):
    """One named tensor, drawn to the width it is given; highlighted while changed."""

    DEFAULT_CSS = "TensorView { height: auto; }"

    changed: reactive[bool] = reactive(False)
    """True when the value differs from the previous step (highlighted)."""

    def __init__(
        self,
        name: str,
        summary: TensorSummary | None = None,
        changed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tensor_name = name
        self.summary = summary
        self.set_reactive(TensorView.changed, changed)

    def render(self) -> Text:
        return render_summary(self.tensor_name, self.summary, self.changed, self.size.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the tensor takes at this width (rows never wrap)."""
        text = render_summary(self.tensor_name, self.summary, self.changed, width)
        return len(text.plain.splitlines()) or 1

    def show(self, summary: TensorSummary | None, changed: bool = False) -> None:
        """Display a new value (summarised off the UI thread)."""
        self.summary = summary
        self.changed = changed
        self.set_class(changed, "-changed")
        self.refresh(layout=True)
