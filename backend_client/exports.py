"""Cells of exported files, safe to open (issue 15 item 5).

CSV: a spreadsheet takes a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or
a tab or a carriage return, which some strip before looking) as a formula, so a
customer named ``=HYPERLINK("http://…","click")`` or a note reading
``+cmd|'/c calc'!A0`` would run when a supervisor opens the export (OWASP, "CSV
Injection"). Such a text cell is written with a single quote before it, which
the spreadsheet shows as text. A cell that is a plain number (``-12.50``, ``-3``)
is left as it is, so negative figures stay numbers.

Markdown: a table cell may not hold a ``|`` (it would end the cell) nor a line
break (it would end the row), and a trailing backslash would escape the next
``|``: line breaks become spaces, and pipes, backslashes and what would start
emphasis, code, a link or HTML are escaped, so a name or a note reads as itself
(as ``backend.documents.letters.md_escape`` does for letters).

Pure functions; the CSV and Markdown exports of ``collectdesk report``, the
desk's reports screen, ``collectdesk report strategies`` and ``collectdesk
score`` all write through them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP)."""
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
_LINE_BREAKS = re.compile(r"\r\n|[\t\r\n\u2028\u2029\x0b\x0c\x85]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|~])")


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_text(titles: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file (a header row, ``\\n`` line ends), every cell through :func:`csv_cell`.

    A row with a carriage return in a cell (a note typed on Windows) is written with
    every cell quoted: the csv module quotes only the line end it writes (``\\n``), and
    an unquoted CR would end the row for a spreadsheet."""
    out = io.StringIO()
    minimal = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in [titles, *rows]:
        cells = [csv_cell(c) for c in row]
        (quoted if any("\r" in c for c in cells) else minimal).writerow(cells)
    return out.getvalue()


def one_line(value: object) -> str:
    """``value`` on one line: its line breaks and tabs become spaces (text reports, Markdown)."""
    return _LINE_BREAKS.sub(" ", "" if value is None else str(value))


def md_cell(value: object) -> str:
    """``value`` as Markdown text that reads as itself, fit for a table cell: one line,
    and the characters that would start emphasis, code, a link, HTML or a cell's end
    (``\\ ` * _ [ ] { } < > | ~``) escaped with a backslash."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(value))
