"""``collectdesk report strategies|treatments|agent|team|portfolio|cases`` (issues 5, 6 and 20).

The figures come from :mod:`backend.services.reports`, the same functions the
API answers with; this module runs them for a user (``--as``) and writes them
as a terminal table (with bars and sparklines), CSV or Markdown through
:mod:`backend_client.report_format`, which the desk's reports screen shares.

No output ranks agents by amount collected (2011 Measures Art. 66): agents
are listed by name, and collection always stands beside the quality figures.
"""

from __future__ import annotations

import argparse
import datetime as dt

from collectdesk.cli import options
from collectdesk.cli.runtime import CliError, actor, emit, open_engine, open_session, resolve_db

HELPS = {
    "agent": "per agent, by name: attempts, contacts, RPC rate, promises, kept rate, collection, "
             "escalations, handle time",
    "team": "the agent figures per team",
    "portfolio": "accounts and balance by bucket, roll rates and cure rate",
    "cases": "successful and difficult cases with their notes and what was done",
}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """``report strategies`` and ``report agent|team|portfolio|cases``."""
    from backend_client.report_format import KINDS

    report = sub.add_parser("report", help="reports", description="Reports, to stdout unless --output.")
    report_sub = report.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    strategies = report_sub.add_parser(
        "strategies", help="champion against challenger: the worklist strategies compared",
        description="Compare the worklist strategies (champion and challenger) over the last N days: accounts, "
                    "balance, outbound attempts, right-party contacts and rate, promises and the amount promised, "
                    "plans kept and broken, money collected and the share of accounts that paid. Per strategy, "
                    "never per agent. Counts the accounts USER may see.")
    strategies.add_argument("--days", type=options.days, default=30, metavar="N", help="the last N days (default 30)")
    strategies.add_argument("--format", dest="fmt", choices=("table", "csv", "md"), default="table",
                            help="table (default), csv or md (a Markdown table)")
    strategies.add_argument("--output", type=options.output_file, metavar="FILE", help="write to FILE instead of stdout")
    strategies.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                            help="the supervisor, legal officer or admin the report is for (default admin)")
    options.db_option(strategies)
    strategies.set_defaults(func=cmd_report_strategies)
    treatments = report_sub.add_parser(
        "treatments", help="treatments measured: each reminder step and path, champion against challenger",
        description="What the treatment paths' messages did, per path (its entry steps) and step: attempted, "
                    "sent, delivered, opted out within 30 days, paid within 7 and 30 days, cured within 30 days, "
                    "for the messages settled in the period (the last N days, or --from/--to: dates, both "
                    "included, UTC). A measure whose window has not passed yet leaves the message out and counts "
                    "it as not yet. Challenger − champion with a 95 % interval (Newcombe). A supervisor sees "
                    "their team's accounts; legal officers and admins all or --team.")
    period = treatments.add_mutually_exclusive_group()
    period.add_argument("--days", type=options.days, default=30, metavar="N", help="the last N days (default 30)")
    period.add_argument("--from", dest="date_from", type=options.date, metavar="D", help="first day, YYYY-MM-DD")
    treatments.add_argument("--to", dest="date_to", type=options.date, metavar="D",
                            help="last day, YYYY-MM-DD (default today)")
    treatments.add_argument("--team", metavar="T", help="one team (legal officers and admins)")
    treatments.add_argument("--format", dest="fmt", choices=("text", "csv", "json"), default="text",
                            help="text (default), csv (one row per strategy, step and measure; rates in basis "
                                 "points) or json (the API's answer)")
    treatments.add_argument("--output", type=options.output_file, metavar="FILE", help="write to FILE instead of stdout")
    treatments.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                            help="the supervisor, legal officer or admin the report is for (default admin)")
    options.db_option(treatments)
    treatments.set_defaults(func=cmd_report_treatments)
    for kind in KINDS:
        p = report_sub.add_parser(
            kind, help=HELPS[kind],
            description=f"The {kind} report: {HELPS[kind]}. The period is the last N days (--days, default 30) "
                        "or --from/--to (dates, both included, UTC). A supervisor sees their team; legal officers "
                        "and admins every team or the one named by --team. Agents are never ranked by amount "
                        "collected (2011 Measures Art. 66).")
        p.add_argument("--days", type=options.days, default=30, metavar="N", help="the last N days (default 30)")
        p.add_argument("--from", dest="date_from", type=options.date, metavar="D", help="first day, YYYY-MM-DD")
        p.add_argument("--to", dest="date_to", type=options.date, metavar="D", help="last day, YYYY-MM-DD (default today)")
        p.add_argument("--team", metavar="T", help="one team (legal officers and admins)")
        if kind == "cases":
            p.add_argument("--limit", type=options.days, default=50, metavar="N",
                           help="at most N successful and N difficult cases (default 50)")
        p.add_argument("--format", dest="fmt", choices=("table", "csv", "md"), default="table",
                       help="table (default, with bars and sparklines), csv or md (Markdown)")
        p.add_argument("--output", type=options.output_file, metavar="FILE", help="write to FILE instead of stdout")
        p.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                       help="the supervisor, legal officer or admin the report is for (default admin)")
        options.db_option(p)
        p.set_defaults(func=run)


STRATEGY_COLUMNS = (
    ("strategy", "strategy"), ("accounts", "accounts"), ("balance", "balance"), ("attempts", "attempts"),
    ("right_party_contacts", "RPC"), ("rpc_rate", "RPC rate"), ("promises", "promises"), ("promised", "promised"),
    ("plans_kept", "plans kept"), ("plans_broken", "plans broken"), ("kept_rate", "kept rate"),
    ("collected", "collected"), ("paying_accounts", "paying accounts"), ("paying_share", "paying share"),
)


def _amounts(amounts, fmt: str) -> str:  # noqa: ANN001
    from backend_client.money import exponent, to_major

    if fmt == "csv":  # plain numbers: "USD 1234.50 TWD 10"
        return " ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):.{exponent(m.currency)}f}"
                        for m in amounts)
    return "; ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):,.{exponent(m.currency)}f}"
                     for m in amounts) or "-"


def _strategy_cells(figures, fmt: str) -> list[str]:  # noqa: ANN001
    cells = []
    for field, _title in STRATEGY_COLUMNS:
        value = getattr(figures, field)
        if isinstance(value, list):  # money: one amount per currency
            cells.append(_amounts(value, fmt))
        elif field.endswith(("_rate", "_share")):
            if fmt == "csv":
                cells.append("" if value is None else f"{value:.4f}")
            else:
                cells.append("-" if value is None else f"{value * 100:.1f} %")
        elif isinstance(value, int) and fmt != "csv":
            cells.append(f"{value:,}")
        else:
            cells.append(str(value))
    return cells


def format_strategy_report(report, fmt: str) -> str:  # noqa: ANN001
    """The report as text: a table (one strategy a column), CSV (one strategy a row,
    plain numbers, rates from 0 to 1) or a Markdown table."""
    from backend_client.exports import csv_text, md_cell

    rows = [_strategy_cells(f, fmt) for f in report.strategies]
    if fmt == "csv":
        return csv_text([field for field, _title in STRATEGY_COLUMNS], rows)
    titles = [title for _field, title in STRATEGY_COLUMNS]
    heading = (f"Champion against challenger, last {report.days} days ({report.since.date().isoformat()} to "
               f"{report.until.date().isoformat()}): per strategy, never per agent")
    if not rows:
        return f"{heading}\n\nno accounts to report\n"
    if fmt == "md":
        lines = [f"**{heading}**", "", "| " + " | ".join(titles) + " |",
                 "| --- |" + " ---: |" * (len(titles) - 1)]
        lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    # A table with one strategy a column (fourteen figures across would not fit in
    # 80 columns), an amount in each currency on a line of its own.
    cells = [[cell.split("; ") for cell in row] for row in rows]
    width = max(len(t) for t in titles)
    col = max(12, *(len(part) for row in cells for cell in row for part in cell))
    lines = [heading, ""]
    for i, title in enumerate(titles):
        for n in range(max(len(row[i]) for row in cells)):
            label = title if n == 0 else ""
            lines.append(f"{label:<{width}}" + "".join(
                f"  {row[i][n] if n < len(row[i]) else '':>{col}}" for row in cells).rstrip())
        if i == 0:
            lines.append("-" * (width + (col + 2) * len(rows)))
    return "\n".join(lines) + "\n"


def cmd_report_strategies(args: argparse.Namespace) -> int:
    from backend.domain.errors import DomainError
    from backend.services import audit
    from backend.services.reports import REPORT_ROLES, strategies

    engine = open_engine(resolve_db(args.db))
    try:
        with open_session(engine) as session:
            user = actor(session, args.as_user, REPORT_ROLES, "reports are for supervisors, legal officers and admins")
            try:
                report = strategies(session, user, args.days)
            except DomainError as exc:
                raise CliError(exc.detail or exc.title) from None
            audit.record(session, user.id, "view", "report", None, report="strategies", days=args.days, via="cli")
            session.commit()
    finally:
        engine.dispose()
    text = format_strategy_report(report, args.fmt)
    emit(text, args.output)
    return 0


TREATMENT_MEASURES = (("sent", "sent"), ("delivered", "delivered"), ("opted_out", "opted out 30d"),
                      ("paid_7d", "paid 7d"), ("paid_30d", "paid 30d"), ("cured_30d", "cured 30d"))
TREATMENT_CSV = ("scope", "step", "channel", "strategy", "measure", "count", "of", "not_yet", "rate_bp",
                 "difference_bp", "low_bp", "high_bp")


def _pct(bp: int | None, signed: bool = False) -> str:
    """Basis points as a percentage with one decimal, from integers (``8333`` → ``83.3``)."""
    if bp is None:
        return "-"
    sign = "-" if bp < 0 else "+" if signed and bp > 0 else ""
    tenths = (abs(bp) + 5) // 10  # 0.1 % = 10 bp, halves up
    return f"{sign}{tenths // 10}.{tenths % 10}"


def _measure_cell(m) -> str:  # noqa: ANN001
    cell = f"{m.count}/{m.of} {_pct(m.rate_bp) + ' %' if m.rate_bp is not None else '-'}"
    return cell + (f" (+{m.not_yet})" if m.not_yet else "")


def _difference_cell(d) -> str:  # noqa: ANN001
    if d is None or d.difference_bp is None:
        return ""
    return f"{_pct(d.difference_bp, True)} ({_pct(d.low_bp, True)} to {_pct(d.high_bp, True)})"


def _block(title: str, champion, challenger, comparison) -> list[str]:  # noqa: ANN001
    """One scope (the paths, or a step): a row a measure, champion and challenger side by side."""
    diffs = {d.measure: d for d in comparison.differences} if comparison else {}
    rows = [["attempted", str(champion.attempted) if champion else "", str(challenger.attempted) if challenger else "",
             ""]]
    for field, label in TREATMENT_MEASURES:
        rows.append([label, _measure_cell(getattr(champion, field)) if champion else "",
                     _measure_cell(getattr(challenger, field)) if challenger else "", _difference_cell(diffs.get(field))])
    head = ["", "champion", "challenger", "challenger − champion" if comparison else ""]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [title]
    for r in [head, *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return lines


def format_treatment_report(report, fmt: str) -> str:  # noqa: ANN001
    """The treatment report as text (a block for the paths, then one a step: champion and
    challenger side by side), CSV (long: one row per strategy, step and measure, and one per
    difference; integers, rates in basis points) or JSON (the API's answer)."""
    from backend_client.exports import csv_text

    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    compared = {c.step_id: c for c in report.comparisons}
    if fmt == "csv":
        rows = []
        for scope, figures in (("path", report.paths), ("step", report.steps)):
            for f in figures:
                rows.append([scope, f.step_id or "", f.channel or "", f.strategy, "attempted", f.attempted,
                             "", "", "", "", "", ""])
                for field, _label in TREATMENT_MEASURES:
                    m = getattr(f, field)
                    rows.append([scope, f.step_id or "", f.channel or "", f.strategy, field, m.count, m.of,
                                 m.not_yet, m.rate_bp, "", "", ""])
        for c in report.comparisons:
            for d in c.differences:
                rows.append(["path" if c.step_id is None else "step", c.step_id or "", "", "challenger-champion",
                             d.measure, "", "", "", "", d.difference_bp, d.low_bp, d.high_bp])
        return csv_text(TREATMENT_CSV, rows)
    p = report.period
    last = (p.until - dt.timedelta(microseconds=1)).date()
    import textwrap

    lines = [f"Treatments measured: {p.since.date().isoformat()} to {last.isoformat()}"
             + (f", team {report.team}" if report.team else ""),
             *textwrap.wrap(f"Judged as of {report.as_of.strftime('%Y-%m-%d %H:%M')} UTC: the messages settled in "
                            "the period, count/of and rate; (+N): N more sent too recently for the window to have "
                            "passed, left out. Differences (challenger − champion) in percentage points, with "
                            "their 95 % interval (Newcombe).", 78), ""]
    paths = {f.strategy: f for f in report.paths}
    lines += _block("Paths as a whole (their entry steps)", paths.get("champion"), paths.get("challenger"),
                    compared.get(None))
    by_step: dict[str, dict] = {}
    for f in report.steps:
        by_step.setdefault(f.step_id or "", {})[f.strategy] = f
    idle = []
    for step_id, sides in by_step.items():
        if not any(f.attempted for f in sides.values()):
            idle.append(step_id)
            continue
        channels = "/".join(sorted({f.channel for f in sides.values() if f.channel}))
        entry = sorted(s for s, f in sides.items() if f.entry)
        title = f"Step {step_id} ({channels}" + (f"; entry of {' and '.join(entry)}" if entry else "") + ")"
        lines += ["", *_block(title, sides.get("champion"), sides.get("challenger"), compared.get(step_id))]
    if idle:
        lines += ["", *textwrap.wrap("Nothing settled in the period: " + ", ".join(idle), 78,
                                     subsequent_indent="  ", break_on_hyphens=False)]
    return "\n".join(lines) + "\n"


def cmd_report_treatments(args: argparse.Namespace) -> int:
    from backend.domain.errors import DomainError
    from backend.services import audit
    from backend.services.reports import REPORT_ROLES, treatments

    since = dt.datetime.combine(args.date_from, dt.time(), dt.UTC) if args.date_from else None
    until = dt.datetime.combine(args.date_to + dt.timedelta(days=1), dt.time(), dt.UTC) if args.date_to else None
    engine = open_engine(resolve_db(args.db))
    try:
        with open_session(engine) as session:
            user = actor(session, args.as_user, REPORT_ROLES, "reports are for supervisors, legal officers and admins")
            try:
                report = treatments(session, user, args.days, team=args.team, since=since, until=until)
            except DomainError as exc:
                raise CliError(exc.detail or exc.title) from None
            audit.record(session, user.id, "view", "report", None, report="treatments",
                         since=report.period.since.isoformat(), until=report.period.until.isoformat(),
                         team=report.team, as_of=report.as_of.isoformat(), via="cli")
            session.commit()
    finally:
        engine.dispose()
    emit(format_treatment_report(report, args.fmt), args.output)
    return 0


def run(args: argparse.Namespace) -> int:
    """``report agent|team|portfolio|cases``."""
    from backend.domain.errors import DomainError
    from backend.services import audit
    from backend.services import reports as reports_svc

    kind = args.report_kind
    since = (dt.datetime.combine(args.date_from, dt.time(), dt.UTC) if args.date_from else None)
    until = (dt.datetime.combine(args.date_to + dt.timedelta(days=1), dt.time(), dt.UTC) if args.date_to else None)
    build = {"agent": reports_svc.agents, "team": reports_svc.teams, "portfolio": reports_svc.portfolio,
             "cases": reports_svc.cases}[kind]
    extra = {"limit": args.limit} if kind == "cases" else {}
    engine = open_engine(resolve_db(args.db))
    try:
        with open_session(engine) as session:
            user = actor(session, args.as_user, reports_svc.REPORT_ROLES,
                          "reports are for supervisors, legal officers and admins")
            try:
                report = build(session, user, args.days, team=args.team, since=since, until=until, **extra)
            except DomainError as exc:
                raise CliError(exc.detail or exc.title) from None
            detail = {}
            if kind == "cases":
                detail["accounts"] = sorted({c.account_id for c in report.successful + report.difficult})
            audit.record(session, user.id, "view", "report", None, report=kind, since=report.period.since.isoformat(),
                         until=report.period.until.isoformat(), team=args.team, via="cli", **detail)
            session.commit()
    finally:
        engine.dispose()
    from backend_client.report_format import FORMATTERS

    text = FORMATTERS[kind](report, args.fmt)
    emit(text, args.output)
    return 0


