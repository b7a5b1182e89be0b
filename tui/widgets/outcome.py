"""The outcome and result of a call, each on a single key.

The call screen owns the keys (priority bindings, so a text field with the focus
keeps every key it types); this widget shows them, marks what is chosen and
takes clicks. It is focusable, so a call starts with the focus here, where the
single keys work. While a text field has the focus its keys are shown dim, with
the key that brings the focus back here from any field (``jump``).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.reactive import reactive

from tui.i18n import _
from tui.labels import OUTCOMES, RESULTS, label
from tui.widgets.choices import KeyLegend


class OutcomePicker(KeyLegend, can_focus=True):
    DEFAULT_CSS = """
    OutcomePicker {
        height: auto;
        min-height: 4;
        width: 1fr;
        padding: 0 1;
        border-left: outer $panel;
    }
    OutcomePicker:focus { border-left: outer $accent; }
    """

    class Picked(Message):
        """A code was clicked (an outcome such as ``RPC`` or a result such as ``PTP``)."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    outcome: reactive[str | None] = reactive(None)
    result: reactive[str | None] = reactive(None)
    jump: reactive[str] = reactive("")
    """The key that brings the focus here from any field, as shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(dims_while_typing=True, id=id)

    def action_pick(self, code: str) -> None:
        self.post_message(self.Picked(code))

    def _row(self, heading: str, codes: list[str], chosen: str | None) -> Text:
        text = Text()
        text.append(heading, style="dim")
        for code in codes:
            text.append(" ")
            text.append_text(self.piece(code, code, chosen))
        return text

    def render(self) -> Text:
        headings = [_("Outcome"), _("Result")]
        width = max(cell_len(h) for h in headings)
        pad = [h + " " * (width - cell_len(h)) for h in headings]
        results = list(RESULTS)
        lines = [
            self._row(pad[0], list(OUTCOMES), self.outcome),
            # Eleven results do not fit one line of 80 columns: two lines, always split alike.
            self._row(pad[1], results[:6], self.result),
            self._row(" " * width, results[6:], self.result),
        ]
        chosen = Text()
        if self.outcome:
            chosen.append("→ ", style="dim")
            # The name, and the code beside it: the code is what the picker's keys show.
            chosen.append(_("{name} ({code})").format(name=label(OUTCOMES, self.outcome), code=self.outcome),
                          style="bold")
            if self.result:
                chosen.append(" · ")
                chosen.append(_("{name} ({code})").format(name=label(RESULTS, self.result), code=self.result),
                              style="bold")
            if not self.live:
                chosen.append("  ")
                chosen.append(_("({key}, then a key, to change it)").format(key=self.jump), style="dim")
        elif self.live:
            chosen.append(_("Choose an outcome with its key; a result implies a right-party contact."), style="dim")
        else:
            chosen.append(_("You are typing: {key} first, then the outcome's or the result's key.").format(
                key=self.jump), style="dim")
        lines.append(chosen)
        out = Text()
        for i, line in enumerate(lines):
            if i:
                out.append("\n")
            line.truncate(max(10, self.size.width - 2), overflow="ellipsis")
            out.append_text(line)
        return out
