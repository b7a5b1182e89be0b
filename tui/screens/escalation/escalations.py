"""The escalations inbox of supervisors and legal officers: the queue of their
role (legal referrals for legal officers, the team's other escalations for
supervisors), those waiting for a decision first, oldest first.

Each row is one escalation (account, customer, kind, status, age, who raised
it); below it, the highlighted one's reason, note, history and documents.
Deciding takes two keys, as in the approvals queue: ``v`` then ``enter`` takes
it in review, ``a`` then ``enter`` accepts (a note is optional), ``r``, the
note, then ``enter`` returns it (a note is required), ``c`` then ``enter``
closes a decided one. ``escape`` leaves the note unsent. ``o`` opens the
account, ``l`` opens a referral's legal pack (saved on this machine, the
Markdown shown on screen).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from backend_client.client import BackendError
from backend_client.models import EscalationOut
from tui import fmt
from tui.i18n import N_, _
from tui.keys import key_of
from tui.labels import DOCUMENT_KINDS, ESCALATION_KINDS, ESCALATION_STATUSES, label
from tui.screens.common.deciding import DecisionQueue
from tui.screens.common.queue import QueueScreen, clip, cursor_bindings
from tui.screens.legal.packs import pack_dir
from tui.widgets.decision import DecisionRow

UNDECIDED = ("open", "in_review")
# action → the statuses it may follow (as the backend's workflow has it)
ALLOWED: dict[str, tuple[str, ...]] = {
    "review": ("open",),
    "accept": ("open", "in_review"),
    "return": ("open", "in_review"),
    "close": ("open", "in_review", "accepted", "returned"),
}


def age(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, shortly: ``12m``, ``5h``, ``3d``."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return _("{n}m").format(n=seconds // 60)
    if seconds < 86400:
        return _("{n}h").format(n=seconds // 3600)
    return _("{n}d").format(n=seconds // 86400)


class EscalationsScreen(DecisionQueue, QueueScreen[EscalationOut]):
    NOUN = N_("Escalations")
    AUTO_FOCUS = "#escalations"
    BINDINGS = [
        Binding("v", "decide('review')", N_("Review"),
                tooltip=N_("Take the highlighted escalation in review: v, then Enter"), id="escalations.review",
                priority=True, show=False),
        Binding("a", "decide('accept')", N_("Accept"), tooltip=N_("Accept the highlighted escalation: a, then Enter"),
                id="escalations.accept", priority=True),
        Binding("r", "decide('return')", N_("Return"),
                tooltip=N_("Return the highlighted escalation: r, say why, then Enter"), id="escalations.return",
                priority=True),
        Binding("c", "decide('close')", N_("Close"), tooltip=N_("Close the highlighted escalation: c, then Enter"),
                id="escalations.close", priority=True, show=False),
        Binding("o", "open_account", N_("Account"), tooltip=N_("Open the highlighted escalation's account"),
                id="escalations.account", priority=True),
        Binding("l", "legal_pack", N_("Legal pack"),
                tooltip=N_("Save the referral's legal pack (PDF and Markdown) on this machine and read it"),
                id="escalations.pack", priority=True),
        Binding("s", "toggle_closed", N_("Closed"), tooltip=N_("Show the closed escalations too, or hide them"),
                id="escalations.closed", priority=True, show=False),
        *cursor_bindings("escalations"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the queue again"), id="escalations.reload",
                show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Leave the note unsent, or go back"), id="escalations.back",
                priority=True),
    ]

    TABLE = "escalations"
    RELOAD_ON_RESUME = True
    WIDTHS: ClassVar[dict[str, int]] = {"ref": 9, "name": 10, "kind": 10, "status": 10, "age": 4, "by": 8}
    """Columns, in cells: 51 and the padding fit 80."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[EscalationOut] = []
        self.full: dict[int, EscalationOut] = {}
        """Escalations with their history and documents, by id, as last loaded."""
        self.show_closed = False
        self._loaded_once = False
        self._busy = False

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Escalations"))
        table: DataTable[Text] = DataTable(id="escalations", cursor_type="row", cell_padding=1, zebra_stripes=False)
        yield table
        yield Static("", id="escalations-empty", markup=False)
        with VerticalScroll(id="escalation-detail-box"):
            yield Static("", id="escalation-detail")
        yield DecisionRow(id="escalation-decision-row", needs_note={
            "return": (_("Say why it is returned: the agent reads it."), _("Not returned yet"))})
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.add_columns({"ref": _("Account"), "name": _("Customer"), "kind": _("Kind"), "status": _("Status"),
                          "age": _("Age"), "by": _("From")})
        self.query_one("#escalations-empty").display = False
        self.query_one("#escalation-detail-box").can_focus = False
        self.load()

    @property
    def role(self) -> str:
        return self.desk.user.role if self.desk.user else ""

    # -- loading ------------------------------------------------------------------

    @work(name="escalations", group="escalations", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        page = await self.fetch(self.desk.api.escalations(limit=200), _("Escalations"))
        if page is not None:
            self.show(page.items)
            self._ready()

    def show(self, items: list[EscalationOut]) -> None:
        keep = self.current.id if self.current else None
        shown = [e for e in items if self.show_closed or e.status != "closed"]
        undecided = sorted((e for e in shown if e.status in UNDECIDED), key=lambda e: (e.created_at, e.id))
        decided = sorted((e for e in shown if e.status not in UNDECIDED),
                         key=lambda e: (e.decided_at or e.updated_at, e.id), reverse=True)
        self.items = undecided + decided
        table = self.table
        table.clear()
        now = self.desk.clock()
        for esc in self.items:
            table.add_row(*self._cells(esc, now), key=str(esc.id))
        heading = _("Legal referrals") if self.role == "legal" else _("Escalations")
        self.query_one("#title", Static).update(_("{heading} · waiting for a decision: {count}").format(
            heading=heading, count=len(undecided)))
        empty = self.query_one("#escalations-empty", Static)
        empty.update(_("Nothing is waiting for a decision.") if not self.show_closed else _("No escalations."))
        empty.display = not self.items
        table.display = bool(self.items)
        self.query_one("#escalation-detail-box").display = bool(self.items)
        if keep is not None:
            row = next((i for i, e in enumerate(self.items) if e.id == keep), 0)
            table.move_cursor(row=row)
        self._show_current()
        self._load_full()

    def _cells(self, esc: EscalationOut, now: dt.datetime) -> list[Text]:
        w = self.WIDTHS
        return [clip(esc.account_ref, w["ref"]), clip(esc.customer_name, w["name"]),
                clip(label(ESCALATION_KINDS, esc.kind), w["kind"]),
                clip(label(ESCALATION_STATUSES, esc.status), w["status"]),
                Text(age(esc.created_at, now), justify="right"), clip(esc.created_by, w["by"])]

    @work(name="escalation-detail", group="escalation-detail", exclusive=True, exit_on_error=False)
    async def _load_full(self) -> None:
        esc = self.current
        if esc is None:
            return
        known = self.full.get(esc.id)
        if known is not None and known.updated_at == esc.updated_at:
            return
        try:
            self.full[esc.id] = await self.desk.call(self.desk.api.escalation(esc.id))
        except BackendError:
            return
        if self.current is not None and self.current.id == esc.id:
            self._show_current()

    # -- the highlighted escalation ------------------------------------------------------

    @on(DataTable.RowHighlighted, "#escalations")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_current()
        self.refresh_bindings()
        self._load_full()

    def _show_current(self) -> None:
        detail = self.query_one("#escalation-detail", Static)
        esc = self.current
        if esc is None:
            detail.update("")
            return
        full = self.full.get(esc.id)
        tz = self.desk.agent_tz
        text = Text()
        text.append(" · ".join((label(ESCALATION_KINDS, esc.kind), esc.account_ref, esc.customer_name,
                                label(ESCALATION_STATUSES, esc.status))), style="bold")
        text.append("\n" + _("Raised by {who} on {when}").format(who=esc.created_by,
                                                                 when=fmt.when(esc.created_at, tz)))
        text.append("\n" + _("Reason: {text}").format(text=esc.reason))
        if esc.note:
            text.append("\n" + _("Note: {text}").format(text=esc.note))
        if esc.decided_by and esc.decided_at:
            text.append("\n" + _("Decided by {who} on {when}").format(who=esc.decided_by,
                                                                     when=fmt.when(esc.decided_at, tz)))
            if esc.decision_note:
                text.append(": " + esc.decision_note)
        if full is not None:
            for event in full.events[1:]:
                text.append("\n  • " + _("{when} {who}: {status}").format(
                    when=fmt.when(event.at, tz), who=event.actor or "—",
                    status=label(ESCALATION_STATUSES, event.status)) + (f" · {event.note}" if event.note else ""),
                    style="dim")
            pdfs = [d for d in full.documents if d.format == "pdf"]
            if pdfs:
                text.append("\n" + _("Legal pack: {documents} ({key} opens it)").format(
                    documents=", ".join(label(DOCUMENT_KINDS, d.kind) for d in pdfs),
                    key=key_of(self.app, "escalations.pack", self.desk.keymap, "l")))
        detail.update(text)

    # -- deciding --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        esc = self.current
        if action in ("decide", "open_account") and esc is None:
            return None
        if action == "legal_pack" and (esc is None or esc.kind != "legal"):
            return False  # only referrals have a pack: not shown for the others
        if action == "decide" and esc is not None and parameters and esc.status not in ALLOWED[str(parameters[0])]:
            return None
        return True

    def action_decide(self, decision: str) -> None:
        esc = self.current
        if esc is None or self._busy:
            return
        if esc.status not in ALLOWED.get(decision, ()):
            self.notify(_("#{id} is {status}: it cannot be that now.").format(
                id=esc.id, status=label(ESCALATION_STATUSES, esc.status)), title=_("Escalations"), severity="warning")
            return
        texts = {
            "review": (_("Review #{id}, note:"), _("optional; Enter takes it in review, Esc leaves it")),
            "accept": (_("Accept #{id}, note:"), _("optional; Enter accepts, Esc leaves it undecided")),
            "return": (_("Return #{id}, why:"), _("the agent reads it; Enter returns it, Esc leaves it undecided")),
            "close": (_("Close #{id}, note:"), _("optional; Enter closes it, Esc leaves it open")),
        }
        heading, hint = texts[decision]
        self.decision_row.open(decision, heading.format(id=esc.id), hint, warn=decision == "return")

    @on(DecisionRow.Sent)
    def _sent(self, event: DecisionRow.Sent) -> None:
        esc = self.current
        if esc is None or self._busy:
            return
        self._busy = True
        self.decide(esc, event.decision, event.note)

    @work(name="decide-escalation", group="decide-escalation", exit_on_error=False)
    async def decide(self, esc: EscalationOut, action: str, note: str) -> None:
        out = await self.send_decision(self.desk.api.escalation_action(esc.id, action, note=note),
                                       lambda reason: _("#{id}: {reason}").format(id=esc.id, reason=reason),
                                       _("Escalations"))
        if out is None:
            return
        self.full[out.id] = out
        self.notify(_("{kind} #{id} on {ref}: {status}.").format(
            kind=label(ESCALATION_KINDS, out.kind), id=out.id, ref=out.account_ref,
            status=label(ESCALATION_STATUSES, out.status)), title=_("Decided"))
        self.desk.worklist_stale = True
        self.show([out if e.id == out.id else e for e in self.items])
        self.load()

    # -- the legal pack ------------------------------------------------------------------

    def action_legal_pack(self) -> None:
        esc = self.current
        if esc is None:
            return
        if esc.kind != "legal":
            self.notify(_("Only a legal referral has a legal pack."), title=_("Legal pack"))
            return
        self.fetch_pack(esc)

    @work(name="legal-pack", group="legal-pack", exclusive=True, exit_on_error=False)
    async def fetch_pack(self, esc: EscalationOut) -> None:
        import asyncio

        desk = self.desk
        try:
            full = await desk.call(desk.api.escalation(esc.id))
            documents = {}
            for doc in full.documents:
                documents[doc.name] = (doc, await desk.call(desk.api.document_bytes(doc)))
        except BackendError as exc:
            desk.report(exc, _("Legal pack"))
            return
        if not documents:
            self.notify(_("This referral has no documents."), title=_("Legal pack"), severity="warning")
            return
        folder = pack_dir(desk.settings.drafts_dir) / f"{full.account_ref}-{full.id}"

        def save() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            for name, (_doc, content) in documents.items():
                (folder / name).write_bytes(content)

        try:
            await asyncio.to_thread(save)
        except OSError as exc:
            self.notify(_("The legal pack could not be saved in {folder}: {error}").format(
                folder=folder, error=exc.strerror or exc), title=_("Legal pack"), severity="error", markup=False)
            return
        self.full[full.id] = full
        self.notify(_("Legal pack saved in {folder}").format(folder=folder), title=_("Legal pack"), markup=False)
        await desk.nav.legal_pack(full, folder, {
            doc.kind.value: content.decode("utf-8", errors="replace")
            for doc, content in documents.values() if doc.format.value == "md"})

    # -- moving and leaving ---------------------------------------------------------------

    def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        self.load()

    def action_open_account(self) -> None:
        esc = self.current
        if esc is None:
            return
        self.desk.nav.account(esc.account_id, ref=esc.account_ref, name=esc.customer_name)

    def action_back(self) -> None:
        if self.decision_row.deciding is not None:
            self._close_note()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
