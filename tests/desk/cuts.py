"""What a screen cuts (issue 17 item 1): a table's header or cell wider than its column
without an ellipsis, an amount of money cut at all, a table wider than the screen shows.

DataTable crops a cell to its column's width silently; the desk's own cuts (``fit``,
``clip``) end in "…". So a cell whose text is wider than its column was cut by Textual,
unseen, and one ending in "…" that quotes money lost digits."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable, Footer
from textual.widgets._footer import FooterKey

MONEY = re.compile(r"-?(?:[A-Z]{0,3}[$¥€£₩]|[A-Z]{3}\s)-?\d[\d,]*(?:\.\d*)?|-?\d[\d,]*\.\d{1,2}")
"""An amount as the desk writes one (US$, CN¥, NT$, ¥, or a code and a space, before the
digits), or digits with cents; cut anywhere."""


def _cut_amount(line: str) -> bool:
    """Whether the ellipsis ends ``line`` in the middle of an amount (its last word is one)."""
    words = re.split(r"[\s·，、]+|,\s+", line.removesuffix("…").rstrip())
    return bool(words) and MONEY.fullmatch(words[-1]) is not None


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def cuts(app) -> list[str]:  # noqa: ANN001
    """Every cut on the app's screen that matters, in words (empty: nothing cut)."""
    screen = type(app.screen).__name__
    found: list[str] = []
    for table in app.screen.query(DataTable):
        if not table.display:
            continue
        where = f"{screen} #{table.id or type(table).__name__}"
        columns = table.ordered_columns
        # What a column shows, in cells: its width, or its content's for an auto-width one.
        room = {c.key: c.get_render_width(table) - 2 * table.cell_padding for c in columns}
        for column in columns:
            label = column.label.plain.rstrip()  # a space that aligns it may go
            if cell_len(label) > room[column.key] and not label.endswith("…"):
                found.append(f"{where}: header {label!r} cut to {room[column.key]} cells")
            elif label.endswith("…") and len(label.removesuffix("…").strip()) <= 1:
                found.append(f"{where}: header {label!r} cut to one character")
        for row_key in list(table.rows):
            for column, value in zip(columns, table.get_row(row_key), strict=False):
                for line in [x.rstrip() for x in _plain(value).splitlines()]:
                    if cell_len(line) > room[column.key]:
                        found.append(f"{where}: {column.label.plain!r} cell {line!r} cut to {room[column.key]} cells")
                    elif line.endswith("…") and _cut_amount(line):
                        found.append(f"{where}: {column.label.plain!r} money cut: {line!r}")
        shown = table.scrollable_content_region.width
        wide = sum(c.get_render_width(table) for c in columns)
        if shown and wide > shown:
            found.append(f"{where}: {wide} cells of columns in {shown}: the last ones are off the screen")
    for footer in app.screen.query(Footer):
        width = footer.region.right
        for key in footer.query(FooterKey):
            if key.display and (key.region.width == 0 or key.region.right > width):
                found.append(f"{screen} footer: {key.key_display or key.key} {key.description!r} is off the screen")
    return found
