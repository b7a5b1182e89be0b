"""The supervisor's team overview (issue 5, item 3): each agent's book as it is now.

Per agent (and the team's unassigned pool): open accounts, by bucket; how many
may be phoned now; how many have a plan payment due today; how many plans broke
recently. It is a head count of the work, not a league table: agents are listed
by name, and nothing here is an amount collected (2011 Measures Art. 66).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from backend.models import Account, Plan, PlanEvent, PlanItem, User, utcnow
from backend.services import ranking
from backend.services.accounts import NOT_WORKABLE
from backend.services.reports import BUCKETS, _in_team, _scope
from backend_client.models import OverviewRow, TeamOverview

BROKEN_DAYS = 7
"""Plans broken within this many days count as broken promises on the overview."""
REFRESH_ON_READ = 200
"""At most this many lapsed contactability answers are evaluated again before counting."""


def overview(session: Session, user: User, *, team: str | None = None, day: dt.date | None = None,
             now: dt.datetime | None = None, broken_days: int = BROKEN_DAYS) -> TeamOverview:
    """Supervisors see their own team, legal officers and admins every team (or ``team``);
    agents and trainers are refused 403 (by the reports' scope)."""
    team_id, team_name = _scope(session, user, team)
    now = now or utcnow()
    day = day or now.date()
    broken_since = now - dt.timedelta(days=broken_days)
    ranking.refresh_due(session, now, limit=REFRESH_ON_READ)
    # The work in each book: neither closed accounts nor those on legal hold (legal's, not the agent's).
    open_accounts = (Account.status.not_in(NOT_WORKABLE), *_in_team(Account.team_id, team_id))
    rows: dict[int | None, dict] = defaultdict(lambda: {"accounts": 0, "buckets": defaultdict(int),
                                                        "contactable": 0, "due": 0, "broken": 0})
    for agent_id, bucket, n, reachable in session.execute(
        select(Account.agent_id, Account.bucket, func.count(),
               func.sum(case((and_(Account.contactable.is_(True), Account.recheck_at > now), 1), else_=0)))
        .where(*open_accounts).group_by(Account.agent_id, Account.bucket)
    ):
        r = rows[agent_id]
        r["accounts"] += n
        r["buckets"][bucket] += n
        r["contactable"] += int(reachable or 0)
    for agent_id, n in session.execute(
        select(Account.agent_id, func.count(func.distinct(Account.id)))
        .join(Plan, Plan.account_id == Account.id).join(PlanItem, PlanItem.plan_id == Plan.id)
        .where(*open_accounts, Plan.status == "active", PlanItem.due == day, PlanItem.status == "due")
        .group_by(Account.agent_id)
    ):
        rows[agent_id]["due"] += n
    for agent_id, n in session.execute(
        select(Account.agent_id, func.count(func.distinct(Account.id)))
        .join(PlanEvent, PlanEvent.account_id == Account.id)
        .where(*open_accounts, PlanEvent.status == "broken", PlanEvent.at >= broken_since, PlanEvent.at <= now)
        .group_by(Account.agent_id)
    ):
        rows[agent_id]["broken"] += n
    # Every agent of the team is listed, with or without accounts.
    people = {u.id: u for u in session.scalars(select(User).where(
        User.active.is_(True), User.role == "agent", *_in_team(User.team_id, team_id)))}
    missing = [i for i in rows if i is not None and i not in people]
    if missing:
        people.update({u.id: u for u in session.scalars(select(User).where(User.id.in_(missing)))})
    for person_id in people:
        rows[person_id]  # noqa: B018 - an empty row for an agent with no accounts

    def row(agent_id: int | None, r: dict) -> OverviewRow:
        person = people.get(agent_id) if agent_id is not None else None
        return OverviewRow(
            agent=person.username if person else None, display_name=person.display_name if person else "",
            team=(person.team.name if person and person.team else team_name),
            accounts=r["accounts"], buckets={b: r["buckets"][b] for b in BUCKETS if r["buckets"].get(b)},
            contactable_now=r["contactable"], promises_due_today=r["due"], broken_promises=r["broken"])

    ordered = sorted((i for i in rows if i is not None),
                     key=lambda i: (people[i].display_name.casefold(), people[i].username))
    agents = [row(i, rows[i]) for i in ordered]
    if None in rows and rows[None]["accounts"]:
        agents.append(row(None, rows[None]))
    total: dict = {"accounts": 0, "buckets": defaultdict(int), "contactable": 0, "due": 0, "broken": 0}
    for r in rows.values():
        for key in ("accounts", "contactable", "due", "broken"):
            total[key] += r[key]
        for b, n in r["buckets"].items():
            total["buckets"][b] += n
    return TeamOverview(as_of=now, day=day, broken_since=broken_since, team=team_name, agents=agents,
                        total=row(None, total))

