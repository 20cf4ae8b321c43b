"""What the interface shows of a tensor: every number when it is small, statistics and
evenly spaced samples when it is large. Computed once, off the UI thread, so that
drawing it (to whatever width the screen has) is cheap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FULL_LIMIT = 48
"""Tensors with at most this many numbers are shown in full."""
HEAT_SAMPLES = 30


@dataclass(frozen=True)
class TensorSummary:
    """A tensor as the interface draws it."""

    shape: tuple[int, ...]
    rows: tuple[tuple[float, ...], ...] | None = None
    """Every number, as rows (a vector is one row, a number one row of one), when small."""
    stats: tuple[float, float, float, float] | None = None
    """mean, std, min, max, when large."""
    heat: tuple[float, ...] = ()
    """Evenly spaced samples scaled to 0..1 (blue low, red high), when large."""

    @property
    def numel(self) -> int:
        """How many numbers the tensor holds."""
        n = 1
        for s in self.shape:
            n *= s
        return n


def summarize(t: Any) -> TensorSummary:
    """The summary of a torch tensor (booleans as 0 and 1)."""
    t = t.detach()
    if str(t.dtype) == "torch.bool":
        t = t.double()
    shape = tuple(int(s) for s in t.shape)
    if t.numel() <= FULL_LIMIT:
        values = t.double()
        if values.dim() == 0:
            rows: tuple[tuple[float, ...], ...] = ((float(values),),)
        else:
            flat = (
                values.reshape(values.shape[0], -1) if values.dim() > 1 else values.reshape(1, -1)
            )
            rows = tuple(tuple(float(v) for v in row) for row in flat.tolist())
        return TensorSummary(shape, rows=rows)
    flat = t.flatten()  # statistics in the tensor's own dtype: no copy of a large tensor
    lo, hi = float(flat.min()), float(flat.max())
    step = max(1, flat.numel() // HEAT_SAMPLES)
    samples = flat[::step][:HEAT_SAMPLES].tolist()
    heat = tuple(0.0 if hi == lo else (v - lo) / (hi - lo) for v in samples)
    return TensorSummary(shape, stats=(float(flat.mean()), float(flat.std()), lo, hi), heat=heat)
