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
from tui.keys import class_bindings, describe, key_for
from tui.screens.common.base import DeskModal


def _sections(app_bindings: list[Binding]) -> list[tuple[str, list[Binding]]]:
    from tui.screens.account.account import AccountScreen
    from tui.screens.supervisor.approvals import ApprovalsScreen
    from tui.screens.call.call import CallScreen
    from tui.screens.escalation.escalate import EscalateScreen
    from tui.screens.escalation.escalations import EscalationsScreen
    from tui.screens.account.handoff import HandoffScreen
    from tui.screens.legal.legal_pack import LegalPackScreen
    from tui.screens.common.login import LoginScreen
    from tui.screens.account.note import NoteScreen
    from tui.screens.account.phones import PhonesScreen
    from tui.screens.plan.plan import PlanScreen
    from tui.screens.supervisor.segments import SegmentFormScreen, SegmentsScreen
    from tui.screens.common.shared import SharedNotesScreen
    from tui.screens.account.timezone import TimezoneScreen
    from tui.screens.worklist.worklist import WorklistScreen

    return [
        (_("Every screen"), app_bindings),
        (_("Sign-in"), class_bindings(LoginScreen)),
        (_("Worklist"), class_bindings(WorklistScreen)),
        (_("Account"), class_bindings(AccountScreen)),
        (_("Call"), class_bindings(CallScreen)),
        (_("Note"), class_bindings(NoteScreen)),
        (_("Plan"), class_bindings(PlanScreen)),
        (_("Approvals"), class_bindings(ApprovalsScreen)),
        (_("Handoff"), class_bindings(HandoffScreen)),
        (_("Time zone"), class_bindings(TimezoneScreen)),
        (_("Phones"), class_bindings(PhonesScreen)),
        (_("Segments"), class_bindings(SegmentsScreen)),
        (_("New segment"), class_bindings(SegmentFormScreen)),
        (_("Shared notes"), class_bindings(SharedNotesScreen)),
        (_("Escalation"), class_bindings(EscalateScreen)),
        (_("Escalations"), class_bindings(EscalationsScreen)),
        (_("Legal pack"), class_bindings(LegalPackScreen)),
        (_("Keys"), class_bindings(HelpScreen)),
    ]


class HelpScreen(DeskModal):
    NOUN = N_("Keys")
    AUTO_FOCUS = "#help-body"
    BINDINGS = [
        Binding("escape,question_mark", "close", N_("Close"), tooltip=N_("Close the list of keys"), id="help.close", priority=True),
    ]

    def __init__(self, app_bindings: list[Binding] | None = None) -> None:
        super().__init__()
        self.app_bindings = app_bindings or []
        """The desk's own keys (the app's, which it hands in): the "Every screen" section."""
        self.rows: list[tuple[str, list[tuple[str, str, str]]]] = []
        """(screen, [(key as mapped, what it does, more)]) for every screen: what the help shows."""

    def compose(self) -> ComposeResult:
        self.rows = [
            (title, [(key_for(self.app, b, self.desk.keymap), describe(b), b.tooltip) for b in bindings])
            for title, bindings in _sections(self.app_bindings)
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
