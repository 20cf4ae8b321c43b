"""The lane drawing of a graph: one row per node, fan-out joined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from .model import Graph

# ----------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class DrawnRow:
    """One line of the graph as drawn: the lanes, and the node on it (None for a line
    that joins or splits lanes; `joined` names the node whose uses join there)."""

    lanes: str
    node: str | None
    joined: str | None = None


def draw(graph: Graph) -> list[DrawnRow]:
    """The graph top-down, output first, in box-drawing lanes (as `git log --graph` draws
    history): a node's inputs open lanes below it, and where a value feeds two nodes their
    lanes join into it (├─╯), so every fan-out is visible."""
    lanes: list[str | None] = [graph.output]
    rows: list[DrawnRow] = []
    for node in reversed(graph.nodes):
        waiting = [i for i, lane in enumerate(lanes) if lane == node.id]
        if not waiting:
            continue
        home = waiting[0]
        if len(waiting) > 1:
            rows.append(DrawnRow(_span(lanes, home, waiting[1:], "├", "┴", "╯"), None, node.id))
            for i in waiting[1:]:
                lanes[i] = None
        rows.append(DrawnRow(_cells(lanes, {home: "●"}), node.id))
        lanes[home] = node.inputs[0] if node.inputs else None
        opened = []
        for inp in node.inputs[1:]:
            slot = next((i for i in range(home + 1, len(lanes)) if lanes[i] is None), None)
            if slot is None:
                lanes.append(inp)
                slot = len(lanes) - 1
            else:
                lanes[slot] = inp
            opened.append(slot)
        if opened:
            rows.append(DrawnRow(_span(lanes, home, opened, "├", "┬", "╮"), None))
        while lanes and lanes[-1] is None:
            lanes.pop()
    return rows


def _cells(lanes: list[str | None], marks: dict[int, str]) -> str:
    return " ".join(marks.get(i, "│" if lane else " ") for i, lane in enumerate(lanes)).rstrip()


def _span(
    lanes: list[str | None], home: int, others: list[int], left: str, mid: str, end: str
) -> str:
    """A row where lanes `others` (right of `home`) join or leave lane `home`."""
    last = max(others)
    out = []
    for i, lane in enumerate(lanes):
        if i == home:
            cell = left
        elif i == last:
            cell = end
        elif i in others:
            cell = mid
        elif home < i < last:
            cell = "┼" if lane else "─"
        else:
            cell = "│" if lane else " "
        out.append(cell)
        if i < len(lanes) - 1:
            out.append("─" if home <= i < last else " ")
    return "".join(out).rstrip()
