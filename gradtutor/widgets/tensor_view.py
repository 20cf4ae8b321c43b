"""TensorView: a tensor shown in full when small, as statistics and a heat strip when large."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

FULL_LIMIT = 48
"""Tensors with at most this many numbers are shown in full."""
_HEAT = ["#2b6cb0", "#4299e1", "#90cdf4", "#cbd5e0", "#fbd38d", "#f6ad55", "#e53e3e"]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4f}".rstrip("0").rstrip(".")


def shape_text(t: Any) -> str:
    """(5, 1), (5,) or () for a number."""
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def heat_strip(t: Any, width: int = 30) -> Text:
    """Evenly spaced samples of the tensor as coloured blocks, blue (low) to red (high)."""
    flat = t.detach().flatten()
    n = flat.numel()
    if n == 0:
        return Text("")
    step = max(1, n // width)
    samples = flat[::step][:width]
    lo, hi = float(flat.min()), float(flat.max())
    strip = Text()
    for v in samples.tolist():
        level = 0 if hi == lo else int((v - lo) / (hi - lo) * (len(_HEAT) - 1))
        strip.append("█", style=_HEAT[level])
    return strip


def render_tensor(name: str, t: Any, changed: bool = False) -> Text:
    """The Text of a named tensor (or `None` for a gradient not computed yet)."""
    text = Text()
    text.append(name, style="bold reverse" if changed else "bold")
    if t is None:
        text.append("  None", style="dim italic")
        return text
    text.append(f"  {shape_text(t)}", style="dim")
    if str(t.dtype) == "torch.bool":
        t = t.double()
    if t.numel() <= FULL_LIMIT:
        values = t.detach().double()
        if values.dim() == 0:
            text.append("\n  " + _fmt(float(values)))
        elif values.dim() == 1:
            text.append("\n  [" + ", ".join(_fmt(v) for v in values.tolist()) + "]")
        else:
            rows = values.reshape(values.shape[0], -1).tolist()
            cells = [[_fmt(v) for v in row] for row in rows]
            width = max(len(c) for row in cells for c in row)
            for row in cells:
                text.append("\n  " + "  ".join(c.rjust(width) for c in row))
        return text
    values = t.detach()  # statistics in the tensor's own dtype: no copy of a large tensor
    text.append(
        f"\n  mean {_fmt(float(values.mean()))}  std {_fmt(float(values.std()))}"
        f"  min {_fmt(float(values.min()))}  max {_fmt(float(values.max()))}\n  "
    )
    text.append_text(heat_strip(values))
    return text


class TensorView(Static):
    """One named tensor; highlighted while `changed` is set."""

    changed: reactive[bool] = reactive(False)
    """True when the value differs from the previous step (highlighted)."""

    def __init__(
        self, name: str, tensor: Any = None, rendered: Text | None = None, **kwargs: Any
    ) -> None:
        super().__init__("", markup=False, **kwargs)
        self.tensor_name = name
        self.tensor = tensor
        self.rendered = rendered

    def on_mount(self) -> None:
        self.update(self.rendered or render_tensor(self.tensor_name, self.tensor, self.changed))

    def show(self, tensor: Any, changed: bool = False, rendered: Text | None = None) -> None:
        """Display a new value (`rendered`: its Text, prepared off the UI thread)."""
        self.tensor = tensor
        self.changed = changed
        self.set_class(changed, "-changed")
        self.update(
            rendered if rendered is not None else render_tensor(self.tensor_name, tensor, changed)
        )
