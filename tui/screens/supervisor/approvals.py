"""The supervisor's approvals queue: the team's plans beyond their drafters' authority.

Each row is one pending plan (account, customer, kind, total, discount, first due,
who drafted it, which limits it goes beyond); below it, the highlighted plan's
schedule, the account's summary and its earlier plans. Deciding takes two keys:
``a`` then ``enter`` approves (a note is optional), ``r``, the note, then
``enter`` rejects (a note is required). ``escape`` leaves the note unsent.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from backend_client.client import BackendError, NotFound
from backend_client.models import AccountDetail, PlanOut
from tui import fmt
from tui.i18n import N_, _
from tui.labels import LIMITS, PLAN_KINDS, PLAN_STATUSES, breach, bucket_name, label
from tui.screens.common.deciding import DecisionQueue
from tui.screens.common.queue import QueueScreen, clip, cursor_bindings
from tui.widgets.decision import DecisionRow


def discount_percent(plan: PlanOut) -> str:
    """The discount as a share of the balance when drafted (``20 %``), or ``—``."""
    if not plan.discount.amount_minor or plan.balance_at_draft.amount_minor <= 0:
        return "—"
    tenths = round(plan.discount.amount_minor * 1000 / plan.balance_at_draft.amount_minor)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


class ApprovalsScreen(DecisionQueue, QueueScreen[PlanOut]):
    NOUN = N_("Approvals")
    AUTO_FOCUS = "#approvals"
    BINDINGS = [
        Binding("a", "decide('approve')", N_("Approve"), tooltip=N_("Approve the highlighted plan: a, then Enter"),
                id="approvals.approve", priority=True),
        Binding("r", "decide('reject')", N_("Reject"),
                tooltip=N_("Reject the highlighted plan: r, say why, then Enter"), id="approvals.reject",
                priority=True),
        Binding("o", "open_account", N_("Account"), tooltip=N_("Open the highlighted plan's account and timeline"),
                id="approvals.account", priority=True),
        *cursor_bindings("approvals"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the queue again"), id="approvals.reload",
                show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Leave the note unsent, or go back"), id="approvals.back",
                priority=True),
    ]

    TABLE = "approvals"
    RELOAD_ON_RESUME = True
    WIDTHS: ClassVar[dict[str, int]] = {"ref": 8, "name": 9, "kind": 10, "total": 11, "discount": 5, "first": 7,
                                        "by": 6, "limits": 8}
    """Columns, in cells: 64 and the padding fit 80 (a date in Chinese, 3月18日, is 7)."""
    GIVES = ("name", "limits", "kind", "by")

    def __init__(self) -> None:
        super().__init__()
        self.items: list[PlanOut] = []
        self.accounts: dict[int, AccountDetail] = {}
        self.history: dict[int, list[PlanOut]] = {}
        """``approve`` or ``reject`` while the note is being typed."""
        self._loaded_once = False
        self._busy = False

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Approvals · plans beyond their drafter's authority"))
        table: DataTable[Text] = DataTable(id="approvals", cursor_type="row", cell_padding=1, zebra_stripes=False)
        yield table
        yield Static("", id="approvals-empty", markup=False)
        with Horizontal(id="approval-body"):
            with VerticalScroll(id="approval-schedule-box"):
                yield Static("", id="approval-schedule")
            with VerticalScroll(id="approval-detail-box"):
                yield Static("", id="approval-detail")
        yield DecisionRow(id="decision-row", needs_note={
            "reject": (_("Say why the plan is rejected: the agent reads it."), _("Not rejected yet"))})
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.add_columns({"ref": _("Account"), "name": _("Customer"), "kind": _("Kind"), "total": _("Total"),
                          "discount": _("Disc"), "first": _("Due"), "by": _("By"), "limits": _("Beyond")})
        self.query_one("#approvals-empty").display = False
        self.query_one("#approval-detail-box").can_focus = False
        self.query_one("#approval-schedule-box").can_focus = False
        self.load()

    # -- loading ------------------------------------------------------------------

    @work(name="approvals", group="approvals", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        page = await self.fetch(self.desk.api.plans(status="pending", limit=100), _("Approvals"))
        if page is None:
            return
        # Oldest first: the one waiting longest is decided first.
        self.show(sorted(page.items, key=lambda p: (p.created_at, p.id)))
        self._ready()
        self.load_accounts()

    def show(self, items: list[PlanOut]) -> None:
        keep = self.current.id if self.current else None
        self.items = items
        table = self.table
        table.clear()
        self.fit_columns({"total": max([cell_len(fmt.money(p.total)) for p in items] + [0])})
        for plan in items:
            table.add_row(*self._cells(plan), key=str(plan.id))
        self.query_one("#title", Static).update(
            _("Approvals · plans waiting for a supervisor: {count}").format(count=len(items)))
        empty = self.query_one("#approvals-empty", Static)
        empty.update(_("No plans are waiting for approval."))
        empty.display = not items
        table.display = bool(items)
        self.query_one("#approval-body").display = bool(items)
        if keep is not None:
            row = next((i for i, p in enumerate(items) if p.id == keep), 0)
            table.move_cursor(row=row)
        self._show_current()

    def _cells(self, plan: PlanOut) -> list[Text]:
        account = self.accounts.get(plan.account_id)
        name = account.customer.name if account else "…"
        first = plan.schedule[0].due if plan.schedule else None
        from babel.dates import format_skeleton

        from tui.i18n import babel_locale

        limits = ", ".join(label(LIMITS, b.limit) for b in plan.breaches) or "—"
        w = self.widths
        return [
            clip(plan.account_ref, w["ref"]), clip(name, w["name"]), clip(label(PLAN_KINDS, plan.kind), w["kind"]),
            Text(fmt.money(plan.total), justify="right"), Text(discount_percent(plan), justify="right"),
            clip(format_skeleton("MMMd", first, locale=babel_locale()) if first else "—", w["first"]),
            clip(plan.created_by or "—", w["by"]), clip(limits, w["limits"]),
        ]

    @work(name="approvals-accounts", group="approvals-accounts", exclusive=True, exit_on_error=False)
    async def load_accounts(self) -> None:
        """The customers' names and the account summaries, one account at a time, the highlighted first."""
        wanted = [p.account_id for p in ([self.current] if self.current else []) + self.items]
        for account_id in dict.fromkeys(wanted):
            if account_id in self.accounts:
                continue
            try:
                self.accounts[account_id] = await self.desk.call(self.desk.api.account(account_id))
            except NotFound:
                continue
            except BackendError:
                return
            for plan in self.items:
                if plan.account_id == account_id:
                    self.table.update_cell(str(plan.id), "name",
                                           clip(self.accounts[account_id].customer.name, self.widths["name"]))
            if self.current is not None and self.current.account_id == account_id:
                self._show_current()
        self._load_history()

    @work(name="approvals-history", group="approvals-history", exclusive=True, exit_on_error=False)
    async def _load_history(self) -> None:
        plan = self.current
        if plan is None or plan.account_id in self.history:
            return
        try:
            page = await self.desk.call(self.desk.api.plans(account_id=plan.account_id, limit=20))
        except BackendError:
            return
        self.history[plan.account_id] = [p for p in page.items if p.id != plan.id]
        if self.current is not None and self.current.account_id == plan.account_id:
            self._show_current()

    # -- the highlighted plan ----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#approvals")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_current()
        plan = self.current
        if plan is not None and plan.account_id not in self.history:
            self._load_history()

    def _show_current(self) -> None:
        plan = self.current
        schedule = self.query_one("#approval-schedule", Static)
        detail = self.query_one("#approval-detail", Static)
        if plan is None:
            schedule.update("")
            detail.update("")
            return
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, expand=True,
                      header_style="bold")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column(_("Due"), no_wrap=True)
        table.add_column(_("Amount"), justify="right", no_wrap=True)
        for item in plan.schedule:
            table.add_row(str(item.seq), fmt.date(item.due), fmt.money(item.amount))
        schedule.update(table)
        text = Text()
        text.append(_("Plan #{id} · {kind} · total {total}").format(
            id=plan.id, kind=label(PLAN_KINDS, plan.kind), total=fmt.money(plan.total)), style="bold")
        if plan.discount.amount_minor:
            text.append("\n" + _("Discount {amount} of {balance}").format(
                amount=fmt.money(plan.discount), balance=fmt.money(plan.balance_at_draft)))
        text.append("\n" + _("Drafted by {who} on {when}").format(
            who=plan.created_by or "—", when=fmt.when(plan.created_at, self.desk.agent_tz)))
        if plan.breaches:
            text.append("\n" + _("Beyond the drafter's authority:"), style="bold yellow")
            for b in plan.breaches:
                text.append("\n  • " + breach(b))
        if plan.note:
            text.append("\n" + _("Note: {text}").format(text=plan.note))
        account = self.accounts.get(plan.account_id)
        if account is not None:
            text.append("\n" + f"{account.customer.name} · {account.account_ref}", style="bold")
            text.append("\n" + _("Balance {balance} · overdue {overdue} · DPD {dpd} · bucket {bucket}").format(
                balance=fmt.money(account.balance), overdue=fmt.money(account.overdue), dpd=account.dpd,
                bucket=bucket_name(account.bucket)))
            flags = [name for name in type(account.flags).model_fields
                     if name != "cease" and getattr(account.flags, name)]
            if flags or account.flags.cease:
                from tui.labels import FLAGS

                names = [label(FLAGS, "cease")] if account.flags.cease else []
                names += [label(FLAGS, f) for f in flags]
                text.append("\n" + _("Flags: {flags}").format(flags=", ".join(names)))
        history = self.history.get(plan.account_id)
        if history:
            earlier = ", ".join(f"#{p.id} {label(PLAN_KINDS, p.kind)} {label(PLAN_STATUSES, p.status)}"
                                for p in history[:4])
            text.append("\n" + _("Earlier plans: {plans}").format(plans=earlier))
        elif history is not None:
            text.append("\n" + _("No earlier plans on this account."), style="dim")
        detail.update(text)

    # -- deciding --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("decide", "open_account") and self.current is None:
            return None
        return True

    def action_decide(self, decision: str) -> None:
        plan = self.current
        if plan is None or self._busy:
            return
        if decision == "approve":
            self.decision_row.open(decision, _("Approve #{id}, note:").format(id=plan.id),
                                   _("optional; Enter approves, Esc leaves it pending"))
        else:
            self.decision_row.open(decision, _("Reject #{id}, why:").format(id=plan.id),
                                   _("the agent reads it; Enter rejects, Esc leaves it pending"), warn=True)

    @on(DecisionRow.Sent)
    def _sent(self, event: DecisionRow.Sent) -> None:
        plan = self.current
        if plan is None or self._busy:
            return
        self._busy = True
        self.decide(plan, event.decision, event.note)

    @work(name="decide-plan", group="decide", exit_on_error=False)
    async def decide(self, plan: PlanOut, decision: str, note: str) -> None:
        out = await self.send_decision(self.desk.api.plan_action(plan.id, decision, note=note),
                                       lambda reason: _("Plan #{id}: {reason}").format(id=plan.id, reason=reason),
                                       _("Approvals"))
        if out is None:
            return
        if out.status == "active":
            self.notify(_("Plan #{id} on {ref} approved: it is active.").format(id=out.id, ref=out.account_ref),
                        title=_("Approved"))
        else:
            self.notify(_("Plan #{id} on {ref}: {status}.").format(id=out.id, ref=out.account_ref,
                                                                   status=label(PLAN_STATUSES, out.status)),
                        title=_("Decided"))
        self.desk.worklist_stale = True
        self.history.pop(out.account_id, None)
        self.show([p for p in self.items if p.id != out.id])
        self.load()

    # -- moving and leaving ---------------------------------------------------------------

    def action_open_account(self) -> None:
        plan = self.current
        if plan is None:
            return
        account = self.accounts.get(plan.account_id)
        self.desk.nav.account(plan.account_id, ref=plan.account_ref,
                              name=account.customer.name if account else "", detail=account)

    def action_back(self) -> None:
        if self.decision_row.deciding is not None:
            self._close_note()
            return
        self.app.pop_screen()
