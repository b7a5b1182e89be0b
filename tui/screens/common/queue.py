"""What the desk's queue screens share (approvals, escalations, breaches, segments,
the team overview, assign): one table of items loaded from the backend, keys
held until the first load has answered, the highlighted item, moving and
reloading, and cells cut to their column."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import DataTable

from backend_client.client import BackendError, BackendUnavailable
from tui.i18n import N_
from tui.screens.common.base import DeskScreen

T = TypeVar("T")
R = TypeVar("R")


def clip(text: str, width: int) -> Text:
    """``text`` in at most ``width`` cells, an ellipsis where it is cut."""
    out = Text(text)
    if cell_len(text) > width:
        out.truncate(width, overflow="ellipsis")
    return out


def fit(text: str, width: int) -> Text:
    """``text`` in a column of ``width`` cells that keeps a space after it (``cell_padding=0``)."""
    return clip(text, width - 1)


def right(text: str, width: int, style: str = "") -> Text:
    """``text`` right-aligned in a column of ``width`` cells, a space after it, measured in
    cells (a Chinese character is two: ``str.rjust`` counts it one and the column cuts it);
    an ellipsis where it is longer; one exactly ``width`` long takes the space too (a
    header such as "Broken"). Padded by hand: a right-justified Text loses its trailing
    space (rich strips it)."""
    if cell_len(text) == width:
        return Text(text, style=style)
    out = clip(text, width - 1)
    out.stylize(style)
    return Text(" " * (width - 1 - out.cell_len)) + out + Text(" ")



def cursor_bindings(screen: str) -> list[Binding]:
    """The moves of a screen's main table, with ``screen``'s own binding ids (remappable each):
    ``j``/``k``, and the table's own arrows, page up and down, ``ctrl+home`` and ``ctrl+end``.

    All are priority bindings of the screen (``TableMoves`` acts on the table when it has the
    focus, else leaves the key to the focused field). A key that a focused widget binds waits in
    that widget's queue while a screen's priority binding acts at once, so over SSH, where
    "down down a" arrives in one packet, the plan approved (or the account opened) was the one
    the cursor had been on, not the one it moved to."""
    return [
        Binding("j", "cursor_down", N_("Down"), tooltip=N_("Move down"), id=f"{screen}.down", priority=True,
                show=False),
        Binding("k", "cursor_up", N_("Up"), tooltip=N_("Move up"), id=f"{screen}.up", priority=True, show=False),
        Binding("down", "cursor_down", N_("Down"), tooltip=N_("Move down"), id=f"{screen}.down_arrow",
                priority=True, show=False),
        Binding("up", "cursor_up", N_("Up"), tooltip=N_("Move up"), id=f"{screen}.up_arrow", priority=True,
                show=False),
        Binding("pagedown", "page_down", N_("Page down"), tooltip=N_("Move a page down"), id=f"{screen}.page_down",
                priority=True, show=False),
        Binding("pageup", "page_up", N_("Page up"), tooltip=N_("Move a page up"), id=f"{screen}.page_up",
                priority=True, show=False),
        Binding("ctrl+home", "first", N_("First"), tooltip=N_("Move to the first row"), id=f"{screen}.first",
                priority=True, show=False),
        Binding("ctrl+end", "last", N_("Last"), tooltip=N_("Move to the last row loaded"), id=f"{screen}.last",
                priority=True, show=False),
    ]


class TableMoves:
    """The actions of ``cursor_bindings`` on ``table``, the screen's main table (mixed into a
    screen): each moves the table's cursor at once when it has the focus; otherwise the key is
    skipped here and goes to the focused field (a note being typed keeps its arrows)."""

    table: DataTable[Any]
    focused: Any

    def _table_moves(self) -> DataTable[Any]:
        if self.focused is not self.table:
            raise SkipAction()
        return self.table

    def action_cursor_down(self) -> None:
        self._table_moves().action_cursor_down()

    def action_cursor_up(self) -> None:
        self._table_moves().action_cursor_up()

    def action_page_down(self) -> None:
        self._table_moves().action_page_down()

    def action_page_up(self) -> None:
        self._table_moves().action_page_up()

    def action_first(self) -> None:
        self._table_moves().action_scroll_top()

    def action_last(self) -> None:
        self._table_moves().action_scroll_bottom()


class QueueScreen(TableMoves, DeskScreen, Generic[T]):
    """A screen around one ``DataTable`` (``TABLE``, its id) of ``items`` loaded from the
    backend by a ``load`` worker. Keys typed while it opens wait for the first load
    (``ready_for_keys``); a load that fails says so, once the backend is lost (the
    status line keeps saying it). ``RELOAD_ON_RESUME``: loaded again each time the
    screen is shown again (back from an account or a form)."""

    TABLE: ClassVar[str]
    """The id of the screen's table."""
    WIDTHS: ClassVar[dict[str, int]]
    """Its columns, in cells, by key."""
    GIVES: ClassVar[tuple[str, ...]] = ()
    """Columns of text (they end in "…") that give cells, in this order, to an amount wider
    than its column: an amount is never cut (``fit_columns``)."""
    LEAST: ClassVar[int] = 5
    """A column giving cells keeps at least this many."""
    RELOAD_ON_RESUME: ClassVar[bool] = False

    items: Sequence[T]
    _loaded_once: bool = False

    def load(self) -> Any:
        """Start the screen's loading worker (each queue screen says what it loads)."""
        raise NotImplementedError  # abstract: every QueueScreen defines it

    def add_columns(self, titles: dict[str, Any] | Callable[[str, int], Any]) -> None:
        """The table's columns, in ``WIDTHS``' order, titled by key (or by a function of the
        key and the width, for a title aligned in its column)."""
        self._titles = titles
        self._set_columns(dict(self.WIDTHS))

    def _set_columns(self, widths: dict[str, int]) -> None:
        self.widths = widths
        """The columns' widths now: ``WIDTHS``, with cells given to wide amounts."""
        table = self.table
        for key, width in widths.items():
            titles = self._titles
            title = titles(key, width) if callable(titles) else titles[key]
            table.add_column(clip(title, width) if isinstance(title, str) else title, key=key, width=width)

    def fit_columns(self, amounts: dict[str, int]) -> None:
        """Widen each column of ``amounts`` (key → the widest cell it must show) to show it
        whole, taking the cells from ``GIVES``; the columns are made again (and emptied)
        if their widths change. Call it before adding the rows."""
        widths = dict(self.WIDTHS)
        for key, want in amounts.items():
            more = want - widths[key]
            for donor in self.GIVES:
                if more <= 0:
                    break
                give = min(more, max(0, widths[donor] - self.LEAST))
                widths[donor] -= give
                more -= give
            widths[key] = max(widths[key], want - max(more, 0))
        if widths != self.widths:
            self.table.clear(columns=True)
            self._set_columns(widths)

    def ready_for_keys(self) -> bool:
        return self._loaded_once

    def on_screen_resume(self) -> None:
        if self.RELOAD_ON_RESUME and self._loaded_once:
            self.load()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(f"#{self.TABLE}", DataTable)

    @property
    def current(self) -> T | None:
        """The highlighted item."""
        row = self.table.cursor_row
        items = self.items
        return items[row] if items and 0 <= row < len(items) else None

    async def fetch(self, request: Awaitable[R], what: str) -> R | None:
        """The backend's answer to ``request``, or None once its failure is said (titled
        ``what``) and the keys let go."""
        try:
            return await self.desk.call(request)
        except BackendError as exc:
            if not isinstance(exc, BackendUnavailable) or not self._loaded_once:
                self.desk.report(exc, what)
            self._ready()
            return None

    def _ready(self) -> None:
        """Loaded (or failed): keys held while it loaded go to it now, if it is in front."""
        self._loaded_once = True
        if self.app.screen is self:
            self.desk.release_keys()

    def action_reload(self) -> None:
        self.load()
