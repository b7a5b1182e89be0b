"""Reports: agent, team, portfolio and cases, with bars and sparklines, in 80×24.

``1``–``4`` switch the report, ``d`` the period (7, 30 or 90 days), ``c`` and
``m`` export what is shown to a CSV or Markdown file (the same text as
``collectdesk report … --format csv|md``: one formatter, shared). Agents see
the agent report of their own figures only.

No view ranks agents by amount collected (2011 Measures Art. 66): agents are
listed by name, and collection stands beside attempts, right-party rate,
promises, kept rate and handle time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Sparkline, Static

from backend_client.client import BackendError, BackendUnavailable
from backend_client.models import AgentReport, CasesReport, Money, PortfolioReport, TeamReport
from backend_client.report_format import FORMATTERS, bar
from tui import fmt
from tui.i18n import N_, _
from tui.labels import bucket_name, label
from tui.screens.common.base import DeskScreen
from tui.screens.common.queue import fit, right

KINDS = ("agent", "team", "portfolio", "cases")
PERIODS = (7, 30, 90)
REPORT_NAMES = {"agent": N_("Agents"), "team": N_("Team"), "portfolio": N_("Portfolio"), "cases": N_("Cases")}
CASE_KINDS = {"plan_kept": N_("plan kept"), "cured": N_("cured"), "plan_broken": N_("plan broken"),
              "refused": N_("refused to pay"), "dispute": N_("dispute"), "no_contact": N_("never reached")}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def rate_cell(value: float | None, width: int) -> Text:
    """A share as a bar of 4 cells and its percentage: ``███▌ 45%``."""
    text = Text(bar(value, 4), style="bold")
    text.append(" ")
    return text + right(percent(value), width - 5)


def monies(items: Sequence[Money]) -> str:
    return ", ".join(fmt.money(m) for m in items) or "—"


def first_money(items: Sequence[Money]) -> str:
    """One amount for a narrow column: the first currency's, and ``+N`` for the others."""
    if not items:
        return "—"
    more = f" +{len(items) - 1}" if len(items) > 1 else ""
    return fmt.money(items[0]) + more


def handle(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


class ReportsScreen(DeskScreen):
    NOUN = N_("Reports")
    AUTO_FOCUS = "#report-table"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("1", "show('agent')", N_("Agents"), tooltip=N_("Per agent, by name: attempts, contacts, rates, promises"),
                id="reports.agent", priority=True, show=False),  # 1-4 and d are on the screen's own line
        Binding("2", "show('team')", N_("Team"), tooltip=N_("The agent figures added up per team"), id="reports.team",
                priority=True, show=False),
        Binding("3", "show('portfolio')", N_("Portfolio"),
                tooltip=N_("Accounts and balance by bucket, roll rates and cure rate"), id="reports.portfolio",
                priority=True, show=False),
        Binding("4", "show('cases')", N_("Cases"), tooltip=N_("Successful and difficult cases and what was done"),
                id="reports.cases", priority=True, show=False),
        Binding("d", "period", N_("Period"), tooltip=N_("The last 7, 30 or 90 days"), id="reports.period",
                priority=True, show=False),
        Binding("c", "export('csv')", N_("CSV"), tooltip=N_("Export this report to a CSV file"), id="reports.csv",
                priority=True),
        Binding("m", "export('md')", N_("Markdown"), tooltip=N_("Export this report to a Markdown file"),
                id="reports.markdown", priority=True),
        Binding("j", "cursor_down", N_("Down"), tooltip=N_("Move down"), id="reports.down", priority=True, show=False),
        Binding("k", "cursor_up", N_("Up"), tooltip=N_("Move up"), id="reports.up", priority=True, show=False),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the report again"), id="reports.reload", show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Go back"), id="reports.back", priority=True),
    ]

    WORK: ClassVar[dict[str, int]] = {"who": 11, "accounts": 6, "attempts": 6, "rpc": 11, "ptp": 5, "kept": 11,
                                      "collected": 13, "aht": 6, "esc": 6}
    """The agent and team columns, in cells, each with its space: 75 fit 80."""

    def __init__(self, kind: str = "agent", *, days: int = 30) -> None:
        super().__init__()
        self.kind = kind
        self.days = days
        self.reports: dict[tuple[str, int], AgentReport | TeamReport | PortfolioReport | CasesReport] = {}
        self._loaded_once = False

    @property
    def own(self) -> bool:
        """An agent: their own figures only."""
        user = self.desk.user
        return user is not None and user.role == "agent"

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Reports"))
        yield Static("", id="report-tabs")
        yield DataTable(id="report-table", cursor_type="row", cell_padding=0, zebra_stripes=False)
        yield Static("", id="report-notes", markup=False)
        with Horizontal(id="report-spark-row"):
            yield Label("", id="report-spark-label")
            yield Sparkline([], id="report-spark", summary_function=max)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        if self.own:
            self.kind = "agent"
        self.load()

    def ready_for_keys(self) -> bool:
        return self._loaded_once

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show" and self.own and parameters and parameters[0] != "agent":
            return False
        return True

    @property
    def table(self) -> DataTable:
        return self.query_one("#report-table", DataTable)

    @property
    def report(self):  # noqa: ANN201
        return self.reports.get((self.kind, self.days))

    # -- loading ------------------------------------------------------------------

    @work(name="report", group="report", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        kind, days = self.kind, self.days
        self._tabs()
        try:
            found = await self.desk.call(self.desk.api.report(kind, days=days))
        except BackendError as exc:
            if not isinstance(exc, BackendUnavailable) or not self._loaded_once:
                self.desk.report(exc, _("Reports"))
            self._ready()
            return
        self.reports[(kind, days)] = found
        if (self.kind, self.days) == (kind, days):
            self.show()
        self._ready()

    def _ready(self) -> None:
        self._loaded_once = True
        if self.app.screen is self:
            self.desk.release_keys()

    def _tabs(self) -> None:
        text = Text()
        kinds = ("agent",) if self.own else KINDS
        for i, kind in enumerate(kinds, start=1):
            name = _("My figures") if self.own else label(REPORT_NAMES, kind)
            style = "reverse bold" if kind == self.kind else ""
            text.append(f" {i} {name} ", style=style)
            text.append(" ")
        text.append("  " + _("last {days} days (d)").format(days=self.days), style="bold")
        self.query_one("#report-tabs", Static).update(text)
        title = _("My figures") if self.own else label(REPORT_NAMES, self.kind)
        self.query_one("#title", Static).update(_("Reports · {name}").format(name=title))

    def show(self) -> None:
        self._tabs()
        report = self.report
        table = self.table
        table.clear(columns=True)
        if isinstance(report, AgentReport):
            self._work_table([(a.display_name or a.agent, a) for a in report.agents])
        elif isinstance(report, TeamReport):
            self._work_table([(t.team, t) for t in report.teams])
        elif isinstance(report, PortfolioReport):
            self._portfolio(report)
        elif isinstance(report, CasesReport):
            self._cases(report)
        self._details()

    def _work_table(self, rows: list) -> None:
        table, w = self.table, self.WORK
        titles = {"who": _("Agent") if self.kind == "agent" else _("Team"), "accounts": _("Accts"),
                  "attempts": _("Tries"), "rpc": _("RPC rate"), "ptp": _("PTP"), "kept": _("Kept"),
                  "collected": _("Collected"), "aht": _("AHT"), "esc": _("Escal.")}
        for key, width in w.items():
            title = titles[key]
            table.add_column(fit(title, width) if key in ("who", "rpc", "kept") else right(title, width),
                             key=key, width=width)
        for i, (name, f) in enumerate(rows):
            table.add_row(fit(name, w["who"]), right(f"{f.accounts:,}", w["accounts"]),
                          right(f"{f.attempts:,}", w["attempts"]), rate_cell(f.rpc_rate, w["rpc"]),
                          right(f"{f.promises:,}", w["ptp"]), rate_cell(f.kept_rate, w["kept"]),
                          right(monies(f.collected), w["collected"]), right(handle(f.average_handle_s), w["aht"]),
                          right("—" if f.escalations is None else f"{f.escalations:,}", w["esc"]), key=str(i))
        self._rows = [f for _n, f in rows]

    def _portfolio(self, report: PortfolioReport) -> None:
        table = self.table
        widths = {"bucket": 9, "accounts": 9, "share": 16, "balance": 18, "forward": 9, "cure": 8}
        # An amount is never cut: a wider one takes cells from the share's bar (8 down to 1).
        wanted = max(cell_len(first_money(m)) + 1 for m in [*(b.balance for b in report.buckets), report.balance])
        give = min(max(0, wanted - widths["balance"]), 7)
        widths["share"] -= give
        widths["balance"] += give
        bar_cells = 8 - give
        titles = {"bucket": _("Bucket"), "accounts": _("Accounts"), "share": _("Share of accounts"), "balance": _("Balance"),
                  "forward": _("Roll fwd"), "cure": _("Cure")}
        for key, width in widths.items():
            title = titles[key]
            table.add_column(fit(title, width) if key in ("bucket", "share") else right(title, width), key=key,
                             width=width)
        roll = {r.bucket.value: r for r in report.roll.rows}
        for b in report.buckets:
            r = roll.get(b.bucket.value)
            share = Text(bar(b.share, bar_cells), style="bold")
            share.append(" ")
            share += right(percent(b.share), 7)
            table.add_row(fit(bucket_name(b.bucket), widths["bucket"]), right(f"{b.accounts:,}", widths["accounts"]), share,
                          right(first_money(b.balance), widths["balance"]),
                          right(percent(r.roll_forward_rate) if r else "—", widths["forward"]),
                          right(percent(r.cure_rate) if r else "—", widths["cure"]), key=b.bucket.value)
        table.add_row(Text(_("all"), style="bold"), right(f"{report.accounts:,}", widths["accounts"]), Text(""),
                      right(first_money(report.balance), widths["balance"]), Text(""),
                      right(percent(report.cure_rate), widths["cure"]), key="all")
        self._rows = [*report.buckets, None]

    def _cases(self, report: CasesReport) -> None:
        table = self.table
        widths = {"mark": 2, "kind": 13, "ref": 10, "name": 14, "agent": 9, "at": 8, "what": 20}
        titles = {"mark": "", "kind": _("Case"), "ref": _("Account"), "name": _("Customer"), "agent": _("Agent"),
                  "at": _("When"), "what": _("What happened")}
        for key, width in widths.items():
            table.add_column(titles[key], key=key, width=width)
        cases = [*report.successful, *report.difficult]
        for i, c in enumerate(cases):
            mark = Text("✔ ", style="bold green") if c.successful else Text("✘ ", style="bold red")
            table.add_row(mark, fit(label(CASE_KINDS, c.kind.value), widths["kind"]), fit(c.account_ref, widths["ref"]),
                          fit(c.customer_name, widths["name"]), fit(c.agent or _("pool"), widths["agent"]),
                          fit(fmt.date(c.at.date()), widths["at"]), fit(c.what, widths["what"]), key=str(i))
        self._rows = cases

    # -- the highlighted row --------------------------------------------------------

    @on(DataTable.RowHighlighted, "#report-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._details()

    def _details(self) -> None:
        notes = self.query_one("#report-notes", Static)
        spark = self.query_one("#report-spark", Sparkline)
        spark_label = self.query_one("#report-spark-label", Label)
        report = self.report
        rows = getattr(self, "_rows", [])
        row = self.table.cursor_row
        current = rows[row] if rows and 0 <= row < len(rows) else None
        text = Text()
        if report is None:
            notes.update(_("Loading…"))
            return
        if isinstance(report, AgentReport | TeamReport):
            text.append(_("Listed by name, never ranked by amount collected (2011 Measures Art. 66)."), style="dim")
            if current is not None:
                text.append("\n" + _("Contacts {contacts} · RPC {rpc} · promised {promised} · plans {plans} "
                                     "(kept {kept}, broken {broken}) · payers {paying}").format(
                    contacts=current.contacts, rpc=current.right_party_contacts, promised=monies(current.promised),
                    plans=current.plans, kept=current.plans_kept, broken=current.plans_broken,
                    paying=current.paying_accounts))
            if not rows:
                text.append("\n" + _("Nothing to report in the period."))
            spark_label.update(_("Attempts a day, {days} days").format(days=report.period.days))
            spark.data = list(current.attempts_by_day) if current is not None else []
        elif isinstance(report, PortfolioReport):
            # The highlighted bucket's balance in every currency (the column has room for one), or the whole book's.
            chosen = current if row < len(rows) - 1 else None
            text.append(_("{bucket}: {accounts} accounts · balance {balance}").format(
                bucket=bucket_name(chosen.bucket) if chosen else _("all"),
                accounts=f"{(chosen.accounts if chosen else report.accounts):,}",
                balance=monies(chosen.balance if chosen else report.balance)))
            text.append("\n" + _("Cure rate {cure} · cured in the period {cured} of {late} ({rate}) · collected "
                                  "{collected}").format(cure=percent(report.cure_rate), cured=report.cured,
                                                        late=report.delinquent_at_start,
                                                        rate=percent(report.period_cure_rate),
                                                        collected=monies(report.collected)))
            spark_label.update(_("Roll forward by month"))
            spark.data = [v or 0.0 for v in report.roll.roll_forward_trend]
        elif isinstance(report, CasesReport):
            text.append(_("Successful {good} · difficult {bad}").format(good=len(report.successful),
                                                                          bad=len(report.difficult)), style="bold")
            if not rows:
                text.append("\n" + _("No successful or difficult cases in the period; d for a longer one."))
            if current is not None:
                text.append("\n" + current.what)
                for note in current.notes[:1]:
                    text.append("\n" + _("Note: {text}").format(text=note))
            spark_label.update("")
            spark.data = []
        self.query_one("#report-spark-row").display = not isinstance(report, CasesReport)
        notes.update(text)

    # -- keys -----------------------------------------------------------------------

    def action_show(self, kind: str) -> None:
        if self.own and kind != "agent":
            return
        self.kind = kind
        if self.report is None:
            self.table.clear(columns=True)
            self._rows = []
            self.load()
        else:
            self.show()

    def action_period(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)] if self.days in PERIODS else PERIODS[0]
        self.action_show(self.kind)

    def action_reload(self) -> None:
        self.reports.pop((self.kind, self.days), None)
        self.load()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_export(self, fmt_name: str) -> None:
        report = self.report
        if report is None:
            return
        text = FORMATTERS[self.kind](report, fmt_name)
        day = self.desk.clock().astimezone(self.desk.agent_tz).date()
        directory = self.desk.settings.exports_directory().absolute()
        path = directory / f"collectdesk-{self.kind}-report-{day.isoformat()}-{self.days}d.{fmt_name}"
        try:
            # The directory must be there: a mistyped exports_dir is said, not made.
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(_("Cannot write {path}: {error}").format(path=str(path), error=exc.strerror or str(exc)),
                        title=_("Not exported"), severity="error", markup=False)
            return
        self.notify(_("Written to {path}").format(path=str(path)), title=_("Exported"), markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()

