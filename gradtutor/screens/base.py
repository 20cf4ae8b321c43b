"""TutorScreen: a Screen whose `app` is typed as the tutor (posting's `cast` pattern)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from ..app import GradTutorApp


class TutorScreen(Screen[None]):
    """A screen of the tutor: `self.app` is the GradTutorApp, with its packs and progress."""

    @property
    def app(self) -> GradTutorApp:  # type: ignore[override]
        """The tutor, typed."""
        return cast("GradTutorApp", super().app)
