"""The start-up baseline: a bare Textual app (Header, a ListView of nine items, as many as the built-in pack's lessons, Footer)."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Label, ListItem, ListView


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield ListView(*(ListItem(Label(f"Lesson number {i}")) for i in range(1, 10)))
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
