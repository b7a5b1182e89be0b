"""One choice out of a few, each on a single key: ``Kind  p promise  i instalments …``.

Like the call screen's outcome picker, the screen owns the keys (priority
bindings that a focused text field leaves alone); this widget shows them, marks
the one chosen and takes clicks. It is focusable, so a form can start here,
where the single keys work.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.keys import typing_in


class KeyLegend(Widget):
    """Codes, each with its key as the agent has mapped it, the chosen one marked.

    The keys are the screen's priority bindings, which Textual leaves to a text
    field that has the focus (it types them). A legend made with
    ``dims_while_typing`` shows its keys dim while one has: what is shown bold works."""

    keys: reactive[dict[str, str]] = reactive(dict, layout=True)
    """Code → the key as shown (after the agent's keymap)."""
    live: reactive[bool] = reactive(True)
    """Whether the keys work now (no text field has the focus)."""

    def __init__(self, *, dims_while_typing: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.dims_while_typing = dims_while_typing

    def on_mount(self) -> None:
        if self.dims_while_typing:
            self.watch(self.screen, "focused", self._focus_moved)

    def _focus_moved(self, _focused: Widget | None) -> None:
        self.live = not typing_in(self.screen)

    def piece(self, code: str, words: str, chosen: str | None) -> Text:
        """``key words``: clicking it picks ``code``; reversed when it is the one chosen."""
        style = Style(meta={"@click": f"pick({code!r})"})
        if code == chosen:
            style += Style(reverse=True, bold=True)
        piece = Text(style=style)
        key = self.keys.get(code, "")
        if key:
            piece.append(key, style="" if code == chosen else "bold underline" if self.live else "dim")
            piece.append(" ")
        piece.append(words)
        return piece


class ChoiceRow(KeyLegend, can_focus=True):
    DEFAULT_CSS = """
    ChoiceRow {
        height: 1;
        width: 1fr;
        padding: 0 1;
    }
    ChoiceRow:focus { background: $boost; }
    """

    class Picked(Message):
        """A choice was clicked."""

        def __init__(self, row: ChoiceRow, code: str) -> None:
            super().__init__()
            self.row = row
            self.code = code

        @property
        def control(self) -> ChoiceRow:
            return self.row

    chosen: reactive[str | None] = reactive(None)

    def __init__(self, heading: str, choices: dict[str, str], *, dims_while_typing: bool = False,
                 id: str | None = None) -> None:
        """``choices``: code → its words, already in the desk's language."""
        super().__init__(dims_while_typing=dims_while_typing, id=id)
        self.heading = heading
        self.choices = choices

    def action_pick(self, code: str) -> None:
        self.post_message(self.Picked(self, code))

    def render(self) -> Text:
        text = Text()
        text.append(self.heading, style="dim")
        for code, words in self.choices.items():
            text.append(" ")
            text.append_text(self.piece(code, words, self.chosen))
        if cell_len(text.plain) > max(10, self.size.width - 2):
            text.truncate(max(10, self.size.width - 2), overflow="ellipsis")
        return text
