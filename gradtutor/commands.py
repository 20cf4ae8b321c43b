"""Command palette entries: jump to any open lesson, open the stepper."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

if TYPE_CHECKING:
    from .app import GradTutorApp


class LessonCommands(Provider):
    """`Open lesson: …` for every lesson (locked ones say what they wait for), and the
    stepper."""

    @property
    def tutor(self) -> GradTutorApp:
        """The tutor, typed."""
        return cast("GradTutorApp", self.app)

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.tutor
        out: list[tuple[str, object, str]] = []
        if app.signing_in:
            return out
        app.ensure_loaded()
        for pack in app.packs:
            states = app.states(pack)
            for lesson in pack.lessons:
                state = states[lesson.id]
                status = (
                    f"locked: complete {pack.titles(state.waits_for)} first"
                    if state.status == "locked"
                    else state.status
                )
                out.append(
                    (
                        f"Open lesson: {lesson.title}",
                        partial(app.open_lesson, pack, lesson),
                        f"{pack.title} · {status}",
                    )
                )
        out.append(
            (
                "Open the network stepper",
                app.action_open_stepper,
                "Forward and backward, node by node",
            )
        )
        return out

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands():
            yield DiscoveryHit(Content(name), command, text=name, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, self._highlight(matcher, name), command, text=name, help=help_text)  # type: ignore[arg-type]

    @staticmethod
    def _highlight(matcher: Matcher, name: str) -> Content:
        """Like Matcher.highlight, but lesson titles are never read as markup."""
        content = Content(name)
        _, offsets = matcher.fuzzy_search.match(matcher.query, name)
        for offset in offsets:
            if not name[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
        return content
