"""Notes shared with other teams (issue 5 item 4), as customer service or sales
read them: an account by the reference the customer quotes, its minimal header
(no phones, addresses or balances) and its shared notes, newest first. Opened
from the command palette: "Shared notes: look up"."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from backend_client.client import BackendError, NotFound
from backend_client.models import SharedNotes
from tui import fmt
from tui.i18n import N_, _
from tui.labels import STATUSES, label
from tui.screens.common.base import DeskModal


class SharedNotesScreen(DeskModal):
    NOUN = N_("Shared notes")
    AUTO_FOCUS = "#shared-ref"
    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Close the shared notes"), id="shared.back", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: SharedNotes | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="shared-box"):
            yield Static(_("Shared notes · what collections shares with other teams"), classes="title-bar",
                         markup=False)
            with Horizontal(classes="form-row"):
                yield Label(_("Account"), classes="row-label")
                yield Input(id="shared-ref", compact=True, max_length=64, placeholder=_("reference, then Enter"))
            yield Static("", id="shared-header", markup=False)
            with VerticalScroll(id="shared-notes"):
                yield Static("", id="shared-list", markup=False)
        yield from self.status_and_footer()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#shared-ref")
    def _look_up(self, event: Input.Submitted) -> None:
        ref = event.value.strip()
        if ref:
            self.look_up(ref)

    @work(name="shared-notes", group="shared", exclusive=True, exit_on_error=False)
    async def look_up(self, ref: str) -> None:
        try:
            found = await self.desk.call(self.desk.api.shared_notes(account_ref=ref))
        except NotFound:
            self.found = None
            self.query_one("#shared-header", Static).update(_("No account {ref}.").format(ref=ref))
            self.query_one("#shared-list", Static).update("")
            return
        except BackendError as exc:
            self.desk.report(exc, _("Shared notes"))
            return
        self.show(found)

    def show(self, found: SharedNotes) -> None:
        self.found = found
        a = found.account
        parts = [a.account_ref, a.customer_name, a.card, label(STATUSES, a.status.value),
                 _("past due") if a.in_collections else _("not past due")]
        if a.team:
            parts.append(_("handled by {who}").format(
                who=" · ".join(p for p in (a.agent, _("team {team}").format(team=a.team)) if p)))
        self.query_one("#shared-header", Static).update(" · ".join(parts))
        tz = self.desk.agent_tz
        lines = [f"{fmt.when(n.created_at, tz)} · {n.author} · {n.text}" for n in found.items]
        self.query_one("#shared-list", Static).update("\n".join(lines) or _("Nothing is shared on this account."))
