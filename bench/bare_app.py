"""The anchor of ``bench/desk.py``: a bare Textual app showing a 50-row ``DataTable``.

    python bench/bare_app.py [--low-bandwidth]

The columns are the worklist's (account, name, card, DPD, bucket, overdue,
priority, next contact) and the rows look like seeded accounts, so that what it
writes to a terminal compares with the desk's worklist. ``enter`` pushes a
screen (the row, as a few lines of text) and ``escape`` pops it: the bare app's
screen change. ``ctrl+q`` quits. Nothing else: no backend, no settings, no
status line, no footer of keys. With ``--low-bandwidth`` it runs as the desk does
on a thin link (the terminal's 16 colours, the ``ansi-dark`` theme, no
animation, no mouse tracking).
"""

from __future__ import annotations

import random
import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

COLUMNS = ("", "Account", "Name", "Card", "DPD", "Bkt", "Overdue", "Prio", "Contact")
FIRST = ["Ana", "Li", "Marta", "Jun", "Omar", "Eva", "Ravi", "Sofia", "Tom", "Mei"]
LAST = ["Silva", "Wang", "Novak", "Kim", "Haddad", "Berg", "Rao", "Costa", "Lee", "Chen"]


def rows(count: int = 50) -> list[tuple[str, ...]]:
    rng = random.Random(1)
    out = []
    for i in range(count):
        dpd = rng.randint(1, 180)
        out.append(("✓" if i % 3 else "", f"BENCH-{i + 1:05d}", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    f"{rng.randint(0, 9999):04d}", str(dpd), f"B{min(dpd // 30 + 1, 6)}",
                    f"{rng.randint(100, 900000) / 100:,.2f} EUR", f"{rng.random() * 100:.0f}",
                    f"{rng.randint(8, 20):02d}:{rng.choice(('00', '30'))}"))
    return out


class RowScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, row: tuple[str, ...]) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        yield Static("\n".join(f"{name or 'Call'}: {value}" for name, value in zip(COLUMNS, self.row, strict=True)))


class BareApp(App[None]):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, *, low_bandwidth: bool = False) -> None:
        super().__init__(ansi_color=True if low_bandwidth else None)
        self.rows = rows()
        if low_bandwidth:
            from rich.console import ColorSystem

            self.theme = "ansi-dark"
            self.animation_level = "none"
            self.console._color_system = ColorSystem.STANDARD

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=False)
        table.add_columns(*COLUMNS)
        table.add_rows(self.rows)
        yield table

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.push_screen(RowScreen(self.rows[event.cursor_row]))


if __name__ == "__main__":
    low = "--low-bandwidth" in sys.argv[1:]
    BareApp(low_bandwidth=low).run(mouse=not low)
