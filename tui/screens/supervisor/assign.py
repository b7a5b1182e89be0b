"""Assign: pick a set of the team's accounts and move it to an agent in one action.

The set is a filter (the agent who has them now, a bucket, a DPD range, search
text) whose matches are counted on the server as it is typed, and listed, the
latest first. ``space`` marks rows: with rows marked, only those move; with
none, every account the filter matches. ``ctrl+s`` asks to confirm (``enter``
moves, ``escape`` does not), then one ``POST /accounts/assign`` moves them.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError
from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static

from backend_client.client import BackendError, ProblemResponse
from backend_client.models import AccountFilter, AssignCandidate, AssignPreview, AssignRequest, TeamOverview
from tui import fmt
from tui.i18n import N_, _
from tui.labels import BUCKETS, bucket_name
from tui.screens.common.base import DeskModal
from tui.screens.common.queue import QueueScreen, fit, right

POOL = "-"
"""The Select value of the team's unassigned pool (the API's ``""``)."""


def _fields(exc: ValidationError) -> str:
    """The fields a wire model refused, as the call screen names them: ``filter.q, note``."""
    return ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())


class ConfirmAssign(DeskModal):
    """``Move 20 accounts from agent1 to agent2?``: ``enter`` moves them, ``escape`` does not."""

    NOUN = N_("Assign")
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("enter", "yes", N_("Move them"), tooltip=N_("Move the accounts now"), id="assign.confirm",
                priority=True),
        Binding("escape", "no", N_("Cancel"), tooltip=N_("Move nothing and go back to the set"), id="assign.cancel",
                priority=True),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(_("Enter moves them · Esc cancels"), id="confirm-keys", markup=False)
        yield from self.status_and_footer()

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class AssignScreen(QueueScreen[AssignCandidate]):
    NOUN = N_("Assign")
    AUTO_FOCUS = "#assign-table"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("ctrl+s", "move", N_("Move"), tooltip=N_("Move the marked accounts, or the whole set, to the agent chosen"),
                id="assign.move", priority=True),
        Binding("space", "toggle", N_("Mark"), tooltip=N_("Mark or unmark the highlighted account (only marked ones move)"),
                id="assign.mark"),
        Binding("ctrl+t", "target", N_("To"), tooltip=N_("Choose the agent who takes them"), id="assign.to",
                priority=True),
        Binding("ctrl+f", "filter", N_("Filter"), tooltip=N_("Change the filter: agent, bucket, DPD, search"),
                id="assign.filter", priority=True),
        Binding("ctrl+l", "list", N_("List"), tooltip=N_("Back to the list of matching accounts"), id="assign.list",
                priority=True, show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Go back; nothing moves"), id="assign.back", priority=True),
    ]

    TABLE = "assign-table"
    WIDTHS: ClassVar[dict[str, int]] = {"mark": 2, "ref": 11, "name": 16, "agent": 10, "dpd": 5, "bucket": 8,
                                        "balance": 16}
    """Columns, in cells, each with its space: 68 fit 80."""
    GIVES = ("name", "agent", "ref")

    def __init__(self, *, agent: str | None = None, overview: TeamOverview | None = None) -> None:
        super().__init__()
        self.from_agent = agent
        """The agent whose accounts are shown first (``""``: the pool; None: anyone's)."""
        self.overview = overview
        self.preview: AssignPreview | None = None
        self.marked: set[int] = set()
        self.result: str = ""
        self._loaded_once = False
        self._busy = False

    # -- the form -----------------------------------------------------------------

    def _agent_options(self) -> list[tuple[str, str]]:
        rows = self.overview.agents if self.overview else []
        options = [(f"{r.display_name or r.agent} ({r.agent})" if r.display_name and r.display_name != r.agent
                    else str(r.agent), str(r.agent)) for r in rows if r.agent]
        return [*options, (_("unassigned pool"), POOL)]

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Assign accounts"))
        options = self._agent_options()
        start = POOL if self.from_agent == "" else self.from_agent
        with Horizontal(classes="assign-row"):
            yield Label(_("From"))
            yield Select(options, prompt=_("any agent"), id="assign-from", compact=True,
                         value=start if start in {v for _l, v in options} else Select.NULL)
            yield Label(_("Bucket"))
            yield Select([(bucket_name(b), b) for b in BUCKETS], prompt=_("any"), id="assign-bucket", compact=True)
            yield Label(_("DPD"))
            yield Input(id="assign-min-dpd", compact=True, max_length=5, type="integer", placeholder=_("from"))
            yield Input(id="assign-max-dpd", compact=True, max_length=5, type="integer", placeholder=_("to"))
        with Horizontal(classes="assign-row"):
            yield Label(_("Search"))
            yield Input(id="assign-q", compact=True, max_length=100,
                        placeholder=_("account, name or last 4 digits"))
        yield Static("", id="assign-matched", markup=False)
        yield DataTable(id="assign-table", cursor_type="row", cell_padding=0, zebra_stripes=False)
        with Horizontal(classes="assign-row"):
            yield Label(_("To"))
            yield Select(options, prompt=_("choose the agent"), id="assign-to", compact=True)
            yield Label(_("Note"))
            yield Input(id="assign-note", compact=True, max_length=500, placeholder=_("why (optional, audited)"))
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        titles = {"mark": "", "ref": _("Account"), "name": _("Customer"), "agent": _("Agent"), "dpd": _("DPD"),
                  "bucket": " " + _("Bucket"), "balance": _("Balance")}
        self.add_columns(lambda key, width: right(titles[key], width) if key in ("dpd", "balance")
                         else fit(titles[key], width))
        if self.overview is None:
            self.load_agents()
        else:
            self.refresh_preview()

    @property
    def items(self) -> list[AssignCandidate]:  # type: ignore[override]
        """The accounts the filter matches, as previewed."""
        return self.preview.items if self.preview else []

    def account_filter(self) -> AccountFilter | None:
        """The filter the form says, or None (and a word on the match line) when a field is wrong."""
        chosen = self.query_one("#assign-from", Select).value
        bucket = self.query_one("#assign-bucket", Select).value
        low, high = (self.query_one(f"#assign-{n}-dpd", Input).value.strip() for n in ("min", "max"))
        q = self.query_one("#assign-q", Input).value.strip()
        try:
            min_dpd = int(low) if low else None
            max_dpd = int(high) if high else None
        except ValueError:
            self._say(_("DPD: whole days, such as 30"))
            return None
        if min_dpd is not None and max_dpd is not None and min_dpd > max_dpd:
            self._say(_("DPD: the first number is the lowest"))
            return None
        agent = None if chosen is Select.NULL else ("" if chosen == POOL else str(chosen))
        try:
            return AccountFilter(agent=agent, bucket=None if bucket is Select.NULL else [bucket], min_dpd=min_dpd,
                                 max_dpd=max_dpd, q=q or None)
        except ValidationError as exc:  # a pasted control character in the search, say
            self._say(_("Cannot save: check {fields}").format(fields=_fields(exc)))
            return None

    @on(Select.Changed, "#assign-from, #assign-bucket")
    @on(Input.Changed, "#assign-min-dpd, #assign-max-dpd, #assign-q")
    def _filter_changed(self) -> None:
        if self._loaded_once:
            self.refresh_preview()

    # -- loading ------------------------------------------------------------------

    @work(name="assign-agents", group="assign-agents", exclusive=True, exit_on_error=False)
    async def load_agents(self) -> None:
        """The team's agents, for the two agent choices (from the overview)."""
        found = await self.fetch(self.desk.api.overview(), _("Assign"))
        if found is None:
            return
        self.overview = found
        options = self._agent_options()
        start = POOL if self.from_agent == "" else self.from_agent
        chooser = self.query_one("#assign-from", Select)
        chooser.set_options(options)
        if start in {v for _l, v in options}:
            chooser.value = start
        self.query_one("#assign-to", Select).set_options(options)
        self.refresh_preview()

    def refresh_preview(self) -> None:
        found = self.account_filter()
        if found is not None:
            self.load_preview(found)

    @work(name="assign-preview", group="assign-preview", exclusive=True, exit_on_error=False)
    async def load_preview(self, account_filter: AccountFilter) -> None:
        found = await self.fetch(self.desk.api.assign_preview(account_filter), _("Assign"))
        if found is not None:
            self.show(found)
            self._ready()

    def load(self) -> None:
        self.refresh_preview()

    def show(self, found: AssignPreview) -> None:
        self.preview = found
        shown = {a.id for a in found.items}
        self.marked &= shown
        table = self.table
        table.clear()
        # An amount has its cell after it (cell_padding=0): one more than its text.
        self.fit_columns({"balance": max([cell_len(fmt.money(a.balance)) + 1 for a in found.items] + [0])})
        for a in found.items:
            table.add_row(*self._cells(a), key=str(a.id))
        self._count()

    def _cells(self, a: AssignCandidate) -> list[Text]:
        w = self.widths
        return [Text("✓ " if a.id in self.marked else "  ", style="bold green"), fit(a.account_ref, w["ref"]),
                fit(a.customer_name, w["name"]), fit(a.agent or _("pool"), w["agent"]),
                right(f"{a.dpd}", w["dpd"]), fit(" " + bucket_name(a.bucket), w["bucket"]),
                right(fmt.money(a.balance), w["balance"])]

    def _count(self) -> None:
        found = self.preview
        if found is None:
            return
        whose = ", ".join((name or _("pool")) + f" {n}" for name, n in found.by_agent.items())
        text = _("{count} accounts match").format(count=f"{found.matched:,}")
        if whose:
            text += f" ({whose})"
        if self.marked:
            text += " · " + _("{count} marked: only they move").format(count=len(self.marked))
        elif found.matched > len(found.items):
            text += " · " + _("the first {count} listed").format(count=len(found.items))
        if self.result:
            text = self.result + " · " + text
        self._say(text)

    def _say(self, text: str) -> None:
        self.query_one("#assign-matched", Static).update(text)

    # -- marking and moving -------------------------------------------------------

    @on(DataTable.RowSelected, "#assign-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_toggle()

    def action_toggle(self) -> None:
        a = self.current
        if a is None:
            return
        self.marked ^= {a.id}
        self.table.update_cell(str(a.id), "mark", self._cells(a)[0])
        self._count()

    # Focus moves at once (not ``focus()``, which waits): keys typed in the same burst follow it.

    def action_target(self) -> None:
        self.set_focus(self.query_one("#assign-to", Select))

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#assign-from", Select))

    def action_list(self) -> None:
        self.set_focus(self.table)

    def action_move(self) -> None:
        self.skip_if_menu_open()
        if self._busy or self.preview is None:
            return
        target = self.query_one("#assign-to", Select).value
        if target is Select.NULL:
            self.notify(_("Choose the agent who takes them (ctrl+t)."), title=_("Nothing moved"), severity="warning")
            self.action_target()
            return
        count = len(self.marked) if self.marked else self.preview.matched
        if not count:
            self.notify(_("No account matches: nothing to move."), title=_("Nothing moved"), severity="warning")
            return
        found = self.account_filter()
        if found is None:
            return
        to_agent = "" if target == POOL else str(target)
        who = to_agent or _("the unassigned pool")
        question = _("Move {count} accounts to {who}?").format(count=f"{count:,}", who=who)
        note = self.query_one("#assign-note", Input).value.strip()
        try:
            request = AssignRequest(ids=sorted(self.marked), to_agent=to_agent, note=note) if self.marked else \
                AssignRequest(filter=found, to_agent=to_agent, note=note)
        except ValidationError as exc:  # a pasted control character in the note, say: the form is kept
            self._say(_("Cannot save: check {fields}").format(fields=_fields(exc)))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self.move(request, who)

        self.app.push_screen(ConfirmAssign(question), answered)

    @work(name="assign-move", group="assign-move", exit_on_error=False)
    async def move(self, request: AssignRequest, who: str) -> None:
        try:
            result = await self.desk.call(self.desk.api.assign(request))
        except (ProblemResponse, BackendError) as exc:
            self._busy = False
            self.desk.report(exc, _("Assign"))
            return
        self._busy = False
        self.result = _("Moved {count} accounts to {who}").format(count=f"{result.moved:,}", who=who)
        self.notify(self.result + ".", title=_("Assigned"), markup=False)
        self.marked.clear()
        self.desk.worklist_stale = True
        self.refresh_preview()

    def action_back(self) -> None:
        self.skip_if_menu_open()
        self.app.pop_screen()
