"""One account: the customer, the card (masked), balances, days past due and
bucket, flags, why it is in the worklist, whether it may be called now, the
agent's clock beside the customer's, and the timeline, newest first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from backend_client.client import BackendError, Conflict, NotFound, new_idempotency_key
from backend_client.models import AccountDetail, ComplianceVerdict, EscalationOut, PlanOut, Timeline
from tui import fmt
from tui.i18n import N_, _
from tui.keys import key_of
from tui.labels import (
    CHANNELS,
    ESCALATION_KINDS,
    ESCALATION_STATUSES,
    FLAGS,
    OUTCOMES,
    PHONE_KINDS,
    PLAN_KINDS,
    PLAN_STATUSES,
    RESULTS,
    STATUSES,
    bucket_name,
    drafts_line,
    label,
    listing,
    verdict,
    why,
)
from tui.screens.common.base import DeskScreen
from tui.store import Waiting
from tui.widgets.clocks import DualClock
from tui.widgets.timeline import TimelineTable

if TYPE_CHECKING:
    from backend_client.models import PlanPage

T = TypeVar("T")

LETTER_CONFIRM_S = 5.0
"""A second press of the letter key within this long sends the demand letter."""


FORM_ACTIONS = {"call": "contact", "note": "note", "plan": "plan", "escalation": "escalate"}
"""A draft's form → the action that opens it."""


class AccountScreen(DeskScreen):
    NOUN = N_("Account")
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        Binding("c", "contact", N_("Log call"), tooltip=N_("Log a call, e-mail, SMS, letter or visit"),
                id="account.contact", priority=True),
        Binding("n", "note", N_("Note"), tooltip=N_("Add a note to the account"), id="account.note", priority=True),
        Binding("p", "plan", N_("Plan"),
                tooltip=N_("Draft a plan: a promise, instalments, the minimum due or a settlement"),
                id="account.plan", priority=True),
        Binding("e", "escalate", N_("Escalate"),
                tooltip=N_("Escalate: to legal, a supervisor, complaints, disputes, hardship, fraud or an agency"),
                id="account.escalate", priority=True),
        Binding("h", "handoff", N_("Hand off"),
                tooltip=N_("Hand the account to another agent or team, with a note"), id="account.handoff",
                priority=True, show=False),  # in ? and the palette: the footer is full at 80 columns
        Binding("t", "timezone", N_("Time zone"),
                tooltip=N_("Record the time zone the customer confirmed: it replaces the places the account points to"),
                id="account.timezone", priority=True, show=False),
        Binding("f", "phones", N_("Phones"),
                tooltip=N_("Say which number is home, mobile, work or other, and mark numbers not to call"),
                id="account.phones", priority=True, show=False),
        Binding("l", "letter", N_("Demand letter"),
                tooltip=N_("Send the customer a demand letter now (press twice): checked by the compliance engine, "
                           "kept as a PDF and recorded on the timeline"),
                id="account.letter", priority=True, show=False),
        Binding("m", "message", N_("Message"),
                tooltip=N_("Send the customer a templated e-mail or SMS now: previewed in their language and "
                           "checked by the compliance engine as reminders are"),
                id="account.message", priority=True, show=False),
        Binding("r", "reload", N_("Reload"), tooltip=N_("Load the account and its timeline again"),
                id="account.reload", priority=True, show=False),
        Binding("w", "why", N_("Why"), tooltip=N_("Every reason the account is where it is in the worklist"),
                id="account.why", priority=True, show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the worklist; drafts are kept"), id="account.back", priority=True),
    ]
    PALETTE_TITLES = {"account.timezone": (N_("Customer"), N_("confirm time zone")),
                      "account.phones": (N_("Phones"), N_("edit")),
                      "account.letter": (N_("Demand letter"), N_("send")),
                      "account.message": (N_("Message"), N_("send"))}

    def __init__(self, account_id: int, *, ref: str = "", name: str = "", detail: AccountDetail | None = None,
                 asked: dict[str, asyncio.Task[Any]] | None = None, leased: bool = False,
                 form: str | None = None) -> None:
        super().__init__()
        self.account_id = account_id
        self._asked_on_opening = dict(asked or {})
        """Requests made as the account was opened (``detail``, ``timeline``, ``verdict``,
        ``plans``), answered or still on their way: each part is taken from its answer instead
        of being asked again (``_answered``, ``_answer``)."""
        if detail is None:
            detail = self._answered("detail")
        self.leased = leased
        """Opened as *next account*: the lease is let go when the agent goes back without saving."""
        self._ref, self._name = ref, name
        self.detail: AccountDetail | None = detail
        self.timeline: Timeline | None = None
        self.plan: PlanOut | None = None
        """The account's current plan (the open one, else the latest), as last loaded."""
        self._asked: tuple[str, str | None] | None = (FORM_ACTIONS[form], None) if form in FORM_ACTIONS else None
        """A form asked for before the account had loaded (or by ``form``, a draft's form the
        agent was typing when their last desk ended): it opens when it has."""
        self._letter_armed_at: float | None = None
        self._letter_key = ""
        """The demand letter's idempotency key, from the first press: a retry sends it once."""
        self.compliance: ComplianceVerdict | None = None
        """The backend's full verdict on phoning the customer at the desk's clock, as last loaded."""
        self._verdict_unshown = False
        self._verdict_text = ""
        """The verdict on calling as last shown (the why screen repeats it)."""

    def compose(self) -> ComposeResult:
        yield self.title_bar(" · ".join(p for p in (self._ref, self._name) if p) or _("Account"))
        with Horizontal(id="account-top"):
            with Vertical(id="account-customer", classes="panel"):
                yield Static(_("Customer"), classes="panel-title")
                yield Static("", id="customer-name", classes="line", markup=False)
                yield Static("", id="customer-phones", classes="lines", markup=False)
                yield Static("", id="customer-email", classes="line", markup=False)
                yield Static("", id="customer-address", classes="line", markup=False)
            with Vertical(id="account-money", classes="panel"):
                yield Static(_("Account"), classes="panel-title")
                yield Static("", id="account-figures", classes="lines")
                yield Static("", id="account-flags", classes="line", markup=False)
        yield DualClock(clock=self.desk.clock, agent_tz=self.desk.agent_tz, id="account-clocks")
        yield Static("", id="account-verdict", classes="line", markup=False)
        yield Static("", id="account-plan", classes="line", markup=False)
        yield Static("", id="account-escalation", classes="line", markup=False)
        yield Static("", id="account-unsent", classes="line", markup=False)
        yield Static(_("Timeline, newest first"), classes="section-title")
        yield TimelineTable(id="timeline")
        yield Static("", id="timeline-detail", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        self.query_one("#account-escalation").display = False
        if self.detail is not None:
            self.show_detail(self.detail)
        else:
            self.load_detail()
        timeline = self._answered("timeline")
        if timeline is not None:
            self.show_timeline(timeline)
        else:
            self.load_timeline()
        plans = self._answered("plans")
        if plans is not None:
            self._show_plans(plans)
        else:
            self.load_plan()

    def on_screen_resume(self) -> None:
        self._show_unsent()
        if self._verdict_unshown and self.compliance is not None:
            self.show_verdict(self.compliance)
        if getattr(self, "_plan_unshown", False):
            self.show_plan(self.plan)
        if self._escalations_unshown is not None:
            self.show_escalations(self._escalations_unshown)
        if self.is_mounted and self._resumed_once:
            # A supervisor may have decided on the plan (or legal on a referral) meanwhile.
            self.load_plan()
            self._escalations_if_any()
        self._resumed_once = True

    _resumed_once = False
    _escalations_unshown: list[EscalationOut] | None = None

    def ready_for_keys(self) -> bool:
        return self.detail is not None

    def place(self) -> tuple[int, str, str, str | None]:
        d = self.detail
        return (self.account_id, d.account_ref if d else self._ref, d.customer.name if d else self._name, None)

    # -- loading ------------------------------------------------------------------

    def _answered(self, part: str) -> Any:  # noqa: ANN401
        """The answer to ``part`` asked on opening, if it has come and is not an error (it is
        then taken, not asked again); else ``None``, and the part's loader awaits or asks."""
        task = self._asked_on_opening.get(part)
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        del self._asked_on_opening[part]
        return task.result()

    async def _answer(self, part: str, request: Callable[[], Awaitable[T]]) -> T:
        """The answer to ``part``: the one asked on opening (awaited if still on its way; its
        error raised here) the first time, else ``request`` asked now."""
        task = self._asked_on_opening.pop(part, None)
        if task is not None:
            return await task
        return await self.desk.call(request())

    @work(name="account-detail", group="account", exclusive=True, exit_on_error=False)
    async def load_detail(self) -> None:
        try:
            detail = await self._answer("detail", lambda: self.desk.api.account(self.account_id))
        except NotFound as exc:
            self.desk.report(exc, _("Account"))
            self.dismiss_back()
            return
        except BackendError as exc:
            self.desk.report(exc, _("Account"))
            return
        self.show_detail(detail)

    def backend_back(self) -> None:
        """The backend answers again: what could not be loaded while it was away is loaded now
        (and a form asked for meanwhile opens)."""
        if self.detail is None:
            self.load_detail()
        if self.timeline is None:
            self.load_timeline()

    @work(name="account-timeline", group="timeline", exclusive=True, exit_on_error=False)
    async def load_timeline(self) -> None:
        try:
            timeline = await self._answer("timeline", lambda: self.desk.api.timeline(self.account_id))
        except BackendError as exc:
            if not isinstance(exc, NotFound):
                self.desk.report(exc, _("Timeline"))
            return
        self.show_timeline(timeline)

    @work(name="account-verdict", group="account-verdict", exclusive=True, exit_on_error=False)
    async def load_verdict(self) -> None:
        """The backend's full verdict (the places it intersected, what the frequency limits
        counted, whose clock opens next) at the desk's clock; the line built from the
        account detail stays until it comes, and stays if the backend is away."""
        try:
            answer = await self._answer("verdict",
                                        lambda: self.desk.api.compliance(self.account_id, at=self.desk.clock()))
        except BackendError:
            return  # the line keeps what it showed; the status line says why
        self.show_verdict(answer)

    def show_verdict(self, answer: ComplianceVerdict) -> None:
        self.compliance = answer
        if self.app.screen is not self:
            # As for the plan line: no layout change under a form opened from here. Shown on return.
            self._verdict_unshown = True
            return
        self._verdict_unshown = False
        line = verdict(answer.allowed, answer.next_allowed_at, answer.blocks, self.desk.agent_tz,
                       now=self.desk.clock(), places=answer.places, counts=answer.counts,
                       next_zone=answer.next_allowed_zone)
        self._verdict_line(line, blocked=not answer.allowed)

    def _verdict_line(self, line: str, *, blocked: bool) -> None:
        """The verdict, then why the account is in the worklist, as many reasons as fit
        in the line's two rows (the worklist shows them all)."""
        from textual.content import Content

        widget = self.query_one("#account-verdict", Static)
        self._verdict_text = line
        width = widget.content_region.width or max(20, self.app.size.width - 2)
        reasons = [why(r) for r in (self.detail.reasons if self.detail else [])
                   if r.code not in ("contactable", "outside_hours")]
        text = line
        for n in range(len(reasons), 0, -1):
            text = line + " — " + " · ".join(reasons[:n]) + (" …" if n < len(reasons) else "")
            if len(Content(text).wrap(width)) <= 2:
                break
        else:
            text = line
        widget.update(text)
        widget.set_class(blocked, "-blocked")

    @work(name="account-plan", group="account-plan", exclusive=True, exit_on_error=False)
    async def load_plan(self) -> None:
        try:
            page = await self._answer("plans", lambda: self.desk.api.plans(account_id=self.account_id, limit=20))
        except BackendError:
            return  # the line keeps what it showed; the status line says why
        self._show_plans(page)

    def _show_plans(self, page: PlanPage) -> None:
        open_plans = [p for p in page.items if p.status in ("draft", "pending", "active")]
        self.show_plan(open_plans[0] if open_plans else (page.items[0] if page.items else None))

    def show_plan(self, plan: PlanOut | None) -> None:
        self.plan = plan
        if self.app.screen is not self:
            # Not while a form is on top: a layout change underneath would move keys
            # typed ahead (the call screen opened from here). Shown on return.
            self._plan_unshown = True
            return
        self._plan_unshown = False
        line = self.query_one("#account-plan", Static)
        if plan is None:
            line.update("")
            return
        n = len(plan.schedule)
        parts = [_("Plan #{id}").format(id=plan.id), label(PLAN_KINDS, plan.kind), fmt.money(plan.total)]
        if n > 1:
            parts.append(_("{count} payments from {date}").format(count=n, date=fmt.date(plan.schedule[0].due)))
        elif n == 1:
            parts.append(_("due {date}").format(date=fmt.date(plan.schedule[0].due)))
        text = " · ".join(parts) + ": " + label(PLAN_STATUSES, plan.status)
        if plan.status == "rejected" and plan.decision_note:
            text += f" ({plan.decision_note})"
        line.update(text)
        line.set_classes(f"line -{plan.status}")

    def _escalations_if_any(self) -> None:
        """Ask for the account's escalations only when its timeline has some: most
        accounts have none, and the account screen asks nothing more for them."""
        if self.timeline is not None and any(e.kind == "escalation" for e in self.timeline.items):
            self.load_escalations()
        else:
            self.show_escalations([])

    @work(name="account-escalations", group="account-escalations", exclusive=True, exit_on_error=False)
    async def load_escalations(self) -> None:
        try:
            page = await self.desk.call(self.desk.api.escalations(account_id=self.account_id, limit=20))
        except BackendError:
            return  # the line keeps what it showed; the status line says why
        self.show_escalations(page.items)

    def show_escalations(self, items: list[EscalationOut]) -> None:
        """The escalations not yet closed, newest first, on one line (hidden when none)."""
        if self.app.screen is not self:
            # As for the plan line: no layout change under a form opened from here. Shown on return.
            self._escalations_unshown = items
            return
        self._escalations_unshown = None
        line = self.query_one("#account-escalation", Static)
        live = [e for e in items if e.status != "closed"]
        parts = []
        for esc in live[:2]:
            text = _("{kind} #{id}: {status}").format(kind=label(ESCALATION_KINDS, esc.kind), id=esc.id,
                                                      status=label(ESCALATION_STATUSES, esc.status))
            if esc.decided_by and esc.status in ("accepted", "returned"):
                text += " " + _("by {who}").format(who=esc.decided_by)
                if esc.decision_note:
                    text += f" ({esc.decision_note})"
            parts.append(text)
        line.update("⚑ " + _("Escalated: {items}").format(items="; ".join(parts)) if parts else "")
        line.set_classes(f"line -{live[0].status}" if live else "line")
        line.display = bool(parts)

    def dismiss_back(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    # -- showing ------------------------------------------------------------------

    def show_detail(self, d: AccountDetail) -> None:
        self.detail = d
        c = d.customer
        status = label(STATUSES, d.status)
        if d.status == "legal" and d.legal_since is not None:
            status = _("with legal since {date}").format(date=fmt.date(d.legal_since.astimezone(self.desk.agent_tz)))
        self.query_one("#title", Static).update(
            f"{d.account_ref} · {c.name} · {status}"
            + (" · " + _("Team") + f" {d.team}" if d.team else "") + (f" · {d.agent}" if d.agent else ""))
        place = ", ".join(p for p in (c.region, c.country) if p)
        self.query_one("#customer-name", Static).update(
            _("{name} ({place})").format(name=c.name, place=place) if place else c.name)
        phones = []
        for phone in c.phones[:3]:
            marks = [label(PHONE_KINDS, phone.kind)]
            if phone.is_primary:
                marks.append(_("primary"))
            if phone.do_not_call:
                marks.append(_("do not call"))
            phones.append(f"☎ {phone.number}  {listing(marks, last_and=False)}")
        if len(c.phones) > 3:
            phones.append(_("and {count} more numbers").format(count=len(c.phones) - 3))
        self.query_one("#customer-phones", Static).update("\n".join(phones) or _("no phone on record"))
        self.query_one("#customer-email", Static).update(f"✉ {c.email}" if c.email else _("no e-mail on record"))
        address = c.addresses[0].text if c.addresses else _("no address on record")
        self.query_one("#customer-address", Static).update(f"⌂ {address}")
        figures = Table.grid(padding=(0, 1))
        figures.add_column(style="dim", no_wrap=True)
        figures.add_column(no_wrap=True, overflow="ellipsis")
        for name, value in (
            (_("Card"), d.card),
            (_("Balance"), fmt.money(d.balance)),
            (_("Limit"), fmt.money(d.credit_limit)),
            (_("Overdue"), fmt.money(d.overdue)),
            (_("Min. due"), fmt.money(d.minimum_due)),
            (_("Delinquency"), _("DPD {dpd} · bucket {bucket}").format(dpd=d.dpd, bucket=bucket_name(d.bucket))),
        ):
            figures.add_row(name, Text(value))
        self.query_one("#account-figures", Static).update(figures)
        flags = []
        if d.flags.cease:
            flags.append(f"{label(FLAGS, 'cease')}: " + ", ".join(label(CHANNELS, ch) for ch in d.flags.cease))
        flags += [label(FLAGS, name) for name in type(d.flags).model_fields
                  if name != "cease" and getattr(d.flags, name)]
        self.query_one("#account-flags", Static).update(
            _("Flags: {flags}").format(flags=", ".join(flags) if flags else "—"))
        self.query_one("#account-clocks", DualClock).show_zones(c.timezones or ([c.timezone] if c.timezone else []))
        # The account's own answer (kept with it) until the full verdict at the desk's clock comes.
        self._verdict_line(verdict(d.contactable_now, d.next_contact_at, d.blocks, self.desk.agent_tz,
                                   now=self.desk.clock(), places=c.places), blocked=not d.contactable_now)
        answer = self._answered("verdict")
        if answer is not None:
            self.show_verdict(answer)
        else:
            self.load_verdict()
        self._show_unsent()
        if self.app.screen is self:
            self.desk.release_keys()
            self.desk.nav.moved_to(self.place())  # the reference and name, now known
        if self._asked is not None and self.app.screen is self:
            form, result = self._asked
            self._asked = None
            if form == "contact":
                self.action_contact(result=result)
            else:
                getattr(self, f"action_{form}")()

    def show_timeline(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.query_one(TimelineTable).show(timeline.items, self.desk.agent_tz)
        self._escalations_if_any()

    def outbox_changed(self, account_id: int) -> None:
        """Something kept on this machine for an account was sent (or refused)."""
        if account_id == self.account_id:
            self._show_unsent()
            self.load_timeline()

    @on(TimelineTable.Highlighted)
    def _entry_detail(self, event: TimelineTable.Highlighted) -> None:
        entry = event.entry
        who = entry.actor or "—"
        self.query_one("#timeline-detail", Static).update(
            f"{fmt.when(entry.at, self.desk.agent_tz)} · {who} · {event.text}")

    def waiting_changed(self, _waiting: Waiting) -> None:
        """What this machine keeps changed (this desk, or another of the user's)."""
        if self.app.screen is self and self.query("#account-unsent"):  # else on return (or mount)
            self._show_unsent()

    def _show_unsent(self) -> None:
        """What this machine keeps for the account: saved and not yet sent (⧗), and the
        forms with a draft (✎), read afresh from the store every desk of the user shares."""
        line = self.query_one("#account-unsent", Static)
        if self.desk.user is None:
            line.display = False
            return
        server, user = self.desk.server, self.desk.user.username
        entries = self.desk.outbox.for_account(server, user, self.account_id)
        parts = []
        for entry in entries:
            if entry.kind == "contact":
                body = entry.body
                what = label(OUTCOMES, body.get("outcome"))
                if body.get("result"):
                    what += " · " + label(RESULTS, body.get("result"))
            else:
                what = _("note")
            state = _("refused") if entry.state == "refused" else _("unsent")
            parts.append(_("{state}: {what}").format(state=state, what=what))
        text = " · ".join(part for part in ("⧗ " + "; ".join(parts) if parts else "",
                                             drafts_line(self.desk.drafts.forms(server, user, self.account_id)))
                          if part)
        line.update(text)
        line.display = bool(text)

    # -- actions ------------------------------------------------------------------

    def action_why(self) -> None:
        detail = self.detail
        if detail is None:
            return
        self.desk.nav.why(_("Why {ref} {name} is here").format(ref=detail.account_ref, name=detail.customer.name),
                          self._verdict_text,
                          [why(r) for r in detail.reasons if r.code not in ("contactable", "outside_hours")])

    def action_back(self) -> None:
        if self.leased:
            self.leased = False
            self.desk.release_lease(self.account_id)
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load_detail()
        self.load_timeline()

    def _loaded(self, form: str, result: str | None = None) -> bool:
        """Whether the account is loaded; if not, ``form`` opens as soon as it is."""
        if self.detail is None:
            self._asked = (form, result)
            self.notify(_("The account is still loading; the form opens when it has."))
            return False
        return True

    def action_contact(self, result: str | None = None) -> None:
        if not self._loaded("contact", result):
            return
        assert self.detail is not None
        self.desk.nav.contact_form(self.detail, result=result, done=self._after_form)

    def action_plan(self, prefill: dict[str, str] | None = None) -> None:
        if not self._loaded("plan"):
            return
        assert self.detail is not None
        self.desk.nav.plan_form(self.detail, prefill=prefill, done=self._after_form)

    def action_escalate(self) -> None:
        if not self._loaded("escalate"):
            return
        assert self.detail is not None
        self.desk.nav.escalate_form(self.detail, done=self._after_form)

    def action_note(self) -> None:
        from tui.screens.account.note import NoteScreen

        if not self._loaded("note"):
            return
        self.app.push_screen(NoteScreen(self.detail), self._after_form)

    def _after_form(self, saved: bool | dict[str, str] | None) -> None:
        self._show_unsent()
        if saved:
            self.load_timeline()
            self.load_detail()
            self.load_plan()
        if isinstance(saved, dict) and saved.get("kind"):
            # A call agreed a promise or a plan: draft it, prefilled with what was agreed.
            self.action_plan(prefill=saved)

    def action_timezone(self) -> None:
        """The customer confirmed the zone they are in: it replaces every place the account points to."""
        from tui.screens.account.timezone import TimezoneScreen

        if not self._loaded("timezone"):
            return
        self.app.push_screen(TimezoneScreen(self.detail), self._after_edit)

    def action_phones(self) -> None:
        """Each number's kind (some rules count calls per kind) and its do-not-call mark."""
        from tui.screens.account.phones import PhonesScreen

        if not self._loaded("phones"):
            return
        self.app.push_screen(PhonesScreen(self.detail), self._after_edit)

    def _after_edit(self, detail: AccountDetail | bool | None) -> None:
        """Back from a form that changes the account's details (time zone, phones)."""
        if isinstance(detail, AccountDetail):
            self.show_detail(detail)
            self.load_timeline()
        elif detail:
            self.load_detail()  # changed by someone else meanwhile: as it is now

    def action_letter(self) -> None:
        """A demand letter to the customer's address, once confirmed by a second press."""
        if not self._loaded("letter"):
            return
        assert self.detail is not None
        addresses = self.detail.customer.addresses
        if not addresses:
            self.notify(_("There is no postal address on record: no letter can go."), title=_("Demand letter"),
                        severity="error")
            return
        now = time.monotonic()
        if self._letter_armed_at is None or now - self._letter_armed_at > LETTER_CONFIRM_S:
            self._letter_armed_at = now
            self._letter_key = new_idempotency_key()
            self.notify(_("Press {key} again to send a demand letter to {address}.").format(
                key=key_of(self.app, "account.letter", self.desk.keymap, "l"), address=addresses[0].text),
                title=_("Demand letter"), severity="warning", markup=False)
            return
        self._letter_armed_at = None
        self.send_letter(self._letter_key)

    @work(name="send-letter", group="account-letter", exclusive=True, exit_on_error=False)
    async def send_letter(self, key: str) -> None:
        try:
            sent = await self.desk.call(self.desk.api.send_letter(self.account_id, idempotency_key=key))
        except Conflict as exc:
            self.notify(self.desk.describe_conflict(exc) + " · " + exc.problem.detail, title=_("Demand letter"),
                        severity="error", markup=False)
            return
        except BackendError as exc:
            self.desk.report(exc, _("Demand letter"))
            return
        self.notify(_("Demand letter sent to {address}; it is on the timeline.").format(address=sent.used or "—"),
                    title=_("Demand letter"), markup=False)
        self.load_timeline()
        self.load_detail()

    def action_message(self) -> None:
        """One templated e-mail or SMS, previewed and checked before it goes (``MessageScreen``)."""
        from tui.screens.account.message import MessageScreen

        if not self._loaded("message"):
            return
        assert self.detail is not None
        self.app.push_screen(MessageScreen(self.detail), self._after_form)

    def action_handoff(self) -> None:
        from tui.screens.account.handoff import HandoffScreen

        if self.detail is None:
            self.notify(_("The account is still loading; the form opens when it has."))
            return
        self.app.push_screen(HandoffScreen(self.detail), self._after_handoff)

    def _after_handoff(self, done: object) -> None:
        if done is None:
            return
        user = self.desk.user
        if user is not None and (user.role in ("admin", "legal") or getattr(done, "to_team", None) == user.team):
            self.load_detail()
            self.load_timeline()
        else:
            self.app.pop_screen()  # another team's now: back to the worklist
