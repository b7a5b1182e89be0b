"""A date field that says, beside it, what it reads as while it is typed: ``+7``
echoes ``→ Fri 20 Mar 2026``, a date it cannot read echoes why (the call form's
promise date, the plan form's first due date)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual.widgets import Input, Static

from tui import fmt
from tui.i18n import _


class DateEcho(Static):
    """Where a ``DateInput`` says what it reads as."""

    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)

    def echo(self, text: str, today: dt.date) -> None:
        if not text.strip():
            self.update("")
            return
        try:
            self.update("→ " + fmt.date_weekday(fmt.parse_date(text, today)))
        except fmt.ParseError as exc:
            self.update(str(exc))


class DateInput(Input):
    """A date (or ``+7``), read against ``today()``; what it reads as
    shows in the ``DateEcho`` whose id is ``echo``, as it changes."""

    def __init__(self, *, echo: str, today: Callable[[], dt.date], id: str, **kwargs: Any) -> None:
        super().__init__(placeholder=_("date, or +7"), id=id, compact=True, max_length=20, **kwargs)
        self.echo_id = echo
        self._today = today

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self:
            self.show_reading()

    def show_reading(self) -> None:
        """Echo what the field holds now (a form restoring a draft need not wait for its change)."""
        self.screen.query_one(f"#{self.echo_id}", DateEcho).echo(self.value, self._today())
