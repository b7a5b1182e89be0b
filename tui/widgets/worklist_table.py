"""The worklist as a table that grows a page at a time.

The table holds only the pages the agent has scrolled to (the server sends 50 at
a time); when the cursor comes near the last row it asks for more with
``WorklistTable.NeedMore``. ``enter`` posts ``WorklistTable.Open`` with the item.

The first column says whether the customer may be called now (✓) and whether
this machine keeps something for the account: ⧗ saved but not yet sent (or
refused), else ✎ a draft (``show_waiting``, from the local store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from backend_client.models import WorklistItem
from tui import fmt
from tui.i18n import N_, _
from tui.keys import localize_bindings
from tui.store import Waiting

# How near the end of what is loaded the cursor may come before the next page is asked for.
PREFETCH_ROWS = 15

# (key, header, width or None for the header's width, right-aligned?)
_COLUMNS: tuple[tuple[str, str, int | None, bool], ...] = (
    ("call", "", 2, False),
    ("ref", N_("Account"), 10, False),
    ("name", N_("Name"), 13, False),
    ("card", N_("Card"), 4, False),
    ("dpd", N_("DPD"), 3, True),
    ("bucket", N_("Bkt"), 4, False),
    ("overdue", N_("Overdue"), 12, True),
    ("priority", N_("Prio"), 4, True),
    ("when", N_("Contact"), 9, False),
)
MIN_NAME = 6
"""The name gives its cells to a wider amount down to this many (then the reference does)."""
MIN_REF = 7


def _fit(text: str, width: int) -> Text:
    """``text`` cut to ``width`` terminal cells (wide CJK characters count two)."""
    if cell_len(text) <= width:
        return Text(text)
    out, used = "", 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return Text(out + "…")


def kept_mark(waiting: Waiting, account_id: int) -> str:
    """⧗ when work saved for the account is not on the backend yet, ✎ when a form has a draft."""
    if waiting.unsent.get(account_id) or waiting.refused_for.get(account_id):
        return "⧗"
    return "✎" if account_id in waiting.drafts else ""


class WorklistTable(DataTable[Text]):
    """Rows of ``WorklistItem``; the screen hands pages down with ``show_page``."""

    BINDINGS = [
        Binding("home", "scroll_top", N_("First"), tooltip=N_("Go to the first account"), id="worklist.first",
                show=False),
        Binding("end", "scroll_bottom", N_("Last"), tooltip=N_("Go to the last account loaded (loads the next page)"),
                id="worklist.last", show=False),
    ]

    class Open(Message):
        """The agent chose an account to open."""

        def __init__(self, item: WorklistItem) -> None:
            super().__init__()
            self.item = item

    class NeedMore(Message):
        """The cursor is near the last loaded row: the next page is wanted."""

    class Highlighted(Message):
        """The cursor moved onto ``item``."""

        def __init__(self, item: WorklistItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, *, clock: Callable[[], dt.datetime], tz: dt.tzinfo, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        localize_bindings(self)
        self._clock = clock
        self._tz = tz
        self.items: list[WorklistItem] = []
        self.has_more = False
        self._asked = False
        self.waiting = Waiting()
        """What this machine keeps, by account (the marks after ✓)."""
        self.widths: dict[str, int] = {}
        """The columns' widths in cells: an amount wider than its column takes cells from the name."""

    def on_mount(self) -> None:
        self._add_columns(self._widths_for([]))

    def _widths_for(self, items: Sequence[WorklistItem]) -> dict[str, int]:
        """Each column's width: the header's at least, and the overdue amount never cut
        (the name, then the reference, give it their cells: they end in "…")."""
        widths = {key: max(width or 0, cell_len(_(header)) if header else 0) for key, header, width, _r in _COLUMNS}
        money = max([cell_len(fmt.money(i.overdue)) for i in items] + [widths["overdue"]])
        more = money - widths["overdue"]
        for key, least in (("name", MIN_NAME), ("ref", MIN_REF)):
            give = min(more, max(0, widths[key] - least))
            widths[key] -= give
            more -= give
        widths["overdue"] = money - more
        return widths

    def _add_columns(self, widths: dict[str, int]) -> None:
        self.widths = widths
        for key, header, _width, right in _COLUMNS:
            self.add_column(Text(_(header) if header else "", justify="right" if right else "left"), key=key,
                            width=widths[key])

    def show_page(self, items: Sequence[WorklistItem], *, more: bool, replace: bool) -> None:
        """Add a page of rows (or start again with it when ``replace``)."""
        keep = self.current_item.id if self.current_item else None
        if replace:
            self.clear()
            self.items = []
        widths = self._widths_for([*self.items, *items])
        if widths != self.widths:  # a wider amount came: the columns again, and the rows in them
            items = [*self.items, *items]
            self.clear(columns=True)
            self.items = []
            self._add_columns(widths)
        else:
            keep = keep if replace else None
        now = self._clock()
        rows = []
        for item in items:
            self.items.append(item)
            rows.append(self._row(item, now))
        for item, row in zip(items, rows, strict=True):
            self.add_row(*row, key=f"{item.id}")
        self.has_more = more
        self._asked = False
        if keep is not None:
            for index, item in enumerate(self.items):
                if item.id == keep:
                    self.move_cursor(row=index)
                    break

    def show_waiting(self, waiting: Waiting) -> None:
        """Mark again the rows whose account has a draft or unsent work (another desk's too)."""
        before, self.waiting = self.waiting, waiting
        for item in self.items:
            if kept_mark(before, item.id) != kept_mark(waiting, item.id):
                self.update_cell(f"{item.id}", "call", self._mark(item))

    def _mark(self, item: WorklistItem) -> Text:
        mark = Text("✓", style="bold green") if item.contactable_now else Text("·", style="dim")
        kept = kept_mark(self.waiting, item.id)
        mark.append(kept, style="bold" if kept == "⧗" else "")
        return mark

    def _row(self, item: WorklistItem, now: dt.datetime) -> list[Text]:
        if item.contactable_now:
            when = Text(_("now"))
        else:
            when = Text(fmt.soon(item.next_contact_at, now, self._tz) if item.next_contact_at else "—", style="dim")
        last4 = item.card[-4:] if item.card[-4:].isdigit() else "····"
        return [
            self._mark(item),
            _fit(item.account_ref, self.widths["ref"]),
            _fit(item.customer_name, self.widths["name"]),
            Text(last4),  # the last four (the column says it is the card)
            Text(str(item.dpd), justify="right"),
            # "current" is the one bucket longer than its column: its short name, as the overview's.
            _fit(_("Cur") if item.bucket.value == "current" else item.bucket.value, self.widths["bucket"]),
            Text(fmt.money(item.overdue), justify="right"),
            Text(f"{item.priority:.0f}", justify="right"),
            _fit(when.plain, 9) if not item.contactable_now else when,
        ]

    @property
    def current_item(self) -> WorklistItem | None:
        if 0 <= self.cursor_row < len(self.items):
            return self.items[self.cursor_row]
        return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.current_item
        if item is not None:
            self.post_message(self.Open(item))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        item = self.current_item
        if item is not None:
            self.post_message(self.Highlighted(item))
        if self.cursor_row >= len(self.items) - PREFETCH_ROWS:
            self._ask()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - PREFETCH_ROWS:
            self._ask()

    def _ask(self) -> None:
        if self.has_more and not self._asked:
            self._asked = True
            self.post_message(self.NeedMore())

    def ask_again(self) -> None:
        """The last request for more failed: let the next cursor move ask again."""
        self._asked = False
