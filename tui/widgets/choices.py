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


class ChoiceRow(Widget, can_focus=True):
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
    keys: reactive[dict[str, str]] = reactive(dict, layout=True)
    """Code → the key as shown (after the agent's keymap)."""

    def __init__(self, heading: str, choices: dict[str, str], *, id: str | None = None) -> None:
        """``choices``: code → its words, already in the desk's language."""
        super().__init__(id=id)
        self.heading = heading
        self.choices = choices

    def action_pick(self, code: str) -> None:
        self.post_message(self.Picked(self, code))

    def render(self) -> Text:
        text = Text()
        text.append(self.heading, style="dim")
        for code, words in self.choices.items():
            style = Style(meta={"@click": f"pick({code!r})"})
            if code == self.chosen:
                style += Style(reverse=True, bold=True)
            text.append(" ")
            piece = Text(style=style)
            key = self.keys.get(code, "")
            if key:
                piece.append(key, style="bold underline" if code != self.chosen else "")
                piece.append(" ")
            piece.append(words)
            text.append_text(piece)
        if cell_len(text.plain) > max(10, self.size.width - 2):
            text.truncate(max(10, self.size.width - 2), overflow="ellipsis")
        return text
