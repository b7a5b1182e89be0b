"""Every key of every screen, as the agent has mapped them (``?``)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.i18n import N_, _
from tui.keys import describe, key_for
from tui.screens.common.base import DeskModal


class HelpScreen(DeskModal):
    NOUN = N_("Keys")
    AUTO_FOCUS = "#help-body"
    BINDINGS = [
        Binding("escape,question_mark", "close", N_("Close"), tooltip=N_("Close the list of keys"), id="help.close", priority=True),
    ]

    def __init__(self, sections: list[tuple[str, list[Binding]]] | None = None) -> None:
        super().__init__()
        self.sections = sections or []
        """(screen, its bindings), in the order shown: handed in by the desk, which knows every screen."""
        self.rows: list[tuple[str, list[tuple[str, str, str]]]] = []
        """(screen, [(key as mapped, what it does, more)]) for every screen: what the help shows."""

    def compose(self) -> ComposeResult:
        self.rows = [
            (title, [(key_for(self.app, b, self.desk.keymap), describe(b), b.tooltip) for b in bindings])
            for title, bindings in self.sections
        ]
        with VerticalScroll(id="help-body"):
            yield Static(_("Keys of every screen (remap them in config.toml under [keymap])"), classes="title-bar",
                         markup=False)
            for title, rows in self.rows:
                yield Static(self._table(title, rows), classes="help-section")
        yield from self.status_and_footer()

    @staticmethod
    def _table(title: str, rows: list[tuple[str, str, str]]) -> Table:
        table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None,
                      padding=(0, 1), expand=True)
        table.add_column(width=max([cell_len(key) for key, _d, _t in rows] + [6]), no_wrap=True, style="bold")
        table.add_column(ratio=1)
        for key, description, tooltip in rows:
            text = Text(description)
            if tooltip and tooltip != description:
                text.append(" — " + tooltip, style="dim")
            table.add_row(key, text)
        return table

    def action_close(self) -> None:
        self.dismiss()
