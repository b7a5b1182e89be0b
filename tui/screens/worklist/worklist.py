"""The worklist: the agent's accounts, highest priority first, 50 at a time.

Pages come from the server as the cursor nears the end of what is loaded; the
table never holds more than the agent has scrolled through. ``/`` searches on
the server (reference, name, last four digits of the card). Accounts this machine
keeps a draft or unsent work for are marked (✎, ⧗), and the line under the table
says what (``labels.kept``); the desk reads it again every few seconds, so the
marks follow the user's other desks too.
"""

from __future__ import annotations

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from backend_client.client import BackendError, BackendUnavailable
from backend_client.models import WorklistItem
from tui.i18n import N_, _
from tui.labels import kept, verdict, why
from tui.screens.common.base import DeskScreen
from tui.screens.common.queue import TableMoves, cursor_bindings
from tui.store import Waiting
from tui.widgets.worklist_table import WorklistTable

PAGE_SIZE = 50


class WorklistScreen(TableMoves, DeskScreen):
    NOUN = N_("Worklist")
    AUTO_FOCUS = "#worklist"
    BINDINGS = [
        Binding("enter", "open", N_("Open"), tooltip=N_("Open the highlighted account"), id="worklist.open", priority=True),
        Binding("slash", "search", N_("Search"), tooltip=N_("Search by account, name or last four card digits"),
                id="worklist.search", priority=True),
        Binding("n", "work_next", N_("Next"), tooltip=N_("Take the next account to work and open it"),
                id="worklist.next", priority=True),
        Binding("w", "why", N_("Why"), tooltip=N_("Every reason the highlighted account is where it is"),
                id="worklist.why"),
        *cursor_bindings("worklist"),
        Binding("r", "reload", N_("Reload"), tooltip=N_("Load the worklist again from the top"), id="worklist.reload", priority=True,
                show=False),
        Binding("escape", "back", N_("Clear search"), tooltip=N_("Close the search and show every account"),
                id="worklist.back", priority=True, show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self._next_cursor: str | None = None
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        assert self.desk.user is not None
        user = self.desk.user
        yield self.title_bar(_("Worklist · {name}").format(name=user.display_name or user.username))
        search = Input(placeholder=_("Search: account, name or last 4 digits; Enter to search, Esc to clear"),
                       id="search", compact=True, max_length=100)
        search.display = False
        yield search
        with Vertical(id="worklist-body"):
            table = WorklistTable(clock=self.desk.clock, tz=self.desk.agent_tz, id="worklist")
            table.waiting = self.desk.waiting
            yield table
            yield Static("", id="worklist-empty", markup=False)
        yield Static("", id="worklist-why", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        self.query_one("#worklist-empty").display = False
        self.load_page(replace=True)

    def ready_for_keys(self) -> bool:
        return self._loaded_once

    def on_screen_resume(self) -> None:
        self.desk.reread_store()  # a form left a draft, or dropped one
        if self._loaded_once and self.desk.worklist_stale:
            self.desk.worklist_stale = False
            self.load_page(replace=True)

    @property
    def table(self) -> WorklistTable:
        return self.query_one("#worklist", WorklistTable)

    # -- loading ------------------------------------------------------------------

    @work(name="worklist-page", group="worklist", exclusive=True, exit_on_error=False)
    async def load_page(self, *, replace: bool) -> None:
        try:
            await self._load_page(replace=replace)
        finally:
            # Keys typed after a search act on its results.
            if replace and self.app.screen is self:
                self.desk.release_keys()

    async def _load_page(self, *, replace: bool) -> None:
        cursor = None if replace else self._next_cursor
        try:
            page = await self.desk.call(self.desk.api.worklist(limit=PAGE_SIZE, cursor=cursor, q=self.query_text or None))
        except BackendError as exc:
            self.table.ask_again()
            if not isinstance(exc, BackendUnavailable) or replace:
                self.desk.report(exc, _("Worklist"))
            return
        self._loaded_once = True
        self._next_cursor = page.next_cursor
        self.table.show_page(page.items, more=page.next_cursor is not None, replace=replace)
        empty = self.query_one("#worklist-empty", Static)
        if not self.table.items:
            empty.update(_("Nothing matches “{text}”.").format(text=self.query_text) if self.query_text
                         else _("No accounts in your worklist."))
        empty.display = not self.table.items
        self.table.display = bool(self.table.items)
        if replace and self.table.items:
            self._explain(self.table.current_item)

    def waiting_changed(self, waiting: Waiting) -> None:
        """What this machine keeps changed (this desk, or another of the user's)."""
        if not self.query("#worklist"):
            return  # not composed yet: the table starts from the desk's
        self.table.show_waiting(waiting)
        if self.table.items:
            self._explain(self.table.current_item)

    @on(WorklistTable.NeedMore)
    def _need_more(self) -> None:
        if self._next_cursor:
            self.load_page(replace=False)

    @on(WorklistTable.Highlighted)
    def _highlighted(self, event: WorklistTable.Highlighted) -> None:
        self._explain(event.item)

    def _explain(self, item: WorklistItem | None) -> None:
        if self.desk.low_bandwidth:
            return  # no why line on a thin link (desk.tcss): w says why
        line = self.query_one("#worklist-why", Static)
        # The line's size is fixed (two rows, the screen's width): only its own cells are
        # painted again, not the screen laid out anew (which repaints the table's scroll bar).
        if item is None:
            line.update("", layout=False)
            return
        reasons = " · ".join(why(r) for r in item.reasons if r.code != "contactable") or "—"
        when = verdict(item.contactable_now, item.next_contact_at, item.blocks, self.desk.agent_tz)
        if here := kept(self.table.waiting, item.id):
            when = f"{when} · {here}"
        # Whether the customer may be called comes first: the reasons may run long.
        line.update(_("{ref} {name}: {when} — {reasons}").format(
            ref=item.account_ref, name=item.customer_name, reasons=reasons, when=when), layout=False)

    # -- actions ------------------------------------------------------------------

    def action_why(self) -> None:
        item = self.table.current_item
        if item is None:
            return
        when = verdict(item.contactable_now, item.next_contact_at, item.blocks, self.desk.agent_tz)
        self.desk.nav.why(_("Why {ref} {name} is here").format(ref=item.account_ref, name=item.customer_name), when,
                          [why(r) for r in item.reasons if r.code != "contactable"])

    @on(WorklistTable.Open)
    def _open(self, event: WorklistTable.Open) -> None:
        self.open_account(event.item)

    def action_open(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            # Enter in the search field searches; keys typed after it wait for the results.
            self.desk.hold_keys()
            self.after_typing(lambda: self._submit_search(search.value), name="search-when-typed")
            return
        if self.focused is not self.table:
            raise SkipAction()
        item = self.table.current_item
        if item is not None:
            self.open_account(item)

    def open_account(self, item: WorklistItem) -> None:
        self.desk.nav.account(item.id, ref=item.account_ref, name=item.customer_name)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        self.set_focus(search)  # at once: the next keys are the search

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        self._submit_search(event.value)

    def _submit_search(self, text: str) -> None:
        self.query_text = text.strip()
        self.set_focus(self.table)
        self.load_page(replace=True)

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.display:
            had = bool(self.query_text)
            search.value = ""
            search.display = False
            self.query_text = ""
            self.set_focus(self.table)
            if had:
                self.desk.hold_keys()
                self.load_page(replace=True)

    def action_reload(self) -> None:
        self.load_page(replace=True)

    def action_work_next(self) -> None:
        self.desk.nav.next_account()
