"""One handler for workers that fail, shared by every widget and screen that starts them.

Textual tells a worker's own node when its state changes (the message does not bubble),
so this mixin gives each such node the same handler: an ERROR is passed to the node's
`worker_failed(worker, why)` (which puts its screen right: no "⋯" left for ever) and said
by the app in a sentence.
"""

from __future__ import annotations

from textual import on
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState


class WorkerFailures(DOMNode):
    """Mix in before the Textual base class: `class ExerciseView(WorkerFailures, Vertical)`."""

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)


def report_worker_failure(node: DOMNode, event: Worker.StateChanged) -> None:
    """The handler itself (the app calls it for its own workers)."""
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    why = (str(error).splitlines() or [""])[0][:200] or type(error).__name__
    recover = getattr(node, "worker_failed", None)
    if callable(recover):
        recover(event.worker, why)
    node.app.notify(
        f"Something went wrong in the background ({why}); nothing else was affected.",
        title="Error",
        severity="error",
        timeout=15,
        markup=False,
    )
