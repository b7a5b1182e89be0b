"""Hand an account to another agent or team, with a note (``h`` on the account).

Agent: a user name, and the account goes to that agent's team; team: the team's
pool (or, with an agent, that team's agent). The note says why; it is on the
timeline with the move. ``ctrl+s`` hands off, ``escape`` goes back."""

from __future__ import annotations

from pydantic import ValidationError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from backend_client.client import BackendError, Invalid
from backend_client.models import AccountDetail, HandoffCreate
from tui.i18n import N_, _
from tui.screens.common.base import DeskModal


class HandoffScreen(DeskModal):
    NOUN = N_("Handoff")
    AUTO_FOCUS = "#handoff-agent"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Hand off"), tooltip=N_("Hand the account to the agent or team named"),
                id="handoff.save", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; nothing is moved"), id="handoff.back",
                priority=True),
    ]

    def __init__(self, account: AccountDetail) -> None:
        super().__init__()
        self.account = account
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="handoff-box"):
            yield Static(_("Hand off {ref} · {name}").format(ref=self.account.account_ref,
                                                             name=self.account.customer.name),
                         classes="title-bar", markup=False)
            with Horizontal(classes="form-row"):
                yield Label(_("Agent"), classes="row-label")
                yield Input(id="handoff-agent", compact=True, max_length=64, placeholder=_("user name"))
                yield Label(_("or team"), classes="row-label-short")
                yield Input(id="handoff-team", compact=True, max_length=32, placeholder=_("its pool"))
            with Horizontal(classes="form-row"):
                yield Label(_("Note"), classes="row-label")
                yield Input(id="handoff-note", compact=True, max_length=2000, placeholder=_("why, for who takes it"))
            yield Static(_("Now with: {where}").format(where=" · ".join(
                p for p in (self.account.agent, _("team {team}").format(team=self.account.team)
                            if self.account.team else None) if p)), id="handoff-now", markup=False)
            yield Static("", id="handoff-error", markup=False)
        yield from self.status_and_footer()

    def action_back(self) -> None:
        if not self._saving:
            self.dismiss(None)

    def action_save(self) -> None:
        if self._saving:
            return
        self.after_typing(self._save_as_typed, name="handoff-when-typed")

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def _save_as_typed(self) -> None:
        agent, team, note = self._value("handoff-agent"), self._value("handoff-team"), self._value("handoff-note")
        problem = None
        if not agent and not team:
            problem = _("Name the agent or the team who takes the account.")
        elif not note:
            problem = _("Say why in the note: it goes with the account.")
        if problem:
            self._error(problem)
            return
        try:
            body = HandoffCreate(to_agent=agent or None, to_team=team or None, note=note)
        except ValidationError as exc:  # a pasted control character, say: said, and the form kept
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            self._error(_("Cannot save: check {fields}").format(fields=fields))
            return
        self._saving = True
        self.save(body)

    def _error(self, text: str) -> None:
        self.query_one("#handoff-error", Static).update(text)
        self.notify(text, severity="error", markup=False)

    @work(name="hand-off", group="handoff", exit_on_error=False)
    async def save(self, body: HandoffCreate) -> None:
        try:
            done = await self.desk.call(self.desk.api.hand_off(self.account.id, body))
        except Invalid as exc:
            self._saving = False
            fields = exc.field_errors()
            self._error("; ".join(f"{name}: {message}" for name, message in fields.items()) or str(exc))
            return
        except BackendError as exc:
            self._saving = False
            self.desk.report(exc, _("Handoff"))
            return
        target = done.to_agent or _("team {team}").format(team=done.to_team)
        self.notify(_("{ref} handed off to {target}.").format(ref=self.account.account_ref, target=target),
                    title=_("Handoff"), markup=False)
        self.desk.worklist_stale = True
        self.dismiss(done)
