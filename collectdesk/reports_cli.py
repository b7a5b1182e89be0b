"""``collectdesk report agent|team|portfolio|cases`` (issue 5, item 5).

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
import sys
from pathlib import Path

from backend_client.report_format import (  # noqa: F401 - the formatters, shared with the desk
    BARS,
    FORMATTERS,
    KINDS,
    SPARKS,
    amounts,
    bar,
    format_agents,
    format_cases,
    format_portfolio,
    format_teams,
    pct,
    seconds,
    sparkline,
)


# --------------------------------------------------------------------------
# The command


def add_parsers(report_sub, days_type, date_type, db_option) -> None:  # noqa: ANN001
    """``report agent|team|portfolio|cases`` under the ``report`` subparsers."""
    helps = {
        "agent": "per agent, by name: attempts, contacts, RPC rate, promises, kept rate, collection, "
                 "escalations, handle time",
        "team": "the agent figures per team",
        "portfolio": "accounts and balance by bucket, roll rates and cure rate",
        "cases": "successful and difficult cases with their notes and what was done",
    }
    for kind in KINDS:
        p = report_sub.add_parser(
            kind, help=helps[kind],
            description=f"The {kind} report: {helps[kind]}. The period is the last N days (--days, default 30) "
                        "or --from/--to (dates, both included, UTC). A supervisor sees their team; legal officers "
                        "and admins every team or the one named by --team. Agents are never ranked by amount "
                        "collected (2011 Measures Art. 66).")
        p.add_argument("--days", type=days_type, default=30, metavar="N", help="the last N days (default 30)")
        p.add_argument("--from", dest="date_from", type=date_type, metavar="D", help="first day, YYYY-MM-DD")
        p.add_argument("--to", dest="date_to", type=date_type, metavar="D", help="last day, YYYY-MM-DD (default today)")
        p.add_argument("--team", metavar="T", help="one team (legal officers and admins)")
        if kind == "cases":
            p.add_argument("--limit", type=days_type, default=50, metavar="N",
                           help="at most N successful and N difficult cases (default 50)")
        p.add_argument("--format", dest="fmt", choices=("table", "csv", "md"), default="table",
                       help="table (default, with bars and sparklines), csv or md (Markdown)")
        p.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
        p.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                       help="the supervisor, legal officer or admin the report is for (default admin)")
        db_option(p)
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collectdesk.cli import CliError, PROG, _actor, _say, _session, open_engine, resolve_db

    from backend.api.errors import ProblemError
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
        with _session(engine) as session:
            user = _actor(session, args.as_user, reports_svc.REPORT_ROLES,
                          "reports are for supervisors, legal officers and admins")
            try:
                report = build(session, user, args.days, team=args.team, since=since, until=until, **extra)
            except ProblemError as exc:
                raise CliError(exc.detail or exc.title) from None
            detail = {}
            if kind == "cases":
                detail["accounts"] = sorted({c.account_id for c in report.successful + report.difficult})
            audit.record(session, user.id, "view", "report", None, report=kind, since=report.period.since.isoformat(),
                         until=report.period.until.isoformat(), team=args.team, via="cli", **detail)
            session.commit()
    finally:
        engine.dispose()
    text = FORMATTERS[kind](report, args.fmt)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _say(f"{PROG}: report written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0
