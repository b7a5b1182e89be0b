"""Report routes (issue 5, item 5): ``GET /api/v1/reports/{agent,team,portfolio,cases}``, and
``GET /api/v1/reports/treatments`` (issue 20, item 5).

Each takes the period as ``days`` (the last N days to now, default 30) or as
``from`` and ``to`` (ISO 8601 dates or instants; a date is midnight UTC, and
``to`` names the last day included), and ``team`` (a team's name) for legal
officers and admins; a supervisor always gets their own team. An agent gets
the agent report of their own figures only; trainers, and agents asking for any
other report, are refused 403. Every report viewed is audited; the cases report
names customers, so it records the accounts it showed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import CurrentUser, SessionDep
from backend.api.errors import ProblemError, problems
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.services import audit
from backend.services import overview as overview_svc
from backend.services import reports as reports_svc
from backend_client.models import (
    AgentReport,
    CasesReport,
    Day,
    PortfolioReport,
    TeamOverview,
    TeamReport,
    TreatmentReport,
    instant_problem,
)

# Every report: a bearer token (401), a role that may see it (403), a team by that name
# (404), the period and URL checked (422), a busy database (503).
router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, tags=["reports"], responses=problems(401, 403, 404, 422, 503))

Days = Annotated[int, Query(ge=1, le=366, description="the last N days to now (default 30)")]
TeamName = Annotated[str | None, Query(max_length=32, description="one team (legal officers and admins)")]
Bound = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD (midnight UTC) or an ISO 8601 instant")]


def _instant(name: str, value: str | None, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            at = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(days=1 if end else 0)
        else:
            at = dt.datetime.fromisoformat(value)
            if at.tzinfo is None:
                raise ProblemError(422, "Invalid request", f"{name}: needs a time zone offset",
                                   errors=[(name, "needs a time zone offset")])
            at = at.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ProblemError(422, "Invalid request", f"{name}: not a date (YYYY-MM-DD) or an ISO 8601 instant",
                           errors=[(name, "not a date or an instant")]) from None
    # ``to`` names the last day included: its end may be the first instant after the range.
    if problem := instant_problem(at - dt.timedelta(microseconds=1) if end and len(value) == 10 else at):
        raise ProblemError(422, "Invalid request", f"{name}: {problem}", errors=[(name, problem)])
    return at


def _period(days: int, since: str | None, until: str | None) -> dict:
    return {"days": days, "since": _instant("from", since, False), "until": _instant("to", until, True)}


def _record(session, user, kind: str, report, team: str | None, **extra) -> None:  # noqa: ANN001, ANN003
    p = report.period
    audit.record(session, user.id, "view", "report", None, report=kind, since=p.since.isoformat(),
                 until=p.until.isoformat(), team=team, **extra)


@router.get("/reports/agent", response_model=AgentReport)
def report_agent(user: CurrentUser, session: SessionDep, days: Days = 30, team: TeamName = None,
                 since: Annotated[str | None, Query(alias="from")] = None,
                 until: Annotated[str | None, Query(alias="to")] = None) -> AgentReport:
    """Per agent, by name: attempts, contacts, right-party rate, promises and the amount
    promised, plans and their kept rate, collection beside them, escalations and
    average handle time. Never ordered by amount collected (2011 Measures Art. 66)."""
    report = reports_svc.agents(session, user, team=team, **_period(days, since, until))
    _record(session, user, "agent", report, report.team)
    return report


@router.get("/reports/team", response_model=TeamReport)
def report_team(user: CurrentUser, session: SessionDep, days: Days = 30, team: TeamName = None,
                since: Annotated[str | None, Query(alias="from")] = None,
                until: Annotated[str | None, Query(alias="to")] = None) -> TeamReport:
    """The agent report's figures per team (the account's team)."""
    report = reports_svc.teams(session, user, team=team, **_period(days, since, until))
    _record(session, user, "team", report, team)
    return report


@router.get("/reports/portfolio", response_model=PortfolioReport)
def report_portfolio(user: CurrentUser, session: SessionDep, days: Days = 30, team: TeamName = None,
                     since: Annotated[str | None, Query(alias="from")] = None,
                     until: Annotated[str | None, Query(alias="to")] = None) -> PortfolioReport:
    """Accounts and balance by bucket; roll rates and cure rate month on month from the
    statement histories; the cure in the period from the payments."""
    report = reports_svc.portfolio(session, user, team=team, **_period(days, since, until))
    _record(session, user, "portfolio", report, report.team)
    return report


@router.get("/reports/cases", response_model=CasesReport)
def report_cases(user: CurrentUser, session: SessionDep, days: Days = 30, team: TeamName = None,
                 since: Annotated[str | None, Query(alias="from")] = None,
                 until: Annotated[str | None, Query(alias="to")] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> CasesReport:
    """Successful cases (plans kept, accounts cured) and difficult ones (plans broken,
    refusals, disputes, six attempts or more without reaching the customer), newest
    first, each with its notes and contacts."""
    report = reports_svc.cases(session, user, team=team, limit=limit, **_period(days, since, until))
    accounts = sorted({c.account_id for c in report.successful + report.difficult})
    _record(session, user, "cases", report, report.team, accounts=accounts)
    return report


@router.get("/reports/treatments", response_model=TreatmentReport)
def report_treatments(user: CurrentUser, session: SessionDep, days: Days = 30, team: TeamName = None,
                      since: Annotated[str | None, Query(alias="from")] = None,
                      until: Annotated[str | None, Query(alias="to")] = None) -> TreatmentReport:
    """Treatments measured: per path (champion, challenger) and step, the messages settled in
    the period — attempted, sent, delivered, opted out within 30 days, paid within 7 and 30
    days, cured within 30 days — each windowed measure judged only once its window has passed
    (the rest ``not_yet``), rates in basis points; and challenger − champion for the paths and
    the steps both have, with Newcombe's 95 % interval. Supervisors: their team's accounts;
    legal officers and admins: all, or ``team``; agents 403."""
    report = reports_svc.treatments(session, user, team=team, **_period(days, since, until))
    _record(session, user, "treatments", report, report.team, as_of=report.as_of.isoformat())
    return report


@router.get("/reports/overview", response_model=TeamOverview)
def report_overview(user: CurrentUser, session: SessionDep, team: TeamName = None,
                    day: Annotated[Day | None, Query(description="today, as the caller's calendar says "
                                                                     "(default the UTC date)")] = None,
                    ) -> TeamOverview:
    """The supervisor's team overview, as it is now: per agent (by name) and the team's pool,
    open accounts by bucket, contactable now, accounts with a plan payment due on ``day``, and
    accounts whose plan broke in the last 7 days. A supervisor sees their own team; legal
    officers and admins every team or ``team``; agents 403."""
    found = overview_svc.overview(session, user, team=team, day=day)
    audit.record(session, user.id, "view", "report", None, report="overview", team=found.team,
                 day=found.day.isoformat())
    return found
