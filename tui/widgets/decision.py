"""The one-line decision form under a queue (plan approvals, escalations): what is
being decided, and a note. Enter sends it as ``DecisionRow.Sent``; a decision
that needs a note (a rejection, a return: the agent reads why) is not sent
without one, and the row says so and keeps what was typed.

The screen owns the keys and the request: it opens the row for a decision,
handles ``Sent``, and closes the row when the backend has answered.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label


class DecisionRow(Horizontal):
    """Hidden until ``open``; the app's stylesheet lays it out (``DecisionRow.form-row``)."""

    class Sent(Message):
        """Enter on the note: ``decision`` with ``note`` (stripped; empty when none)."""

        def __init__(self, row: DecisionRow, decision: str, note: str) -> None:
            super().__init__()
            self.row, self.decision, self.note = row, decision, note

        @property
        def control(self) -> DecisionRow:
            return self.row

    def __init__(self, *, needs_note: Mapping[str, tuple[str, str]], id: str | None = None,  # noqa: A002
                 classes: str = "form-row") -> None:
        """``needs_note``: decision -> (what to say, and its title) when its note is empty."""
        super().__init__(id=id, classes=classes)
        self.needs_note = dict(needs_note)
        self.deciding: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("", classes="decision-label row-label-short")
        yield Input(classes="decision-note", compact=True, max_length=2000)

    def on_mount(self) -> None:
        self.display = False

    @property
    def note(self) -> Input:
        return self.query_one(".decision-note", Input)

    def open(self, decision: str, heading: str, hint: str, *, warn: bool = False) -> None:
        """Show the row for ``decision`` with an empty note, focused: the next keys are the note."""
        self.deciding = decision
        self.query_one(".decision-label", Label).update(heading)
        note = self.note
        note.value = ""
        note.placeholder = hint
        self.set_class(warn, "-reject")
        self.display = True
        self.screen.set_focus(note)

    def close(self) -> None:
        self.deciding = None
        self.display = False
        self.note.value = ""

    @on(Input.Submitted, ".decision-note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.deciding is None:
            return
        note = event.value.strip()
        if self.deciding in self.needs_note and not note:
            message, title = self.needs_note[self.deciding]
            self.notify(message, title=title, severity="error")
            return
        self.post_message(self.Sent(self, self.deciding, note))
