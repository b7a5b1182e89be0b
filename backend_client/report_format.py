"""The agent, team, portfolio and cases reports as text: a terminal table (with
bars and sparklines), CSV or Markdown (issue 5, item 5).

Pure functions of the wire models, shared by ``collectdesk report`` and the
desk's reports screen (which exports through them), so both write the same
files. What the data holds is written safe to open (:mod:`backend_client.exports`):
no CSV cell starts a spreadsheet formula, no Markdown cell breaks its table, and
a name or note is text in Markdown, never markup. No output ranks agents by amount collected (2011 Measures Art. 66):
agents are listed by name, and collection always stands beside the quality figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend_client.exports import csv_text, md_cell, one_line
from backend_client.money import exponent, to_major

if TYPE_CHECKING:  # the wire models are only annotations here: formatting loads no pydantic
    from backend_client.models import (
        AgentReport,
        CasesReport,
        Money,
        PortfolioReport,
        ReportPeriod,
        TeamReport,
        WorkFigures,
    )

KINDS = ("agent", "team", "portfolio", "cases")
BARS = " ▏▎▍▌▋▊▉█"
SPARKS = "▁▂▃▄▅▆▇█"


# --------------------------------------------------------------------------
# Bars, sparklines and numbers


def bar(fraction: float | None, width: int = 8) -> str:
    """A horizontal bar of ``width`` cells for a share from 0 to 1 (eighths of a cell)."""
    if fraction is None:
        return " " * width
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (BARS[part] if part else "")).ljust(width)


def sparkline(values: Sequence[float | None]) -> str:
    """One character a value, ``▁`` (the least) to ``█`` (the most); a gap for no value."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    top = max(known)
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif top <= 0:
            out.append(SPARKS[0])
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))])
    return "".join(out)


def amounts(items: Sequence[Money], fmt: str) -> str:
    """Money in each currency: ``USD 1,234.50; TWD 10`` (CSV: ``USD 1234.50 TWD 10``)."""
    if fmt == "csv":
        return " ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):.{exponent(m.currency)}f}"
                        for m in items)
    return "; ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):,.{exponent(m.currency)}f}"
                     for m in items) or "-"


def pct(value: float | None, fmt: str) -> str:
    if fmt == "csv":
        return "" if value is None else f"{value:.4f}"
    return "-" if value is None else f"{value * 100:.1f} %"


def seconds(value: float | None, fmt: str) -> str:
    if value is None:
        return "" if fmt == "csv" else "-"
    if fmt == "csv":
        return f"{value:.1f}"
    m, s = divmod(round(value), 60)
    return f"{m}:{s:02d}"


def _grid(titles: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(t), *(len(r[i]) for r in rows)) if rows else len(t) for i, t in enumerate(titles)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(titles), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _md(titles: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    return ["| " + " | ".join(md_cell(t) for t in titles) + " |",
            "|" + "".join(" ---: |" if i in right else " --- |" for i in range(len(titles))),
            *("| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows)]


def _csv(titles: list[str], rows: list[list[str]]) -> str:
    return csv_text(titles, rows)


def _text(value: object, fmt: str) -> str:
    """Data (a name, a note) in running text: Markdown-escaped for ``md``, one line either way."""
    return md_cell(value) if fmt == "md" else one_line(value)


def _heading(what: str, period: ReportPeriod, team: str | None, fmt: str = "table") -> str:
    last = (period.until - dt.timedelta(microseconds=1)).date()
    return (f"{what}{f', team {_text(team, fmt)}' if team else ''}: {period.since.date().isoformat()} to "
            f"{last.isoformat()} ({period.days} day{'s' if period.days != 1 else ''})")


# --------------------------------------------------------------------------
# Agent and team


WORK_CSV = ("accounts", "attempts", "contacts", "right_party_contacts", "rpc_rate", "promises", "promised", "plans",
            "plans_kept", "plans_broken", "kept_rate", "collected", "paying_accounts", "escalations",
            "average_handle_s", "attempts_by_day")


def _work_csv(f: WorkFigures) -> list[str]:
    cells = []
    for name in WORK_CSV:
        value = getattr(f, name)
        if name in ("promised", "collected"):
            cells.append(amounts(value, "csv"))
        elif name.endswith("_rate"):
            cells.append(pct(value, "csv"))
        elif name == "average_handle_s":
            cells.append(seconds(value, "csv"))
        elif name == "attempts_by_day":
            cells.append(" ".join(str(v) for v in value))
        else:
            cells.append("" if value is None else str(value))
    return cells


def _work_cells(f: WorkFigures, fmt: str, bars: bool) -> list[str]:
    def rate(value: float | None) -> str:
        return (bar(value, 6) + " " if bars else "") + pct(value, fmt)

    return [f"{f.accounts:,}", f"{f.attempts:,}", f"{f.contacts:,}", rate(f.rpc_rate), f"{f.promises:,}",
            amounts(f.promised, fmt), f"{f.plans_kept}/{f.plans_broken}", rate(f.kept_rate),
            amounts(f.collected, fmt), "-" if f.escalations is None else f"{f.escalations:,}",
            seconds(f.average_handle_s, fmt)] + ([sparkline(f.attempts_by_day)] if bars else [])


WORK_TITLES = ["accounts", "attempts", "contacts", "RPC rate", "PTP", "promised", "kept/broken", "kept rate",
               "collected", "esc.", "AHT"]
WORK_RIGHT = set(range(1, 12)) - {6}


def format_agents(report: AgentReport, fmt: str) -> str:
    if fmt == "csv":
        return _csv(["agent", "name", "team", *WORK_CSV],
                    [[a.agent, a.display_name, a.team or "", *_work_csv(a)] for a in report.agents])
    heading = _heading("Agents", report.period, report.team, fmt)
    note = ("Listed by name, never ranked by amount collected (2011 Measures Art. 66). RPC rate: right-party "
            "contacts per attempt; kept rate: plans kept of those kept or broken; AHT: average handle time; "
            "esc.: escalations raised.")
    if not report.agents:
        return f"{heading}\n\nno agents to report\n"
    titles = ["agent", *WORK_TITLES]
    bars = fmt == "table"
    rows = [[a.display_name, *_work_cells(a, fmt, bars)] for a in report.agents]
    if bars:
        titles.append(f"attempts a day ({report.period.days})")
    right = WORK_RIGHT if bars else WORK_RIGHT | {11}
    if fmt == "md":
        return "\n".join([f"**{heading}**", "", note, "", *_md(titles, rows, right)]) + "\n"
    return "\n".join([heading, note, "", *_grid(titles, rows, right)]) + "\n"


def format_teams(report: TeamReport, fmt: str) -> str:
    if fmt == "csv":
        return _csv(["team", "agents", *WORK_CSV], [[t.team, str(t.agents), *_work_csv(t)] for t in report.teams])
    heading = _heading("Teams", report.period, None)
    if not report.teams:
        return f"{heading}\n\nno teams to report\n"
    titles = ["team", "agents", *WORK_TITLES]
    bars = fmt == "table"
    rows = [[t.team, f"{t.agents:,}", *_work_cells(t, fmt, bars)] for t in report.teams]
    if bars:
        titles.append(f"attempts a day ({report.period.days})")
    right = {i + 1 for i in WORK_RIGHT} | {1}
    if fmt == "md":
        return "\n".join([f"**{heading}**", "", *_md(titles, rows, right)]) + "\n"
    return "\n".join([heading, "", *_grid(titles, rows, right)]) + "\n"


# --------------------------------------------------------------------------
# Portfolio


def format_portfolio(report: PortfolioReport, fmt: str) -> str:
    roll = {r.bucket.value: r for r in report.roll.rows}
    order = [b.bucket.value for b in report.buckets]
    if fmt == "csv":
        titles = ["bucket", "accounts", "share", "balance", "roll_from_accounts",
                  *(f"to_{b}" for b in order), "roll_forward_rate", "cure_rate"]
        rows = [[b.bucket.value, str(b.accounts), pct(b.share, fmt), amounts(b.balance, fmt),
                 str(roll[b.bucket.value].accounts), *(str(roll[b.bucket.value].to.get(t, 0)) for t in order),
                 pct(roll[b.bucket.value].roll_forward_rate, fmt), pct(roll[b.bucket.value].cure_rate, fmt)]
                for b in report.buckets]
        rows.append(["all", str(report.accounts), pct(1.0 if report.accounts else None, fmt),
                     amounts(report.balance, fmt), str(report.roll.accounts), *("" for _ in order),
                     "", pct(report.cure_rate, fmt)])
        return _csv(titles, rows)
    heading = _heading("Portfolio", report.period, report.team, fmt)
    bars = fmt == "table"
    lines = [f"**{heading}**" if fmt == "md" else heading, ""]
    titles = ["bucket", "accounts", "share", "balance"]
    rows = [[b.bucket.value, f"{b.accounts:,}", (bar(b.share, 10) + " " if bars else "") + pct(b.share, fmt),
             amounts(b.balance, fmt)] for b in report.buckets]
    rows.append(["all", f"{report.accounts:,}", "", amounts(report.balance, fmt)])
    lines += (_md if fmt == "md" else _grid)(titles, rows, {1, 2, 3})
    months = (f"{report.roll.from_month} → {report.roll.to_month}" if report.roll.from_month
              else "the last two statement months")
    lines += ["", f"Roll rates, {months}, from the statement histories of {report.roll.accounts:,} accounts "
                  "(rows: the bucket before; columns: the bucket after)", ""]
    titles = ["from", "accounts", *order, "roll forward", "cure"]
    rows = [[b, f"{roll[b].accounts:,}", *(f"{roll[b].to.get(t, 0):,}" if roll[b].to.get(t) else "·" for t in order),
             pct(roll[b].roll_forward_rate, fmt), pct(roll[b].cure_rate, fmt)] for b in order]
    lines += (_md if fmt == "md" else _grid)(titles, rows, set(range(1, len(titles))))
    trend_f, trend_c = report.roll.roll_forward_trend, report.roll.cure_trend
    lines += [""]
    if fmt == "table" and trend_f:
        lines += [f"roll forward, month by month (oldest first): {sparkline(trend_f)}  "
                  + " ".join(pct(v, fmt) for v in trend_f),
                  f"cure, month by month (oldest first):         {sparkline(trend_c)}  "
                  + " ".join(pct(v, fmt) for v in trend_c)]
    elif trend_f:
        lines += [f"- roll forward, month by month (oldest first): {', '.join(pct(v, fmt) for v in trend_f)}",
                  f"- cure, month by month (oldest first): {', '.join(pct(v, fmt) for v in trend_c)}"]
    bullet = "- " if fmt == "md" else ""
    lines += [f"{bullet}cure rate (statement months): {pct(report.cure_rate, fmt)}",
              f"{bullet}cure in the period: {report.cured:,} of {report.delinquent_at_start:,} accounts delinquent "
              f"when it began are current now ({pct(report.period_cure_rate, fmt)})",
              f"{bullet}collected in the period: {amounts(report.collected, fmt)}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Cases

CASE_WORDS = {"plan_kept": "plan kept", "cured": "cured", "plan_broken": "plan broken", "refused": "refused to pay",
              "dispute": "dispute", "no_contact": "never reached"}


def format_cases(report: CasesReport, fmt: str) -> str:
    sections = (("successful", report.successful), ("difficult", report.difficult))
    if fmt == "csv":
        rows = []
        for name, found in sections:
            for c in found:
                rows.append([name, c.kind.value, c.at.isoformat(), c.account_ref, c.customer_name, c.agent or "",
                             c.team or "", c.bucket.value, amounts([c.balance], fmt), str(c.attempts),
                             str(c.right_party_contacts), c.what, " | ".join(c.notes),
                             " | ".join(f"{k.at.isoformat()} {k.agent} {k.summary}" + (f": {k.note}" if k.note else "")
                                        for k in c.contacts)])
        return _csv(["section", "kind", "at", "account_ref", "customer", "agent", "team", "bucket", "balance",
                     "attempts", "right_party_contacts", "what", "notes", "contacts"], rows)
    heading = _heading("Cases", report.period, report.team, fmt)
    md = fmt == "md"
    lines = [f"**{heading}**" if md else heading]
    for name, found in sections:
        lines += ["", f"## {name.capitalize()} cases ({len(found)})" if md else f"{name.upper()} CASES ({len(found)})"]
        if not found:
            lines.append("none in the period")
        for c in found:
            mark = "✔" if c.successful else "✘"
            who = f"{_text(c.agent or 'team pool', fmt)}{f', team {_text(c.team, fmt)}' if c.team else ''}"
            title = (f"{mark} {CASE_WORDS[c.kind.value]}: {_text(c.account_ref, fmt)} {_text(c.customer_name, fmt)} "
                     f"({who}; bucket "
                     f"{c.bucket.value}, balance {amounts([c.balance], fmt)}; {c.attempts} attempts, "
                     f"{c.right_party_contacts} RPC)")
            lines += ["", f"- **{title}**" if md else title]
            pad = "  " if md else "    "
            lines.append(f"{pad}{c.at.date().isoformat()}: {_text(c.what, fmt)}")
            for note in c.notes:
                lines.append(f"{pad}note: {_text(note, fmt)}")
            for k in c.contacts:
                lines.append(f"{pad}{k.at.strftime('%Y-%m-%d %H:%M')} {_text(k.agent, fmt)}: {_text(k.summary, fmt)}"
                             + (f" — {_text(k.note, fmt)}" if k.note else ""))
    return "\n".join(lines) + "\n"


FORMATTERS = {"agent": format_agents, "team": format_teams, "portfolio": format_portfolio, "cases": format_cases}
