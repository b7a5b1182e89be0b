"""The supervisor's desk: the team overview, and one key to each of the team's queues.

Each row is one agent (by name, never ranked) and the team's unassigned pool:
open accounts, how many in each bucket, how many may be phoned now, how many
have a plan payment due today, how many plans broke in the last week. Below it,
the team's totals and what waits for the supervisor (plans to approve, breaches).

Keys: ``enter`` assigns the highlighted agent's accounts, ``s`` assigns any set,
``a`` the approvals queue, ``b`` breaches, ``r`` reports, ``t`` treatments, ``x`` the escalations
inbox (``action_escalations``: the desk's, when it has one), ``w`` the worklist.
Supervisors and admins land here after signing in, with their worklist beneath.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backend_client.client import BackendError
from backend_client.models import OverviewRow, TeamOverview
from tui.i18n import N_, _
from tui.labels import BUCKETS, bucket_name
from tui.screens.common.queue import QueueScreen, cursor_bindings, fit, right


def cell(value: int, width: int) -> Text:
    """A count, right-aligned in ``width`` cells with a space after it; a dot for none."""
    return right(f"{value:,}", width) if value else right("·", width, "dim")


class SupervisorScreen(QueueScreen[OverviewRow]):
    NOUN = N_("Team")
    AUTO_FOCUS = "#overview"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("enter", "assign_agent", N_("Assign"),
                tooltip=N_("Move some or all of the highlighted agent's accounts to another agent"),
                id="supervisor.assign_agent", priority=True),
        Binding("a", "approvals", N_("Approvals"), tooltip=N_("The team's plans waiting for approval"),
                id="supervisor.approvals", priority=True),
        Binding("b", "breaches", N_("Breaches"), tooltip=N_("Contacts logged against the compliance rules"),
                id="supervisor.breaches", priority=True),
        Binding("r", "reports", N_("Reports"), tooltip=N_("Agent, team, portfolio and cases reports"),
                id="supervisor.reports", priority=True, show=False),  # the footer fits 80: r and s are in ? and ^p
        Binding("x", "escalations", N_("Escalations"), tooltip=N_("The escalations waiting for a decision"),
                id="supervisor.escalations", priority=True),
        Binding("t", "treatments", N_("Treatments"),
                tooltip=N_("Today's reminders by e-mail, SMS and letter: steps, messages, pausing a step"),
                id="supervisor.treatments", priority=True, show=False),  # the footer is full at 80: in ? and ^p
        Binding("s", "assign", N_("Assign set"), tooltip=N_("Pick a set of accounts by filter and move it in one action"),
                id="supervisor.assign", priority=True, show=False),
        Binding("w", "worklist", N_("Worklist"), tooltip=N_("The team's accounts, highest priority first"),
                id="supervisor.worklist", priority=True, show=False),
        *cursor_bindings("supervisor"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the overview again"), id="supervisor.reload",
                show=False),
        Binding("escape", "worklist", N_("Worklist"), tooltip=N_("Go to the worklist"), id="supervisor.back",
                show=False),
    ]

    TABLE = "overview"
    RELOAD_ON_RESUME = True
    WIDTHS: ClassVar[dict[str, int]] = {"agent": 11, "accounts": 6, **{b: 5 for b in BUCKETS}, "now": 5, "due": 7,
                                        "broken": 6}
    """Columns, in cells, each with its space: 75 fit 80 beside the scrollbar (到期日 is 6)."""

    def __init__(self) -> None:
        super().__init__()
        self.overview: TeamOverview | None = None
        self.rows: list[OverviewRow] = []
        self.pending: int | None = None
        self.breaches: int | None = None
        self._more_breaches = False
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Team overview"))
        yield DataTable(id="overview", cursor_type="row", cell_padding=0, zebra_stripes=False)
        yield Static("", id="overview-totals")
        yield Static("", id="overview-waiting", markup=False)
        yield Static(_("Now: accounts that may be phoned now · Due: a plan payment due today · "
                       "Broken: a plan broken in the last 7 days. Agents by name, never ranked."),
                     id="overview-legend", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        titles = {"agent": _("Agent"), "accounts": _("Accts"), "now": _("Now"), "due": _("Due"),
                  "broken": _("Broken"), **{b: b for b in BUCKETS}, "current": _("Cur")}
        table = self.table
        for key, width in self.WIDTHS.items():
            title = titles[key]
            table.add_column(fit(title, width) if key == "agent" else right(title, width), key=key,
                             width=width)
        self.load()

    @property
    def items(self) -> list[OverviewRow]:  # type: ignore[override]
        """The rows: the agents' and the unassigned pool's."""
        return self.rows

    # -- loading ------------------------------------------------------------------

    def today(self):  # noqa: ANN201
        return self.desk.clock().astimezone(self.desk.agent_tz).date()

    @work(name="team-overview", group="overview", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        found = await self.fetch(self.desk.api.overview(day=self.today()), _("Team overview"))
        if found is None:
            return
        self.show(found)
        self._ready()
        self.load_waiting()

    @work(name="team-waiting", group="overview-waiting", exclusive=True, exit_on_error=False)
    async def load_waiting(self) -> None:
        """What waits for the supervisor: plans to approve, contacts flagged as breaches."""
        try:
            plans = await self.desk.call(self.desk.api.plans(status="pending", limit=100))
            breaches = await self.desk.call(self.desk.api.breaches(limit=100))
        except BackendError:
            return
        self.pending, self.breaches = len(plans.items), len(breaches.items)
        self._more_breaches = len(breaches.items) >= 100
        self._show_waiting()

    def show(self, found: TeamOverview) -> None:
        keep = self.current.agent if self.current else None
        self.overview = found
        self.rows = list(found.agents)
        table = self.table
        table.clear()
        for i, row in enumerate(self.rows):
            table.add_row(*self._cells(row), key=str(i))
        if keep is not None:
            index = next((i for i, r in enumerate(self.rows) if r.agent == keep), 0)
            table.move_cursor(row=index)
        team = _("Team {name}").format(name=found.team) if found.team else _("every team")
        self.query_one("#title", Static).update(
            _("Team overview · {team} · {day}").format(team=team, day=self._day(found)))
        total = found.total
        text = Text()
        text.append(_("Team: {accounts} accounts · {now} may be phoned now · {due} due today · {broken} broken")
                    .format(accounts=f"{total.accounts:,}", now=f"{total.contactable_now:,}",
                            due=f"{total.promises_due_today:,}", broken=f"{total.broken_promises:,}"), style="bold")
        text.append("\n" + self._bucket_bars(total))
        self.query_one("#overview-totals", Static).update(text)
        self._show_waiting()

    def _day(self, found: TeamOverview) -> str:
        from tui import fmt

        return fmt.date(found.day)

    def _cells(self, row: OverviewRow) -> list[Text]:
        name = (row.display_name or row.agent or "") if row.agent else _("(unassigned)")
        cells = [fit(name, self.WIDTHS["agent"]), cell(row.accounts, self.WIDTHS["accounts"])]
        cells += [cell(row.buckets.get(b, 0), self.WIDTHS[b]) for b in BUCKETS]
        cells += [cell(row.contactable_now, self.WIDTHS["now"]), cell(row.promises_due_today, self.WIDTHS["due"]),
                  cell(row.broken_promises, self.WIDTHS["broken"])]
        if row.broken_promises:
            cells[-1].stylize("bold red")
        return cells

    @staticmethod
    def _bucket_bars(total: OverviewRow) -> str:
        """The team's accounts by bucket as one line of bars (eighths of a cell): where the book sits."""
        from backend_client.report_format import bar

        top = max(total.buckets.values(), default=0)
        parts = [_("By bucket:")]
        for b in BUCKETS:
            n = total.buckets.get(b, 0)
            parts.append(f"{bucket_name(b)} {bar(n / top if top else 0, 3)}")
        return " ".join(parts)

    def _show_waiting(self) -> None:
        bits = []
        if self.pending is not None:
            bits.append(_("Plans waiting for approval: {count} (a)").format(count=self.pending))
        if self.breaches is not None:
            count = f"{self.breaches}+" if self._more_breaches else str(self.breaches)
            bits.append(_("Breaches on record: {count} (b)").format(count=count))
        self.query_one("#overview-waiting", Static).update(" · ".join(bits))

    # -- moving and going ---------------------------------------------------------

    @on(DataTable.RowSelected, "#overview")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_assign_agent()

    def action_assign_agent(self) -> None:
        row = self.current
        self.desk.nav.assign(agent=(row.agent or "") if row is not None else None, overview=self.overview)

    def action_assign(self) -> None:
        self.desk.nav.assign(overview=self.overview)

    def action_approvals(self) -> None:
        self.desk.nav.approvals()

    def action_breaches(self) -> None:
        self.desk.nav.breaches()

    def action_reports(self) -> None:
        self.desk.nav.reports()

    def action_treatments(self) -> None:
        self.desk.nav.treatments()

    def action_escalations(self) -> None:
        """The escalations inbox, when the desk has one (``Navigator.escalations``);
        until then, say so."""
        opener = getattr(self.desk.nav, "escalations", None)
        if opener is None:
            self.notify(_("The escalations inbox is not on this desk yet."), title=_("Escalations"))
            return
        opener()

    def action_worklist(self) -> None:
        self.desk.nav.worklist_from_team()
