"""The lesson browser: every pack and its lessons with their state."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree

from ..core.packs import Lesson, Pack
from ..core.progress import LessonState, lesson_states

_MARKS = {
    "done": ("✓", "green"),
    "in progress": ("◐", "yellow"),
    "open": ("○", ""),
    "locked": ("🔒", "dim"),
}


def lesson_label(index: int, lesson: Lesson, state: LessonState) -> Text:
    """A lesson's line in the browser; built as Text so that titles are never markup."""
    mark, style = _MARKS[state.status]
    label = Text(f"{mark} ", style=style)
    label.append(f"{index}. ")
    label.append(lesson.title, style="dim" if state.status == "locked" else "")
    if state.total:
        label.append(f"  {state.solved}/{state.total}", style="dim")
    if state.waits_for:
        label.append(f"  waits for {', '.join(state.waits_for)}", style="dim italic")
    return label


class LessonTree(Tree[tuple[Pack, Lesson] | Pack]):
    """Packs as branches, lessons as leaves."""

    def process_label(self, label):  # never interpret lesson text as markup
        return super().process_label(Text(label) if isinstance(label, str) else label)


class BrowserScreen(Screen[None]):
    """Lists the packs and their lessons; Enter opens a lesson."""

    BINDINGS = [
        Binding("enter", "open_lesson", "Open", show=True),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        tree = LessonTree(Text("Packs"), id="lesson-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield Static(id="lesson-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_tree()
        self.query_one(LessonTree).focus()

    def refresh_tree(self) -> None:
        """Rebuild the tree from the app's packs and progress, keeping the cursor."""
        tree = self.query_one(LessonTree)
        selected = tree.cursor_node.data if tree.cursor_node else None
        tree.clear()
        progress = self.app.progress
        cursor_line = None
        for pack in self.app.packs:
            states = lesson_states(pack, progress)
            done = sum(s.status == "done" for s in states.values())
            title = Text(pack.title, style="bold")
            title.append(f"  {done}/{len(pack.lessons)} done", style="dim")
            node = tree.root.add(title, data=pack, expand=True)
            for i, lesson in enumerate(pack.lessons, 1):
                leaf = node.add_leaf(
                    lesson_label(i, lesson, states[lesson.id]), data=(pack, lesson)
                )
                if selected == (pack, lesson) or (
                    selected is None
                    and cursor_line is None
                    and states[lesson.id].status in ("open", "in progress")
                ):
                    cursor_line = leaf
        if not self.app.packs:
            tree.root.add_leaf(Text("No lesson pack could be loaded."))
        if cursor_line is not None:
            self.call_after_refresh(tree.move_cursor, cursor_line)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        detail = self.query_one("#lesson-detail", Static)
        data = event.node.data
        if isinstance(data, tuple):
            pack, lesson = data
            state = lesson_states(pack, self.app.progress)[lesson.id]
            text = Text(lesson.title, style="bold")
            text.append(f"\n{lesson.summary}\n" if lesson.summary else "\n")
            text.append(f"\nState: {state.status}")
            if state.total:
                text.append(f"\nExercises solved: {state.solved} of {state.total}")
            if state.waits_for:
                text.append(f"\nComplete first: {', '.join(state.waits_for)}")
            detail.update(text)
        elif isinstance(data, Pack):
            text = Text(data.title, style="bold")
            text.append(f"\nversion {data.version}")
            if data.authors:
                text.append(f" by {', '.join(data.authors)}")
            if data.description:
                text.append(f"\n\n{data.description}")
            detail.update(text)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        self.open_node_lesson()

    def action_open_lesson(self) -> None:
        """Open the lesson under the cursor, unless it is locked."""
        self.open_node_lesson()

    def open_node_lesson(self) -> None:
        tree = self.query_one(LessonTree)
        node = tree.cursor_node
        if node is None or not isinstance(node.data, tuple):
            if node is not None:
                node.toggle()
            return
        pack, lesson = node.data
        state = lesson_states(pack, self.app.progress)[lesson.id]
        if state.status == "locked":
            self.notify(
                f"Complete {', '.join(state.waits_for)} first.",
                title=f"{lesson.title} is locked",
                markup=False,
            )
            return
        from .lesson import LessonScreen

        self.app.push_screen(LessonScreen(pack, lesson))
