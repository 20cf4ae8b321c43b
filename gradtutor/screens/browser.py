"""The lesson browser: every pack and its lessons with their state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from ..core.outline import BrokenPack, LessonOutline, PackOutline
from ..core.progress import LessonState
from ..core.text import visible
from ..widgets.inputs import HEADER_ICON
from .base import TutorScreen

if TYPE_CHECKING:  # the pack model loads after the first paint
    from ..core.packs import Lesson, Pack

_MARKS = {
    "done": ("✓", "green"),
    "in progress": ("◐", "yellow"),
    "open": ("○", ""),
    "locked": ("⊘", "dim"),  # a glyph every terminal font has (🔒 is an empty box in a browser)
}


def progress_bar(done: int, total: int, width: int = 12) -> Text:
    """A small bar of block characters: `██████░░░░░░ 3/7`."""
    filled = round(width * done / total) if total else 0
    bar = Text("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {done}/{total}", style="dim")
    return bar


def lesson_label(index: int, lesson: Any, state: LessonState) -> Text:
    """A lesson's line in the browser; built as Text so that titles are never markup."""
    mark, style = _MARKS[state.status]
    label = Text(f"{mark} ", style=style)
    label.append(f"{index}. ")
    label.append(lesson.title, style="dim" if state.status == "locked" else "")
    if state.total:
        label.append(f"  {state.solved}/{state.total}", style="dim")
    return label


def _lessons(pack: Pack | PackOutline) -> Sequence[Lesson | LessonOutline]:
    """A pack's lessons, or its outline's."""
    return pack.lessons


class LessonTree(Tree[Any]):
    """Packs as branches, lessons as leaves; packs that could not be loaded at the end."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    pending_cursor: Any = None
    """The node the cursor is about to move to (set until the tree has rendered its lines)."""

    def process_label(self, label: str | Text) -> Text:  # never lesson text as markup
        return super().process_label(Text(label) if isinstance(label, str) else label)

    def action_select_cursor(self) -> None:
        """Enter: select the node under the cursor, or the one it is moving to.

        A key typed the moment the screen appears arrives before the tree has laid out
        its lines (the cursor is not placed yet); it must not be lost.
        """
        if self.cursor_line < 0 and self.pending_cursor is not None:
            self.post_message(Tree.NodeSelected(self.pending_cursor))
            return
        super().action_select_cursor()


class BrowserScreen(TutorScreen):
    """Lists the packs and their lessons; Enter opens a lesson."""

    BINDINGS = [
        Binding("enter", "open_lesson", "Open", show=True),
        # Enter typed before the terminal is in raw mode arrives as a newline (ctrl+j)
        Binding("ctrl+j", "open_lesson", "Open", show=False),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        problem = self.app.progress_problem
        if problem:
            yield Static(Text("⚠ " + problem), id="progress-warning", markup=False)
        with Horizontal(id="browser-body"):
            tree = LessonTree(Text("Packs"), id="lesson-tree")
            tree.show_root = False
            tree.guide_depth = 2
            yield tree
            yield Static(id="lesson-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_tree(initial=True)
        self.query_one(LessonTree).focus()
        # Heavy modules load only once this screen has painted.
        self.call_after_refresh(self.app.start_warm_up)

    def refresh_tree(self, initial: bool = False) -> None:
        """Rebuild the tree from the app's packs (their outlines, until they are loaded)
        and progress.

        The cursor stays where it was unless that lesson is done; otherwise (and on the
        first build) it goes to the lesson visited last when it is not done, or to the first
        lesson not yet completed.
        """
        tree = self.query_one(LessonTree)
        node = None if initial else (tree.pending_cursor or tree.cursor_node)
        selected = (
            (node.data[0].id, node.data[1].id)
            if node is not None and isinstance(node.data, tuple)
            else None
        )
        progress = self.app.progress
        last = progress.last
        tree.clear()
        target = first_open = last_node = None
        for pack in self.app.shelf.shown:
            states = self.app.states(pack)
            done = sum(s.status == "done" for s in states.values())
            title = Text(pack.title + "  ", style="bold")
            title.append_text(progress_bar(done, len(pack.lessons)))
            problems = self.app.pack_problems.get(pack.id, [])
            if problems:
                title.append(f"  ⚠ {len(problems)} problem(s)", style="yellow")
            node = tree.root.add(title, data=pack, expand=True)
            for i, lesson in enumerate(_lessons(pack), 1):
                state = states[lesson.id]
                leaf = node.add_leaf(lesson_label(i, lesson, state), data=(pack, lesson))
                if selected == (pack.id, lesson.id) and state.status != "done":
                    target = leaf  # a lesson just completed gives way to the next one
                if first_open is None and state.status in ("open", "in progress"):
                    first_open = leaf
                if last == (pack.id, lesson.id) and state.status != "done":
                    last_node = leaf
        for broken in self.app.broken_packs:
            label = Text("⚠ ", style="bold red")
            label.append(visible(broken.path.name or str(broken.path)), style="bold")
            label.append(f"  not loaded: {len(broken.problems)} error(s)", style="red")
            tree.root.add_leaf(label, data=broken)
        if not self.app.shelf.shown:
            tree.root.add_leaf(Text("No lesson pack could be loaded."))
        target = target or last_node or first_open
        tree.pending_cursor = target
        if target is not None:
            # The tree knows its lines only once rendered: move the cursor after that.
            self.call_after_refresh(self._apply_cursor, target)

    def packs_loaded(self, changed: bool) -> None:
        """The packs loaded after the browser painted from their outlines: rebuilt when
        they differ from it, else each line now holds the loaded pack and lesson."""
        if changed:
            self.refresh_tree()
            return
        tree = self.query_one(LessonTree)
        for pack_node in tree.root.children:
            found = self.app.find_pack(getattr(pack_node.data, "id", None))
            if found is None:
                continue
            pack_node.data = found
            for leaf in pack_node.children:
                if isinstance(leaf.data, tuple):
                    leaf.data = (found, found.lesson(leaf.data[1].id))

    def _apply_cursor(self, target: TreeNode[Any]) -> None:
        tree = self.query_one(LessonTree)
        if target is not tree.pending_cursor:
            return  # the tree was rebuilt since (the packs loaded): its own call follows
        tree.move_cursor(target)
        tree.pending_cursor = None
        self.show_detail(target)  # the panel never keeps the numbers of the tree before

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        self.show_detail(event.node)

    def show_detail(self, node: TreeNode[Any]) -> None:
        """The side panel for a node of the tree, from the same progress as its label."""
        detail = self.query_one("#lesson-detail", Static)
        data = node.data
        if isinstance(data, tuple):
            pack, lesson = data
            state = self.app.states(pack)[lesson.id]
            text = Text(lesson.title, style="bold")
            text.append(f"\n{lesson.summary}\n" if lesson.summary else "\n")
            text.append(f"\nState: {state.status}")
            if state.total:
                text.append(f"\nExercises solved: {state.solved} of {state.total}")
            if state.waits_for:
                text.append(f"\nComplete first: {pack.titles(state.waits_for)}")
            detail.update(text)
        elif isinstance(data, BrokenPack):
            text = Text(f"{visible(str(data.path))} could not be loaded", style="bold red")
            for problem in data.problems[:12]:
                text.append("\n" + problem.format())
            if len(data.problems) > 12:
                text.append(f"\n… and {len(data.problems) - 12} more")
            text.append("\n\nRun `gradtutor validate` on the pack to see every problem.")
            detail.update(text)
        elif data is not None:  # a pack (or its outline)
            text = Text(data.title, style="bold")
            text.append(f"\nversion {data.version}")
            problems = self.app.pack_problems.get(data.id, [])
            for problem in problems[:8]:
                text.append("\n⚠ " + problem.format(), style="yellow")
            if problems:
                text.append("\n(`gradtutor validate` lists them all)", style="dim")
            if data.authors:
                text.append(f" by {', '.join(data.authors)}")
            if data.description:
                text.append(f"\n\n{data.description}")
            detail.update(text)

    def on_key(self, event: events.Key) -> None:
        """Enter opens the lesson here, at once, rather than by the tree's binding: the
        app holds every key typed after it (they belong to the lesson) until the lesson
        has its answer field focused, or gives them back when no lesson opened."""
        if self.app.screen is not self:
            return
        tree = self.query_one(LessonTree)
        moves = {"down": tree.action_cursor_down, "up": tree.action_cursor_up}
        if event.key in moves and self.focused is tree:
            # at once, in the order typed: as the tree's binding it would act only after
            # an Enter typed right behind it had opened the lesson under the old cursor
            event.stop()
            event.prevent_default()
            if tree.pending_cursor is not None:
                self._apply_cursor(tree.pending_cursor)
            moves[event.key]()
            return
        if event.key not in ("enter", "ctrl+j"):
            return
        event.stop()
        event.prevent_default()
        self.open_node_lesson()
        if self.app.screen is self:  # a pack, a locked lesson: nothing opened
            self.app.release_typeahead()

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        event.stop()
        self.open_node_lesson()

    def action_open_lesson(self) -> None:
        """Open the lesson under the cursor, unless it is locked."""
        self.open_node_lesson()

    def open_node_lesson(self) -> None:
        """Open the lesson under the cursor (the app refuses locked ones)."""
        tree = self.query_one(LessonTree)
        # Enter pressed before the first render placed the cursor: use where it is going.
        node = tree.pending_cursor or tree.cursor_node
        if node is None or not isinstance(node.data, tuple):
            if node is not None:
                node.toggle()
            return
        found = self.app.find_lesson(node.data[0].id, node.data[1].id)
        if found is not None:
            self.app.open_lesson(*found)
