"""Breaches: contacts kept on the record although the compliance rules forbade them
(logged after the fact, SPEC §4), newest first, for the supervisor to follow up.

Each row: when the contact happened, the account, the customer, the agent, the
rules it broke; below, the highlighted one in full (channel, number used,
outcome, note, when it was logged after the fact). ``enter`` opens the account.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backend_client.models import Breach
from tui import fmt
from tui.i18n import N_, _
from tui.labels import CHANNELS, label, rule
from tui.screens.common.queue import QueueScreen, cursor_bindings, fit


class BreachesScreen(QueueScreen[Breach]):
    NOUN = N_("Breaches")
    AUTO_FOCUS = "#breaches"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("enter", "open_account", N_("Account"), tooltip=N_("Open the highlighted breach's account and timeline"),
                id="breaches.account", priority=True),
        *cursor_bindings("breaches"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the breaches again"), id="breaches.reload"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Go back"), id="breaches.back", priority=True),
    ]

    TABLE = "breaches"
    WIDTHS: ClassVar[dict[str, int]] = {"when": 13, "ref": 10, "name": 13, "agent": 8, "rules": 26, "outcome": 7}
    """Columns, in cells, each with its space: 77 fit 80."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Breach] = []
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Breaches"))
        yield DataTable(id="breaches", cursor_type="row", cell_padding=0, zebra_stripes=False)
        yield Static("", id="breaches-empty", markup=False)
        yield Static("", id="breach-detail", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.add_columns({"when": _("When"), "ref": _("Account"), "name": _("Customer"), "agent": _("Agent"),
                          "rules": _("Rule"), "outcome": _("Outcome")})
        self.query_one("#breaches-empty").display = False
        self.load()

    @work(name="breaches", group="breaches", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        page = await self.fetch(self.desk.api.breaches(limit=200), _("Breaches"))
        if page is not None:
            self.show(page.items)
            self._ready()

    def show(self, items: list[Breach]) -> None:
        self.items = items
        table = self.table
        table.clear()
        w = self.WIDTHS
        for i, b in enumerate(items):
            c = b.contact
            table.add_row(
                fit(fmt.when(c.started_at, self.desk.agent_tz), w["when"]), fit(b.account_ref, w["ref"]),
                fit(b.customer_name, w["name"]), fit(c.agent, w["agent"]),
                fit(", ".join(rule(r) for r in c.breach_rules) or "—", w["rules"]),
                fit(c.outcome.value + (f" {c.result.value}" if c.result else ""), w["outcome"]), key=str(i))
        self.query_one("#title", Static).update(
            _("Breaches · contacts kept against the rules: {count}").format(count=len(items)))
        empty = self.query_one("#breaches-empty", Static)
        empty.update(_("No breaches on record."))
        empty.display = not items
        table.display = bool(items)
        self.query_one("#breach-detail").display = bool(items)
        self._show_current()

    @on(DataTable.RowHighlighted, "#breaches")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_current()

    def _show_current(self) -> None:
        detail = self.query_one("#breach-detail", Static)
        b = self.current
        if b is None:
            detail.update("")
            return
        c = b.contact
        text = Text()
        text.append(f"{b.account_ref} {b.customer_name}", style="bold")
        text.append(" · " + _("by {agent}, team {team}").format(agent=c.agent, team=b.team or "—"))
        text.append("\n" + _("Broke: {rules}").format(rules="; ".join(rule(r) for r in c.breach_rules) or "—"),
                    style="bold red")
        when = fmt.when(c.started_at, self.desk.agent_tz)
        if c.after_the_fact:
            line = _("{channel} to {used} at {when}, logged after the fact")
        else:
            line = _("{channel} to {used} at {when}")
        text.append("\n" + line.format(channel=label(CHANNELS, c.channel.value), used=c.used or "—", when=when))
        if c.note:
            text.append("\n" + _("Note: {text}").format(text=c.note))
        detail.update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_account" and self.current is None:
            return None
        return True

    def action_open_account(self) -> None:
        b = self.current
        if b is not None:
            self.desk.nav.account(b.contact.account_id, ref=b.account_ref, name=b.customer_name)

    def action_back(self) -> None:
        self.app.pop_screen()
