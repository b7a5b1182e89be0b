"""Logging a call (or an e-mail, SMS, letter or visit) on one account.

Outcomes and results are on single keys that work while the focus is not in a
text field (a text field types them: they never swallow what is typed into the
note); ``f2`` brings the focus to them from any field, and back after the choice.
Choosing a result implies a right-party contact, and a promise to pay takes the
focus to its amount. The checklist is on ``f3`` (identity verified) and ``f4``
(disclosure given), keys no text field takes, so they work from every field.
``ctrl+s`` saves; ``ctrl+n`` saves and opens the next account, already loaded.
The form is a draft, saved on every change: leaving the screen, losing the
backend or the process keeps it; it comes back with the focus on the outcome
keys, and no field selects its text when reached, so no key replaces it. A save
is written to the outbox before it is sent, so it is recorded exactly once, now
or when the backend is back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from backend_client.client import (
    BackendError,
    BackendUnavailable,
    BadResponse,
    Conflict,
    Invalid,
    ProblemResponse,
    Unauthorized,
)
from backend_client.models import AccountDetail, ComplianceVerdict, ContactCreate, ContactOut
from tui import fmt
from tui.i18n import N_, _
from tui.keys import key_for, key_of
from tui.labels import (
    CHANNELS,
    DIRECTIONS,
    OUTCOMES,
    PARTIES,
    PHONE_KINDS,
    REASONS,
    RESULTS,
    label,
    listing,
    verdict,
)
from tui.screens.common.base import DeskScreen
from tui.widgets.date_echo import DateEcho, DateInput
from tui.widgets.outcome import OutcomePicker
from tui.widgets.tick import Tick

# Results that record a promise or a payment: the customer's identity must be
# verified and the disclosure given first (SPEC §4).
NEEDS_DISCLOSURE = {"PTP", "PLAN", "PAID"}

OUTCOME_KEYS = {"RPC": "1", "NA": "2", "BSY": "3", "VM": "4", "LM": "5", "WN": "6", "DISC": "7", "TPC": "8"}
RESULT_KEYS = {"PTP": "p", "PLAN": "l", "PAID": "dollar_sign", "RTP": "r", "DISP": "u", "HARD": "h", "CB": "b",
               "CEASE": "z", "ATTY": "a", "BK": "k", "COMP": "m"}


def _pick_bindings() -> list[Binding]:
    out = []
    for code, key in OUTCOME_KEYS.items():
        out.append(Binding(key, f"pick('{code}')", OUTCOMES[code],
                           tooltip=N_("Set the outcome; from a text field, go to the outcome keys first"),
                           id=f"call.outcome.{code.lower()}", show=False, priority=True))
    for code, key in RESULT_KEYS.items():
        out.append(Binding(key, f"pick('{code}')", RESULTS[code],
                           tooltip=N_("Set the result (a right-party contact); from a text field, go to the outcome "
                                      "keys first"), id=f"call.result.{code.lower()}",
                           show=False, priority=True))
    return out


class CallScreen(DeskScreen):
    NOUN = N_("Call")
    PALETTE_TITLES = {"call.choose": (N_("Call"), N_("go to the outcome keys"))}
    AUTO_FOCUS = "#picker"
    BINDINGS = [
        Binding("f2", "choose", N_("Outcome"), tooltip=N_("To the outcome and result keys, from any field"),
                id="call.choose", priority=True),
        Binding("ctrl+s", "save", N_("Save"), tooltip=N_("Save the contact and go back to the account"),
                id="call.save", priority=True),
        Binding("ctrl+n", "save_next", N_("Save+next"), tooltip=N_("Save the contact and open the next account"),
                id="call.save_next", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; the draft is kept"), id="call.back", priority=True),
        Binding("f3", "toggle('identity')", N_("Identity verified"),
                tooltip=N_("Tick when the customer's identity is verified"), id="call.identity", priority=True, show=False),
        Binding("f4", "toggle('disclosure')", N_("Disclosure given"),
                tooltip=N_("Tick when the disclosure has been read to the customer"), id="call.disclosure", priority=True, show=False),
        *_pick_bindings(),
    ]

    def __init__(self, account: AccountDetail, *, result: str | None = None) -> None:
        super().__init__()
        self.account = account
        self._preset_result = result
        self.outcome: str | None = None
        self.result: str | None = None
        self.started_at: dt.datetime = dt.datetime.now(dt.UTC)
        self._saving = False
        self._restoring = False
        self._return_to: Widget | None = None
        """The field ``f2`` left, to go back to once the outcome is chosen."""

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        a = self.account
        c = a.customer
        with Horizontal(classes="title-row"):
            yield self.title_bar(_("Call") + f" · {a.account_ref} · {c.name}")
            yield Static("", id="call-timer", markup=False)
        yield OutcomePicker(id="picker")
        with Horizontal(id="checklist"):
            yield Tick(_("Identity verified") + f" ({key_of(self.app, 'call.identity', self.desk.keymap, 'f3')})",
                       id="identity")
            yield Tick(_("Disclosure given") + f" ({key_of(self.app, 'call.disclosure', self.desk.keymap, 'f4')})",
                       id="disclosure")
        yield Static(_("Disclosure: “This is an attempt to collect a debt. Any information obtained will be used for "
                       "that purpose.”"), id="disclosure-text", markup=False)
        yield Static(_("Third party — location only, once: “My name is {agent}. I am trying to confirm where {name} "
                       "lives and how to reach them.” Never mention the debt; name the company only if asked.").format(
                           agent=self.desk.user.display_name if self.desk.user else "", name=c.name), id="tp-script", markup=False)
        with Horizontal(id="ptp-row", classes="form-row"):
            yield Label(_("Promise"), classes="row-label")
            yield Input(placeholder=_("amount ({currency})").format(currency=a.currency), id="ptp-amount",
                        compact=True, max_length=20, restrict=r"[0-9.,'’ \u00a0\u202f]*", select_on_focus=False)
            yield DateInput(id="ptp-date", echo="ptp-read", today=self._today, select_on_focus=False)
            yield DateEcho(id="ptp-read")
        with Horizontal(id="callback-row", classes="form-row"):
            yield Label(_("Call back"), classes="row-label")
            yield Input(placeholder=_("16:30, 2026-03-20 16:30 or +2h"), id="callback", compact=True, max_length=30,
                        select_on_focus=False)
            yield Static("", id="callback-read", markup=False)
        yield Label(_("Note"), classes="field-label")
        yield TextArea(id="note", compact=True, tab_behavior="focus", soft_wrap=True,
                       placeholder=_("What was said (kept as you type)"))
        with Horizontal(classes="form-row"):
            yield Label(_("Reason"), classes="row-label")
            yield Select([(label(REASONS, code), code) for code in REASONS], prompt=_("reason for delinquency"),
                         id="reason", compact=True)
            yield Select([(label(CHANNELS, code), code) for code in CHANNELS], value="phone", allow_blank=False,
                         id="channel", compact=True)
            yield Select([(label(DIRECTIONS, code), code) for code in DIRECTIONS], value="outbound",
                         allow_blank=False, id="direction", compact=True)
        with Horizontal(classes="form-row"):
            yield Label(_("Party"), classes="row-label")
            yield Select([(label(PARTIES, code), code) for code in PARTIES], value="debtor", allow_blank=False,
                         id="party", compact=True)
            used = self._used_options()
            yield Select(used, value=used[0][1] if used else Select.NULL, allow_blank=not used, prompt=_("number used"),
                         id="used", compact=True)
        yield Static("", id="call-verdict", markup=False)
        yield from self.status_and_footer()

    def _used_options(self) -> list[tuple[str, str]]:
        c = self.account.customer
        options: list[tuple[str, str]] = []
        for phone in sorted(c.phones, key=lambda p: not p.is_primary):
            marks = [label(PHONE_KINDS, phone.kind)] + ([_("do not call")] if phone.do_not_call else [])
            options.append((f"☎ {phone.number} ({listing(marks, last_and=False)})", phone.number))
        if c.email:
            options.append((f"✉ {c.email}", c.email))
        for address in c.addresses[:1]:
            options.append((f"⌂ {address.text[:40]}", address.text[:254]))
        return options

    def on_mount(self) -> None:
        self.started_at = self.desk.clock()
        picker = self.query_one(OutcomePicker)
        picker.keys = self._legend_keys()
        picker.jump = key_of(self.app, "call.choose", self.desk.keymap, "f2")
        draft = self.desk.drafts.get(self.draft_key) or self.desk.take_refused(self.account.id, "contact")
        if draft:
            self._restore(draft)
        elif self._preset_result:
            self.action_pick(self._preset_result)
        self._show_rows()
        self.set_class(self._value("party") == "third_party", "-third-party")
        # The account's own verdict first (the backend's for a call to the debtor), then the
        # full verdict for this number at the desk's clock, asked afresh as the settings change.
        self._show_verdict()
        if self._value("direction") != "inbound":
            self._check()
        self._tick()
        if not self.desk.low_bandwidth:
            self.set_interval(1.0, self._tick, name="call-timer")

    def _legend_keys(self) -> dict[str, str]:
        keys = {}
        for binding in _pick_bindings():
            code = binding.action.split("'")[1]
            keys[code] = key_for(self.app, binding, self.desk.keymap)
        return keys

    def place(self) -> tuple[int, str, str, str | None]:
        a = self.account
        return (a.id, a.account_ref, a.customer.name, "call")

    @property
    def draft_key(self) -> str:
        return self.desk.draft_key(self.account.id, "call")

    # -- the timer and the verdict -------------------------------------------------

    def _tick(self) -> None:
        elapsed = (self.desk.clock() - self.started_at).total_seconds()
        if self.desk.low_bandwidth:
            # A thin link (an SSH desk host): whole minutes, drawn when the minute turns. A timer
            # drawing every second kept the link busy, so that sshd's ClientAliveInterval never
            # found it quiet enough to notice a dropped connection (the desk lived on for minutes).
            minutes = int(max(0.0, elapsed) // 60)
            self.query_one("#call-timer", Static).update("⏱ " + _("{minutes} min").format(minutes=minutes))
            self.set_timer(60 - max(0.0, elapsed) % 60 + 0.05, self._tick, name="call-timer")
            return
        self.query_one("#call-timer", Static).update(f"⏱ {fmt.duration(elapsed)}")

    def _show_verdict(self, answer: ComplianceVerdict | None = None) -> None:
        """The backend's verdict: first the account's (kept with it), then for the
        party, number and channel chosen here, asked afresh as they change."""
        a = self.account
        if self._value("direction") == "inbound":
            text, blocked = "✓ " + _("The customer called in: no call rules apply"), False
        elif answer is None:
            text = verdict(a.contactable_now, a.next_contact_at, a.blocks, self.desk.agent_tz, now=self.desk.clock(),
                           places=a.customer.places)
            blocked = not a.contactable_now
        else:
            text = verdict(answer.allowed, answer.next_allowed_at, answer.blocks, self.desk.agent_tz,
                           now=self.desk.clock(), places=answer.places, counts=answer.counts,
                           next_zone=answer.next_allowed_zone)
            blocked = not answer.allowed
        self.query_one("#call-verdict", Static).update(text)
        self.query_one("#call-verdict").set_class(blocked, "-blocked")

    def _value(self, name: str) -> str | None:
        value = self.query_one(f"#{name}", Select).value
        return None if value is Select.NULL else str(value)

    @on(Select.Changed, "#party, #used, #channel, #direction")
    def _setting_changed(self, event: Select.Changed) -> None:
        self.set_class(self._value("party") == "third_party", "-third-party")
        if self._value("direction") == "inbound":
            self.workers.cancel_group(self, "compliance")
            self._show_verdict()
            return
        self._check()

    @work(group="compliance", exclusive=True, exit_on_error=False, name="compliance")
    async def _check(self) -> None:
        """Ask the backend whether this contact (channel, party, number) is lawful now (the desk's clock)."""
        used = self._value("used")
        channel = self._value("channel") or "phone"
        try:
            answer = await self.desk.call(self.desk.api.compliance(
                self.account.id, channel=channel, party=self._value("party") or "debtor",
                used=used if channel == "phone" else None, at=self.desk.clock()))
        except BackendError:
            return  # the account's own verdict stays; the status line says the backend is away
        self._show_verdict(answer)

    # -- choosing -------------------------------------------------------------------

    def action_pick(self, code: str) -> None:
        picker = self.query_one(OutcomePicker)
        if code in OUTCOMES:
            self.outcome = code
            if code != "RPC":
                self.result = None
            if code == "TPC" and self.query_one("#party", Select).value == "debtor":
                self.query_one("#party", Select).value = "third_party"
        elif code in RESULTS:
            self.outcome = "RPC"
            self.result = code
        if self.outcome == "RPC" and self.query_one("#party", Select).value == "third_party":
            self.query_one("#party", Select).value = "debtor"
        picker.outcome, picker.result = self.outcome, self.result
        self._show_rows()
        if not self._restoring:
            # At once (not on the next idle, as focus() does): keys already on their way go there.
            back, self._return_to = self._return_to, None
            if code == "PTP":
                self.set_focus(self.query_one("#ptp-amount", Input))
            elif code == "CB":
                self.set_focus(self.query_one("#callback", Input))
            elif back is not None and back.focusable and self.focused is picker:
                self.set_focus(back)
            self._save_draft()

    def action_choose(self) -> None:
        """``f2``: the focus to the outcome keys; the next choice brings it back."""
        picker = self.query_one(OutcomePicker)
        if self.focused is not picker:
            self._return_to = self.focused
            self.set_focus(picker)

    def watch_focused(self, focused: Widget | None) -> None:
        # Anywhere but the outcome keys (a tab, a click), ``f2``'s way back is forgotten.
        if focused is None or focused.id != "picker":
            self._return_to = None

    @on(OutcomePicker.Picked)
    def _picked(self, event: OutcomePicker.Picked) -> None:
        self.action_pick(event.code)

    def action_toggle(self, which: str) -> None:
        box = self.query_one(f"#{which}", Tick)
        box.value = not box.value

    def _show_rows(self) -> None:
        # Always shown, enabled when they apply: the form never jumps, and the tab
        # order (which follows the layout) is right even before the next repaint.
        for row, wanted in (("#ptp-row", "PTP"), ("#callback-row", "CB")):
            enabled = self.result == wanted
            for field in self.query_one(row).query(Input):
                field.disabled = not enabled

    # -- the draft ----------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        def select(name: str) -> str | None:
            value = self.query_one(f"#{name}", Select).value
            return None if value is Select.NULL else str(value)

        return {
            "outcome": self.outcome, "result": self.result,
            "amount": self.query_one("#ptp-amount", Input).value, "date": self.query_one("#ptp-date", Input).value,
            "callback": self.query_one("#callback", Input).value, "note": self.query_one("#note", TextArea).text,
            "reason": select("reason"), "channel": select("channel"), "direction": select("direction"),
            "party": select("party"), "used": select("used"),
            "identity": self.query_one("#identity", Tick).value,
            "disclosure": self.query_one("#disclosure", Tick).value,
            "started_at": self.started_at.isoformat(),
        }

    def _restore(self, draft: dict[str, Any]) -> None:
        self._restoring = True
        try:
            if draft.get("outcome") or draft.get("result"):
                if draft.get("outcome"):
                    self.action_pick(draft["outcome"])
                if draft.get("result"):
                    self.action_pick(draft["result"])
            self.query_one("#ptp-amount", Input).value = draft.get("amount") or ""
            self.query_one("#ptp-date", Input).value = draft.get("date") or ""
            self.query_one("#callback", Input).value = draft.get("callback") or ""
            self.query_one("#note", TextArea).text = draft.get("note") or ""
            for name in ("reason", "channel", "direction", "party", "used"):
                value = draft.get(name)
                select = self.query_one(f"#{name}", Select)
                if value is not None and value in self._choices(name):
                    select.value = value
            self.query_one("#identity", Tick).value = bool(draft.get("identity"))
            self.query_one("#disclosure", Tick).value = bool(draft.get("disclosure"))
            if draft.get("started_at"):
                try:
                    self.started_at = dt.datetime.fromisoformat(draft["started_at"])
                except ValueError:
                    pass
        finally:
            self._restoring = False
        if draft.get("refused"):
            self.notify(_("This contact was refused by the backend: {reason}").format(reason=draft["refused"]),
                        title=_("Refused"), severity="error", markup=False)
        else:
            self.notify(_("Your draft for this account is back."), title=_("Draft"))
        self._save_draft()

    def _choices(self, name: str) -> set[str]:
        tables = {"reason": REASONS, "channel": CHANNELS, "direction": DIRECTIONS, "party": PARTIES}
        if name in tables:
            return set(tables[name])
        return {value for _label, value in self._used_options()}

    def _save_draft(self) -> None:
        if self._restoring or self._saving or not self.is_mounted:
            return
        values = self.values()
        typed = ("outcome", "result", "amount", "date", "callback", "note", "reason", "identity", "disclosure")
        if any(values[name] for name in typed):
            self.desk.drafts.put(self.draft_key, values)
        else:
            self.desk.drafts.drop(self.draft_key)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Tick.Changed)
    def _changed(self, event: Any) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "callback":
            self._read_callback(event.value)
        if isinstance(event, Select.Changed) and event.select.id == "channel":
            self._channel_changed(str(event.value))
        self._save_draft()

    def _read_callback(self, text: str) -> None:
        read = self.query_one("#callback-read", Static)
        if not text.strip():
            read.update("")
            return
        try:
            at = fmt.parse_when(text, self.desk.clock(), self._customer_tz())
        except fmt.ParseError as exc:
            read.update(str(exc))
            return
        read.update("→ " + _("{customer} customer, {agent} you").format(
            customer=fmt.when(at, self._customer_tz()), agent=fmt.when(at, self.desk.agent_tz)))

    def _channel_changed(self, channel: str) -> None:
        if self._restoring:
            return
        c = self.account.customer
        used = self.query_one("#used", Select)
        wanted = None
        if channel in ("phone", "sms") and c.phones:
            wanted = next((p.number for p in c.phones if p.is_primary), c.phones[0].number)
        elif channel == "email" and c.email:
            wanted = c.email
        elif channel in ("letter", "visit") and c.addresses:
            wanted = c.addresses[0].text[:254]
        if wanted is not None:
            used.value = wanted

    def _today(self) -> dt.date:
        return self.desk.clock().astimezone(self.desk.agent_tz).date()

    def _customer_tz(self) -> dt.tzinfo:
        c = self.account.customer
        return fmt.zone(c.timezone or (c.timezones[0] if c.timezones else None))

    # -- saving ---------------------------------------------------------------------

    def build(self) -> ContactCreate:
        """The contact as typed, checked here first so the agent hears of a mistake at once.

        Raises ``fmt.ParseError`` with a translated message, after moving the focus
        to the field at fault."""

        def fail(message: str, field: str | None = None) -> fmt.ParseError:
            if field:
                self.set_focus(self.query_one(f"#{field}"))
            return fmt.ParseError(message)

        v = self.values()
        if not self.outcome:
            raise fail(_("Choose an outcome first (keys 1–8)."), "picker")
        if self.outcome == "RPC" and not self.result:
            raise fail(_("A right-party contact needs a result (p PTP, r refused, b call back…)."), "picker")
        if self.result in NEEDS_DISCLOSURE and not (v["identity"] and v["disclosure"]):
            raise fail(_("Verify the customer's identity ({identity}) and give the disclosure ({disclosure}) before "
                         "recording a promise or a payment.").format(
                identity=key_of(self.app, "call.identity", self.desk.keymap, "f3"),
                disclosure=key_of(self.app, "call.disclosure", self.desk.keymap, "f4")), "picker")
        ptp = None
        if self.result == "PTP":
            try:
                amount = fmt.parse_amount(v["amount"], self.account.currency)
            except fmt.ParseError as exc:
                raise fail(str(exc), "ptp-amount") from None
            try:
                when = fmt.parse_date(v["date"], self._today())
            except fmt.ParseError as exc:
                raise fail(str(exc), "ptp-date") from None
            if when < self._today():
                raise fail(_("A promise cannot be dated in the past."), "ptp-date")
            if when > self._today() + dt.timedelta(days=365):
                raise fail(_("A promise is dated within a year; longer is a plan."), "ptp-date")
            ptp = {"amount": amount, "date": when.isoformat()}
        callback_at = None
        if self.result == "CB":
            try:
                callback_at = fmt.parse_when(v["callback"], self.desk.clock(), self._customer_tz())
            except fmt.ParseError as exc:
                raise fail(str(exc), "callback") from None
            if callback_at <= self.desk.clock():
                raise fail(_("A call back is named for a time still to come."), "callback")
        if len(v["note"]) > 4000:
            raise fail(_("The note is too long (4,000 characters at most)."), "note")
        elapsed = int((self.desk.clock() - self.started_at).total_seconds())
        body: dict[str, Any] = {
            "channel": v["channel"] or "phone", "direction": v["direction"] or "outbound",
            "party": v["party"] or "debtor", "outcome": self.outcome, "result": self.result, "reason": v["reason"],
            "note": v["note"], "started_at": self.started_at.isoformat(),
            "duration_s": max(0, min(elapsed, 86_400)), "ptp": ptp,
            "callback_at": callback_at.isoformat() if callback_at else None, "used": v["used"],
            "identity_verified": bool(v["identity"]), "disclosure_given": bool(v["disclosure"]),
        }
        try:
            return ContactCreate.model_validate({k: val for k, val in body.items() if val is not None})
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise fail(_("Cannot save: check {fields}").format(fields=fields)) from None

    def action_save(self) -> None:
        self._start_save(then_next=False)

    def action_save_next(self) -> None:
        self._start_save(then_next=True)

    def _start_save(self, *, then_next: bool) -> None:
        if self._saving:
            return
        self._saving = True
        # Keys typed after ctrl+s belong to the screen that comes next: they wait for it,
        # however long the save (and the next account) take.
        self.desk.hold_keys(self.desk.network_hold_s)
        self.after_typing(lambda: self._save_as_typed(then_next), name="save-when-typed")

    def _save_as_typed(self, then_next: bool) -> None:
        try:
            contact = self.build()
        except fmt.ParseError as exc:
            self._saving = False
            self.desk.release_keys()
            self.notify(str(exc), title=_("Not saved yet"), severity="error", markup=False)
            return
        self.save(contact, then_next)

    @work(name="save-contact", group="save", exit_on_error=False)
    async def save(self, contact: ContactCreate, then_next: bool) -> None:
        desk = self.desk
        draft = self.values()
        entry = desk.queue("contact", account_id=self.account.id, account_ref=self.account.account_ref,
                           body=contact.model_dump(mode="json", exclude_none=True), draft=draft)
        try:
            saved = await desk.deliver(entry)
        except (BackendUnavailable, Unauthorized, BadResponse) as exc:
            # Kept in the outbox with its key; sent when the backend is back (or the agent signed in again).
            desk.drafts.drop(self.draft_key)
            desk.say_kept(self, exc, lapsed=_("Your session has ended: the contact is kept on this machine and will "
                                              "be sent when you sign in again."),
                          offline=_("The backend is not answering: the contact is kept on this machine and will be "
                                    "sent when it is back."))
            self._saving = False
            self.desk.release_keys()
            self.dismiss(True)
            return
        except ProblemResponse as exc:
            self._saving = False
            self.desk.release_keys()
            self._refused(exc)
            return
        desk.drafts.drop(self.draft_key)
        self.notify(_("Contact saved on {ref}.").format(ref=self.account.account_ref), title=_("Saved"))
        if isinstance(saved, ContactOut) and saved.result == "PTP":
            self._say_promise(saved)
        if then_next:
            # The desk leases the next account and opens it, loaded; this screen goes with the old one.
            desk.nav.next_account(skip=self.account.id)
            return
        self._saving = False
        self.dismiss(self._plan_prefill(contact) or True)

    def _say_promise(self, saved: ContactOut) -> None:
        """The backend tracks a PTP as a promise (kept or broken by payments): say so, or why not."""
        promise = saved.promise
        if promise is None:
            self.notify(_("The promise is not tracked: {why}").format(why=saved.promise_note or "—"),
                        title=_("Promise"), severity="warning", markup=False)
        elif promise.status == "pending":
            self.notify(_("Promise #{id} of {amount} by {date} waits for a supervisor's approval.").format(
                id=promise.plan_id, amount=fmt.money(promise.amount), date=fmt.date(promise.due)),
                title=_("Promise"), markup=False)
        else:
            self.notify(_("Promise #{id} of {amount} by {date} is tracked: a payment keeps it.").format(
                id=promise.plan_id, amount=fmt.money(promise.amount), date=fmt.date(promise.due)),
                title=_("Promise"), markup=False)

    def _plan_prefill(self, contact: ContactCreate) -> dict[str, str] | None:
        """A plan agreed on the call: the plan form opens with it (PLAN → instalments). A PTP
        needs none: the backend tracks it as a promise of its own."""
        if contact.result == "PLAN":
            return {"kind": "instalment"}
        return None

    def _refused(self, exc: ProblemResponse) -> None:
        if isinstance(exc, Conflict):
            message = self.desk.describe_conflict(exc)
        elif isinstance(exc, Invalid):
            message = "; ".join(f"{field}: {text}" for field, text in exc.field_errors().items()) or str(exc)
            field = next(iter(exc.field_errors()), "")
            target = {"ptp.amount": "ptp-amount", "ptp.date": "ptp-date", "ptp": "ptp-amount",
                      "callback_at": "callback", "note": "note", "party": "party", "result": "picker"}.get(field)
            if target:
                self.set_focus(self.query_one(f"#{target}"))
        else:
            self.desk.report(exc, _("Call"))
            return
        self.notify(message, title=_("Not saved"), severity="error", markup=False)

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if self._saving:
            self.notify(_("Saving… a moment."))
            return
        self._save_draft()
        self.dismiss(False)
