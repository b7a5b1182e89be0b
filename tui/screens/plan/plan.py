"""Drafting a repayment plan on one account, with its schedule as it is typed.

The kind is on single keys (``p`` promise, ``i`` instalments, ``m`` minimum due,
``s`` settlement) that work while the focus is not in a text field. Every change
asks the backend for a preview (debounced): the schedule, the total, and every
problem inline — which authority limit, what is allowed, what was asked, and
whether submitting will need a supervisor's approval. ``ctrl+s`` saves the plan
as a draft on the account; ``ctrl+t`` (or ``ctrl+enter`` where the terminal sends
it) saves and submits: active at once within the agent's authority, else pending
in a supervisor's queue. The form is kept on this machine as it is typed, so
``escape``, a dropped connection or a killed process lose nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from backend_client.client import (
    BackendError,
    BackendUnavailable,
    BadResponse,
    Conflict,
    Invalid,
    NotFound,
    ProblemResponse,
    Unauthorized,
)
from backend_client.models import AccountDetail, PlanCreate, PlanItemOut, PlanOut, PlanPreview
from tui import fmt
from tui.i18n import N_, _
from tui.keys import key_for, key_of
from tui.labels import FREQUENCIES, PLAN_FIELDS, PLAN_KINDS, PLAN_STATUSES, breach, label
from tui.screens.common.base import DeskScreen
from tui.widgets.choices import ChoiceRow
from tui.widgets.date_echo import DateEcho, DateInput

PREVIEW_AFTER_S = 0.25
"""How long typing must pause before the backend is asked for a preview."""
CANCEL_CONFIRM_S = 5.0
"""A second ``ctrl+x`` within this long cancels the account's open plan."""
OPEN_STATUSES = ("draft", "pending", "active")

KIND_KEYS = {"promise": "p", "instalment": "i", "minimum": "m", "settlement": "s"}

# The fields each kind takes (the others are disabled, so the form never jumps).
FIELDS = ("plan-amount", "plan-count", "plan-frequency", "plan-first", "plan-discount", "plan-note")
USES: dict[str | None, set[str]] = {
    None: {"plan-amount", "plan-first", "plan-note"},
    "promise": {"plan-amount", "plan-first", "plan-note"},
    "minimum": {"plan-amount", "plan-first", "plan-note"},
    "instalment": {"plan-amount", "plan-count", "plan-frequency", "plan-first", "plan-note"},
    "settlement": {"plan-amount", "plan-count", "plan-frequency", "plan-first", "plan-discount", "plan-note"},
}
# Where the agent goes once the kind is chosen.
FIRST_FIELD = {"promise": "plan-amount", "minimum": "plan-first", "instalment": "plan-count",
               "settlement": "plan-discount"}
# The backend's field names → this form's.
WIRE_FIELDS = {"amount": "plan-amount", "count": "plan-count", "frequency": "plan-frequency",
               "first_due": "plan-first", "discount_percent": "plan-discount", "note": "plan-note", "kind": "kinds"}


def _kind_bindings() -> list[Binding]:
    return [Binding(key, f"pick_kind('{kind}')", PLAN_KINDS[kind], tooltip=N_("Choose the kind of plan"),
                    id=f"plan.kind.{kind}", show=False, priority=True) for kind, key in KIND_KEYS.items()]


class PlanScreen(DeskScreen):
    NOUN = N_("Plan")
    AUTO_FOCUS = "#kinds"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save draft"), tooltip=N_("Save the plan as a draft on the account"),
                id="plan.save", priority=True),
        Binding("ctrl+t,ctrl+enter", "submit", N_("Submit"),
                tooltip=N_("Save and submit: active at once within your authority, else to a supervisor"),
                id="plan.submit", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; the draft is kept"), id="plan.back",
                priority=True),
        Binding("ctrl+x", "cancel_plan", N_("Cancel plan"),
                tooltip=N_("Cancel the account's open plan (press twice)"), id="plan.cancel", priority=True,
                show=False),
        *_kind_bindings(),
    ]

    def __init__(self, account: AccountDetail, *, prefill: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.account = account
        self._prefill = prefill
        self.kind: str | None = None
        self.verdict = ""
        """What the preview panel says (every problem, inline), as plain text."""
        self.preview: PlanPreview | None = None
        self._own_ids: set[int] = set()
        """Every draft this form saved: the backend's "plan N is still open" about one of them
        is no problem (saving the form replaces it), even said by a preview that was asked
        before the form's last save."""
        """The backend's last answer on what is typed."""
        self.open_plan: PlanOut | None = None
        """The account's open plan (draft, pending or active), if any."""
        self.plan: PlanOut | None = None
        """The plan saved or submitted from this screen."""
        self.saved_body: dict[str, Any] | None = None
        """What the saved draft was made from: submitting an unchanged form submits it."""
        self._saved_id: int | None = None
        """The draft saved from this form (kept with the form on this machine)."""
        self._idem: tuple[str, dict[str, Any], dict[str, Any]] | None = None
        """The last request sent for this form: its Idempotency-Key, the form's body and the
        request's (the form, the draft it replaces, whether to submit), to send again as it was
        when its answer was lost."""
        self._restoring = False
        self._busy = False
        self._done = False
        self._cancel_armed_at: float | None = None
        self.changed_server = False
        """Something was saved on the account from here (the account screen reloads)."""

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        a = self.account
        yield self.title_bar(" · ".join((_("Plan"), a.account_ref, a.customer.name,
                                         _("balance {amount}").format(amount=fmt.money(a.balance)))))
        yield ChoiceRow(_("Kind"), {k: label(PLAN_KINDS, k) for k in KIND_KEYS}, id="kinds")
        # The tab order is the layout's: amount, discount, payments, frequency, first due, note;
        # fields a kind does not take are disabled, so tab skips them.
        with Horizontal(classes="form-row"):
            yield Label(_("Amount"), classes="row-label")
            yield Input(id="plan-amount", compact=True, max_length=20, restrict=r"[0-9.,'’ \u00a0\u202f]*")
            yield Label(_("Discount"), classes="row-label-short")
            yield Input(placeholder="0", id="plan-discount", compact=True, max_length=6, restrict=r"[0-9.,]*")
            yield Label("%", classes="row-label-short")
            yield Label(_("Payments"), classes="row-label-short")
            yield Input(placeholder="1", id="plan-count", compact=True, max_length=3, restrict=r"[0-9]*")
            yield Select([(label(FREQUENCIES, f), f) for f in FREQUENCIES], value="monthly", allow_blank=False,
                         id="plan-frequency", compact=True)
        with Horizontal(classes="form-row"):
            yield Label(_("First due"), classes="row-label")
            yield DateInput(id="plan-first", echo="plan-first-read", today=self._today)
            yield DateEcho(id="plan-first-read")
        with Horizontal(classes="form-row"):
            yield Label(_("Note"), classes="row-label")
            yield Input(placeholder=_("for the supervisor and the letter (optional)"), id="plan-note", compact=True,
                        max_length=2000)
        yield Static("", id="plan-state", markup=False)
        with Horizontal(id="plan-body"):
            with VerticalScroll(id="plan-schedule-box"):
                yield Static("", id="plan-schedule")
            with VerticalScroll(id="plan-verdict-box"):
                yield Static("", id="plan-verdict")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#plan-verdict-box").can_focus = False
        kinds = self.query_one(ChoiceRow)
        kinds.keys = {b.action.split("'")[1]: key_for(self.app, b, self.desk.keymap) for b in _kind_bindings()}
        draft = self.desk.drafts.get(self.draft_key)
        if self._prefill:
            # What the call just agreed, over a fresh form (the saved draft, if any, stays known).
            kept = {k: v for k, v in (draft or {}).items() if k in ("plan_id", "saved", "idem")}
            self._restore({**kept, **self._prefill}, quiet=True)
            if self.kind:
                self._focus_first(self.kind)
        elif draft:
            self._restore(draft)
        self._enable_fields()
        self._show_state()
        self.load_open_plan()
        self._ask_preview()

    def place(self) -> tuple[int, str, str, str | None]:
        a = self.account
        return (a.id, a.account_ref, a.customer.name, "plan")

    @property
    def draft_key(self) -> str:
        return self.desk.draft_key(self.account.id, "plan")

    # -- the form -----------------------------------------------------------------

    def _input(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    def values(self) -> dict[str, Any]:
        frequency = self.query_one("#plan-frequency", Select).value
        return {
            "kind": self.kind,
            "amount": self._input("plan-amount").value, "count": self._input("plan-count").value,
            "frequency": "monthly" if frequency is Select.NULL else str(frequency),
            "first_due": self._input("plan-first").value, "discount": self._input("plan-discount").value,
            "note": self._input("plan-note").value,
        }

    def _restore(self, draft: dict[str, Any], *, quiet: bool = False) -> None:
        self._restoring = True
        try:
            kind = draft.get("kind")
            if kind in KIND_KEYS:
                self.action_pick_kind(kind)
            for name, field in (("amount", "plan-amount"), ("count", "plan-count"), ("first_due", "plan-first"),
                                ("discount", "plan-discount"), ("note", "plan-note")):
                self._input(field).value = str(draft.get(name) or "")
            if draft.get("frequency") in FREQUENCIES:
                self.query_one("#plan-frequency", Select).value = draft["frequency"]
            if draft.get("plan_id") and isinstance(draft.get("saved"), dict):
                self.saved_body = draft["saved"]
                self._saved_id = int(draft["plan_id"])
            if isinstance(draft.get("idem"), dict) and isinstance(draft["idem"].get("body"), dict):
                request = draft["idem"].get("request")
                self._idem = (str(draft["idem"].get("key")), draft["idem"]["body"],
                              request if isinstance(request, dict) else draft["idem"]["body"])
        finally:
            self._restoring = False
        self.query_one("#plan-first", DateInput).show_reading()
        if not quiet:
            self.notify(_("Your draft for this account is back."), title=_("Draft"))
        self._save_draft()

    def _save_draft(self) -> None:
        if self._restoring or self._done or not self.is_mounted:
            return
        values = self.values()
        if any(values[name] for name in ("kind", "amount", "count", "first_due", "discount", "note")):
            values["plan_id"] = self._saved_id
            values["saved"] = self.saved_body
            if self._idem is not None:
                values["idem"] = {"key": self._idem[0], "body": self._idem[1], "request": self._idem[2]}
            self.desk.drafts.put(self.draft_key, values)
        else:
            self.desk.drafts.drop(self.draft_key)

    def _enable_fields(self) -> None:
        wanted = set(USES.get(self.kind, USES[None]))
        if not self._input("plan-count").value.strip().isdigit() or int(self._input("plan-count").value) < 2:
            wanted.discard("plan-frequency")  # one payment has no frequency
        for name in FIELDS:
            self.query_one(f"#{name}").disabled = self._done or name not in wanted
        self.query_one(ChoiceRow).disabled = self._done
        amount = self._input("plan-amount")
        a = self.account
        # Empty, the amount is the minimum due, or the balance; a settlement takes it or a discount.
        amount.placeholder = {
            "minimum": fmt.money(a.minimum_due),
            "instalment": fmt.money(a.balance),
            "settlement": _("sum to pay"),
        }.get(self.kind or "", _("amount ({currency})").format(currency=a.currency))

    def _focus_first(self, kind: str) -> None:
        # At once (not on the next idle, as focus() does): keys already on their way go there.
        self.set_focus(self.query_one(f"#{FIRST_FIELD[kind]}"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._done and action in ("save", "submit", "pick_kind"):
            return None
        return True

    def action_pick_kind(self, kind: str) -> None:
        if self._done or kind not in KIND_KEYS:
            return
        self.kind = kind
        self.query_one(ChoiceRow).chosen = kind
        self._enable_fields()
        if not self._restoring:
            self._focus_first(kind)
            self._save_draft()
            self._ask_preview()

    @on(ChoiceRow.Picked, "#kinds")
    def _kind_clicked(self, event: ChoiceRow.Picked) -> None:
        self.action_pick_kind(event.code)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "plan-count":
            self._enable_fields()
        if self._restoring:
            return
        self._save_draft()
        self._ask_preview()

    def _today(self) -> dt.date:
        return self.desk.clock().astimezone(self.desk.agent_tz).date()

    def read_form(self) -> tuple[PlanCreate | None, list[tuple[str, str]]]:
        """The plan as typed, or what is wrong with it (field id, message), checked here first."""
        v = self.values()
        kind = self.kind
        if kind is None:
            return None, [("kinds", _("Choose the kind of plan with its key: {keys}.").format(
                keys=", ".join(f"{key_of(self.app, f'plan.kind.{k}', self.desk.keymap, KIND_KEYS[k])} "
                               f"{label(PLAN_KINDS, k)}" for k in KIND_KEYS)))]
        problems: list[tuple[str, str]] = []
        amount = None
        discount = None
        if kind == "settlement" and v["discount"].strip():
            raw = v["discount"].strip().replace(",", ".")
            try:
                value: Decimal | None = Decimal(raw)
            except InvalidOperation:
                value = None
            if value is None or not Decimal(0) < value < Decimal(100) or value != value.quantize(Decimal("0.01")):
                problems.append(("plan-discount", _("Not a discount: {text} (a percentage, like 15)").format(
                    text=v["discount"].strip())))
            else:
                discount = format(value.normalize(), "f")
        if v["amount"].strip():
            try:
                amount = fmt.parse_amount(v["amount"], self.account.currency)
            except fmt.ParseError as exc:
                problems.append(("plan-amount", str(exc)))
            if kind == "settlement" and discount is not None:
                problems.append(("plan-amount", _("Give the amount to pay or the discount, not both.")))
        elif kind == "promise":
            problems.append(("plan-amount", _("Type the amount promised.")))
        elif kind == "settlement" and discount is None and not v["discount"].strip():
            problems.append(("plan-amount", _("Type the amount to pay, or the discount.")))
        count = 1
        if kind in ("instalment", "settlement"):
            if v["count"].strip():
                count = int(v["count"])
                if not 1 <= count <= 130:
                    problems.append(("plan-count", _("Between 1 and 130 payments.")))
            elif kind == "instalment":
                problems.append(("plan-count", _("Type the number of payments.")))
        first = None
        if not v["first_due"].strip():
            problems.append(("plan-first", _("Type the first due date (a date, or +7).")))
        else:
            try:
                first = fmt.parse_date(v["first_due"], self._today())
            except fmt.ParseError as exc:
                problems.append(("plan-first", str(exc)))
            else:
                if first < self._today():
                    problems.append(("plan-first", _("The first payment cannot be dated in the past.")))
        if problems or first is None:
            return None, problems
        body: dict[str, Any] = {"kind": kind, "first_due": first.isoformat(), "note": v["note"]}
        if amount is not None:
            body["amount"] = amount
        if kind in ("instalment", "settlement"):
            body["count"] = count
            body["frequency"] = v["frequency"]
        if discount is not None:
            body["discount_percent"] = discount
        try:
            return PlanCreate.model_validate(body), []
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            return None, [("kinds", _("Cannot save: check {fields}").format(fields=fields))]

    # -- the preview -------------------------------------------------------------

    def _ask_preview(self) -> None:
        if self._done or not self.is_mounted:
            return
        self._preview()

    @work(name="plan-preview", group="plan-preview", exclusive=True, exit_on_error=False)
    async def _preview(self) -> None:
        await asyncio.sleep(PREVIEW_AFTER_S)
        plan, problems = self.read_form()
        if plan is None:
            self.preview = None
            self._show_schedule([])
            self._show_verdict(None, problems)
            return
        try:
            answer = await self.desk.call(self.desk.api.preview_plan(self.account.id, plan))
        except BackendUnavailable:
            self._show_verdict(None, [("", _("The backend is not answering: no schedule yet. What is typed is "
                                            "kept on this machine."))])
            return
        except Invalid as exc:
            self.preview = None
            self._show_schedule([])
            self._show_verdict(None, [(WIRE_FIELDS.get(f, ""), f"{label(PLAN_FIELDS, f)}: {m}")
                                      for f, m in exc.field_errors().items()] or [("", str(exc))])
            return
        except BackendError as exc:
            self._show_verdict(None, [("", str(exc))])
            return
        self.preview = answer
        self._show_schedule(answer.schedule)
        self._show_verdict(answer, [])

    def _show_schedule(self, items: list[PlanItemOut]) -> None:
        box = self.query_one("#plan-schedule", Static)
        if not items:
            box.update(Text(_("The schedule shows here as you type."), style="dim"))
            return
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, expand=True,
                      header_style="bold")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column(_("Due"), no_wrap=True)
        table.add_column(_("Amount"), justify="right", no_wrap=True)
        for item in items:
            table.add_row(str(item.seq), fmt.date(item.due), fmt.money(item.amount))
        box.update(table)

    def _own_draft(self, plan: PlanOut | None) -> bool:
        user = self.desk.user
        return (plan is not None and plan.status == "draft" and user is not None
                and plan.created_by == user.username)

    def _show_verdict(self, answer: PlanPreview | None, problems: list[tuple[str, str]]) -> None:
        text = Text()

        def line(words: str, style: str = "") -> None:
            if text:
                text.append("\n")
            text.append(words, style=style)

        if answer is not None:
            money = _("Total {total}").format(total=fmt.money(answer.total))
            line(money, "bold")
            extras = []
            if answer.discount and answer.discount.amount_minor:
                extras.append(_("discount {amount}").format(amount=fmt.money(answer.discount)))
            if answer.fee and answer.fee.amount_minor:
                extras.append(_("fee {amount}").format(amount=fmt.money(answer.fee)))
            if answer.interest and answer.interest.amount_minor:
                extras.append(_("interest {amount}").format(amount=fmt.money(answer.interest)))
            if extras:
                text.append(" · " + " · ".join(extras))
            n = len(answer.schedule)
            if n == 1:
                line(_("One payment, on {date}").format(date=fmt.date(answer.schedule[0].due)))
            elif n > 1:
                line(_("{count} payments, {first} to {last}").format(
                    count=n, first=fmt.date(answer.schedule[0].due), last=fmt.date(answer.schedule[-1].due)))
            refused = {b.limit for b in answer.refused}
            errors = [e for e in answer.errors if not self._replaceable(e.message)]
            if answer.refused:
                line("✗ " + _("Beyond every authority: cannot be saved."), "bold red")
                for b in answer.refused:
                    line("  • " + breach(b))
            approval = [b for b in answer.breaches if b.limit not in refused]
            if approval:
                line("⚠ " + _("Needs approval: beyond your authority."), "bold yellow")
                for b in approval:
                    line("  • " + breach(b))
            elif not answer.refused and not errors and answer.schedule:
                line("✓ " + _("Within your authority: active on submit."), "bold green")
            for e in errors:
                line("✗ " + self._error_text(e.field, e.message), "red")
        for _field, message in problems:
            line("✗ " + message if message else "", "red")
        self.verdict = text.plain
        self.query_one("#plan-verdict", Static).update(text)

    def _replaceable(self, message: str) -> bool:
        """The backend's "plan N is still open" about this agent's own draft, which saving replaces."""
        plan = self.open_plan
        own = self._own_ids | ({plan.id} if self._own_draft(plan) and plan is not None else set())
        return any(f"plan {plan_id} " in message for plan_id in own)

    def _error_text(self, field: str, message: str) -> str:
        plan = self.open_plan
        if plan is not None and f"plan {plan.id} " in message:
            return _("Plan #{id} ({status}) is still open on this account: cancel it first ({key}).").format(
                id=plan.id, status=label(PLAN_STATUSES, plan.status),
                key=key_of(self.app, "plan.cancel", self.desk.keymap, "ctrl+x"))
        return f"{label(PLAN_FIELDS, field)}: {message}" if field else message

    # -- the account's open plan ---------------------------------------------------

    @work(name="plan-open", group="plan-open", exclusive=True, exit_on_error=False)
    async def load_open_plan(self) -> None:
        try:
            self.open_plan = await self._fetch_open()
        except BackendError:
            return
        if self._saved_id is not None and (self.open_plan is None or self.open_plan.id != self._saved_id):
            # The saved draft is gone (submitted or cancelled elsewhere): the form is just a form again.
            self._saved_id, self.saved_body = None, None
            self._save_draft()
        self._show_state()
        if self.preview is not None:
            self._show_verdict(self.preview, [])

    async def _fetch_open(self) -> PlanOut | None:
        page = await self.desk.call(self.desk.api.plans(account_id=self.account.id, limit=20))
        return next((p for p in page.items if p.status in OPEN_STATUSES), None)

    def _show_state(self) -> None:
        state = self.query_one("#plan-state", Static)
        plan = self.plan if self._done else self.open_plan
        text = ""
        classes = ""
        if self._done and plan is not None:
            back = key_of(self.app, "plan.back", self.desk.keymap, "escape")
            if plan.status == "pending":
                text = "⧗ " + _("Plan #{id} is pending approval: it is in a supervisor's queue. {key}: back to "
                                "the account.").format(id=plan.id, key=back)
                classes = "-pending"
            else:
                first = plan.schedule[0].due if plan.schedule else None
                text = "✓ " + _("Plan #{id} is {status}; the first payment is due {date}. {key}: back to the "
                                "account.").format(id=plan.id, status=label(PLAN_STATUSES, plan.status),
                                                   date=fmt.date(first), key=back)
                classes = "-active"
        elif plan is not None and self._own_draft(plan):
            submit = key_of(self.app, "plan.submit", self.desk.keymap, "ctrl+t")
            text = _("Draft #{id} is saved on the account: {key} submits it; a changed form replaces it.").format(
                id=plan.id, key=submit)
        elif plan is not None:
            text = _("This account has a plan {status}: #{id}, {kind}, {total}. A new plan needs it cancelled "
                     "first ({key}).").format(status=label(PLAN_STATUSES, plan.status), id=plan.id,
                                              kind=label(PLAN_KINDS, plan.kind), total=fmt.money(plan.total),
                                              key=key_of(self.app, "plan.cancel", self.desk.keymap, "ctrl+x"))
            classes = "-open"
        state.update(text)
        state.display = bool(text)
        state.set_classes(classes)

    # -- saving and submitting -------------------------------------------------------

    def action_save(self) -> None:
        self._start(submit=False)

    def action_submit(self) -> None:
        self._start(submit=True)

    def _start(self, *, submit: bool) -> None:
        if self._busy or self._done:
            return
        self._busy = True
        self.desk.hold_keys()
        self.after_typing(lambda: self._commit_as_typed(submit), name="plan-when-typed")

    def _commit_as_typed(self, submit: bool) -> None:
        plan, problems = self.read_form()
        if plan is None:
            self._busy = False
            self.desk.release_keys()
            field, message = problems[0]
            if field:
                self.set_focus(self.query_one(f"#{field}"))
            self._show_verdict(None, problems)
            self.notify(message, title=_("Not saved yet"), severity="error", markup=False)
            return
        self._commit(plan, submit)

    def _request(self, plan: PlanCreate, body: dict[str, Any], submit: bool) -> tuple[str, PlanCreate]:
        """The request that saves this form, and its key: the one sent before if this form was
        sent already and its answer lost (sent again, it is answered as the first time); else a
        new one, replacing the agent's own open draft and submitting, if asked, in the same
        transaction (issue 16 item 4)."""
        if self._idem is not None and self._idem[1] == body:
            return self._idem[0], PlanCreate.model_validate(self._idem[2])
        replaces = self.open_plan.id if self._own_draft(self.open_plan) and self.open_plan is not None else None
        request = plan.model_copy(update={"replaces": replaces, "submit": submit})
        self._idem = (uuid.uuid4().hex, body, request.model_dump(mode="json"))
        return self._idem[0], request

    @work(name="save-plan", group="plan-save", exit_on_error=False)
    async def _commit(self, plan: PlanCreate, submit: bool) -> None:
        desk = self.desk
        api = desk.api
        body = plan.model_dump(mode="json")
        try:
            try:
                self.open_plan = await self._fetch_open()
            except NotFound:
                self.open_plan = None
            out: PlanOut | None = None
            open_plan = self.open_plan
            if self._own_draft(open_plan) and open_plan is not None and open_plan.id == self._saved_id \
                    and self.saved_body == body:
                out = open_plan  # saved as typed: submit it as it is
            else:
                # One request: the draft it replaces cancelled, the new one saved (and submitted).
                key, request = self._request(plan, body, submit)
                self._save_draft()
                out = await desk.call(api.draft_plan(self.account.id, request, idempotency_key=key))
                self.changed_server = True
                self._saved_id, self.saved_body = out.id, body
                self._own_ids.add(out.id)
                self.open_plan = out
                self._save_draft()
            if submit and out.status == "draft":
                out = await desk.call(api.plan_action(out.id, "submit"))
                self.changed_server = True
        except (BackendUnavailable, Unauthorized, BadResponse) as exc:
            self._busy = False
            desk.release_keys()
            if isinstance(exc, BackendUnavailable):
                desk.offline_said()
                self.notify(_("The backend is not answering: the plan is not saved yet. The form is kept on this "
                              "machine; save it when the backend is back."), title=_("Not saved"), severity="warning")
            return
        except ProblemResponse as exc:
            self._busy = False
            desk.release_keys()
            self._refused(exc)
            self.load_open_plan()
            return
        self._busy = False
        desk.release_keys()
        self.plan = out
        self.open_plan = out
        if submit:
            self._done = True
            desk.drafts.drop(self.draft_key)
            self._enable_fields()
            self.workers.cancel_group(self, "plan-preview")
            self.set_focus(None)
            status = label(PLAN_STATUSES, out.status)
            self.notify(_("Plan #{id} on {ref}: {status}.").format(id=out.id, ref=self.account.account_ref,
                                                                   status=status), title=_("Submitted"))
        else:
            self.notify(_("Plan saved as draft #{id} on {ref}.").format(id=out.id, ref=self.account.account_ref),
                        title=_("Saved"))
        self._show_state()
        if self.preview is not None:
            self._show_verdict(self.preview, [])
        self.refresh_bindings()

    def _refused(self, exc: ProblemResponse) -> None:
        if isinstance(exc, Invalid):
            errors = exc.field_errors()
            message = "; ".join(self._error_text(f, m) for f, m in errors.items()) or str(exc)
            target = next((WIRE_FIELDS[f] for f in errors if f in WIRE_FIELDS), None)
            if target:
                self.set_focus(self.query_one(f"#{target}"))
        elif isinstance(exc, Conflict):
            detail = exc.problem.detail or exc.problem.title
            message = self._error_text("", detail) if self.open_plan is not None else detail
        else:
            self.desk.report(exc, _("Plan"))
            return
        self.notify(message, title=_("Not saved"), severity="error", markup=False)

    # -- cancelling the open plan ------------------------------------------------------

    def action_cancel_plan(self) -> None:
        plan = self.plan if self._done else self.open_plan
        if plan is None or plan.status not in OPEN_STATUSES:
            self.notify(_("This account has no open plan."), title=_("Plan"))
            return
        now = asyncio.get_running_loop().time()
        if self._cancel_armed_at is None or now - self._cancel_armed_at > CANCEL_CONFIRM_S:
            self._cancel_armed_at = now
            self.notify(_("Press {key} again to cancel plan #{id} ({status}).").format(
                key=key_of(self.app, "plan.cancel", self.desk.keymap, "ctrl+x"), id=plan.id,
                status=label(PLAN_STATUSES, plan.status)), title=_("Cancel plan"), severity="warning")
            return
        self._cancel_armed_at = None
        self._cancel(plan.id)

    @work(name="cancel-plan", group="plan-save", exit_on_error=False)
    async def _cancel(self, plan_id: int) -> None:
        try:
            out = await self.desk.call(self.desk.api.plan_action(plan_id, "cancel"))
        except BackendError as exc:
            self.desk.report(exc, _("Cancel plan"))
            return
        self.changed_server = True
        self.notify(_("Plan #{id} is cancelled.").format(id=out.id), title=_("Cancel plan"))
        if self._saved_id == out.id:
            self._saved_id, self.saved_body = None, None
        self.open_plan = None
        self.plan = None
        self._done = False
        self._enable_fields()
        self._save_draft()
        self._show_state()
        self.refresh_bindings()
        self._ask_preview()

    # -- leaving ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if self._busy:
            self.notify(_("Saving… a moment."))
            return
        self._save_draft()
        self.dismiss(self.changed_server)
