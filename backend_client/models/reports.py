"""Reports: strategies, and agent, team, portfolio and cases (issue 5)."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime

from backend_client.models.scalars import Money, Wire
from backend_client.vocabulary import Bucket, CaseKind

# --------------------------------------------------------------------------
# Reports


class StrategyFigures(Wire):
    strategy: str
    accounts: int
    balance: list[Money]
    attempts: int
    """Outbound contact attempts in the period."""
    right_party_contacts: int
    rpc_rate: float | None = None
    promises: int
    promised: list[Money]
    plans_kept: int
    plans_broken: int
    kept_rate: float | None = None
    collected: list[Money]
    paying_accounts: int
    paying_share: float | None = None
    """Accounts that paid anything in the period, over the strategy's accounts."""


class StrategyReport(Wire):
    """Champion against challenger (issue 6): per strategy, never per agent."""

    days: int
    since: AwareDatetime
    until: AwareDatetime
    strategies: list[StrategyFigures]


# --------------------------------------------------------------------------
# Reports: agent, team, portfolio, cases (issue 5)


class ReportPeriod(Wire):
    """The period a report covers: ``since`` ≤ t < ``until``."""

    since: AwareDatetime
    until: AwareDatetime
    days: int


class WorkFigures(Wire):
    """What was done in the period, for one agent or one team. Collection is always
    shown beside the quality figures (rates, kept plans, handle time), never alone:
    no report ranks agents by amounts recovered (2011 Measures Art. 66)."""

    accounts: int
    """Accounts assigned now."""
    attempts: int
    """Outbound contacts whose outcome counts as an attempt (NA, VM, LM, WN, TPC, RPC)."""
    contacts: int
    """Contacts that reached someone (TPC or RPC), either direction."""
    right_party_contacts: int
    """RPC, either direction."""
    rpc_rate: float | None = None
    """Outbound RPC over attempts."""
    promises: int
    """RPC with the result PTP."""
    promised: list[Money]
    plans: int
    """Plans drafted in the period."""
    plans_kept: int
    plans_broken: int
    kept_rate: float | None = None
    """Plans kept over plans kept or broken in the period (promises are plans once drafted)."""
    collected: list[Money]
    """Payments in the period on the accounts worked (assigned now)."""
    paying_accounts: int
    escalations: int | None = None
    """Escalations raised in the period; ``None`` where escalations are not recorded (yet)."""
    average_handle_s: float | None = None
    """Mean ``duration_s`` of the contacts that have one."""
    attempts_by_day: list[int] = []
    """Attempts per day of the period (24 hours each, counted back from its end),
    oldest first: the terminal draws a sparkline."""


class AgentFigures(WorkFigures):
    agent: str
    display_name: str
    team: str | None = None


class AgentReport(Wire):
    """Per agent, ordered by name, never by amount collected."""

    period: ReportPeriod
    team: str | None = None
    agents: list[AgentFigures]


class TeamFigures(WorkFigures):
    team: str
    agents: int
    """Agents in the team."""


class TeamReport(Wire):
    period: ReportPeriod
    teams: list[TeamFigures]


class BucketFigures(Wire):
    bucket: Bucket
    accounts: int
    balance: list[Money]
    share: float | None = None
    """The bucket's share of the accounts."""


class RollRow(Wire):
    """Accounts in ``bucket`` one month, and where they were the next."""

    bucket: Bucket
    accounts: int
    to: dict[str, int]
    """Next month's bucket → accounts."""
    roll_forward_rate: float | None = None
    """Share that rolled to a worse bucket."""
    cure_rate: float | None = None
    """Share that became current (delinquent buckets only)."""


class RollMatrix(Wire):
    """Month-on-month roll rates from the statement history of each account
    (``Account.history.status``: months late per statement month). There is no
    daily bucket history: the backend moves buckets only on payments."""

    from_month: str | None = None
    to_month: str | None = None
    accounts: int
    """Accounts with a statement history (the others have none to roll)."""
    rows: list[RollRow]
    roll_forward_trend: list[float | None] = []
    """The share of delinquent accounts rolling forward, per month pair, oldest first."""
    cure_trend: list[float | None] = []
    """The share of delinquent accounts curing, per month pair, oldest first."""


class PortfolioReport(Wire):
    period: ReportPeriod
    team: str | None = None
    accounts: int
    balance: list[Money]
    buckets: list[BucketFigures]
    """Every bucket, ``current`` to ``180+``, now."""
    roll: RollMatrix
    cure_rate: float | None = None
    """Statement months: delinquent the month before the latest, current in the latest."""
    delinquent_at_start: int
    """Accounts delinquent when the period began (their bucket before the first payment since)."""
    cured: int
    """Of those, the accounts that are current now."""
    period_cure_rate: float | None = None
    collected: list[Money]


class CaseContact(Wire):
    at: AwareDatetime
    agent: str
    summary: str
    """``phone outbound RPC PTP``"""
    note: str = ""


class Case(Wire):
    kind: CaseKind
    successful: bool
    at: AwareDatetime
    """When it happened (the plan's last event, the payment, the contact)."""
    what: str
    """What happened and what was done, in a line of English."""
    account_id: int
    account_ref: str
    customer_name: str
    agent: str | None = None
    team: str | None = None
    bucket: Bucket
    balance: Money
    attempts: int
    """Outbound attempts on the account in the period."""
    right_party_contacts: int
    notes: list[str] = []
    """The account's latest notes, newest first."""
    contacts: list[CaseContact] = []
    """The account's latest contacts in the period, newest first."""


class CasesReport(Wire):
    period: ReportPeriod
    team: str | None = None
    successful: list[Case]
    difficult: list[Case]


class OverviewRow(Wire):
    """One agent's book now (``agent`` None: the team's unassigned pool), or the total."""

    agent: str | None = None
    display_name: str
    team: str | None = None
    accounts: int
    """Open accounts assigned now."""
    buckets: dict[str, int] = {}
    """Bucket → accounts (only the buckets that have some)."""
    contactable_now: int
    """Accounts that may be phoned now (their answer has not lapsed)."""
    promises_due_today: int
    """Accounts with a payment of an active plan (a promise, an instalment…) due on ``day``."""
    broken_promises: int
    """Accounts whose plan broke since ``broken_since``."""


class TeamOverview(Wire):
    """``GET /api/v1/reports/overview``: the supervisor's desk: each agent's book as it is now.
    A head count per agent, not a ranking: agents are listed by name."""

    as_of: AwareDatetime
    day: dt.date
    """"Today" for promises due (the caller's date; default the UTC date)."""
    broken_since: AwareDatetime
    team: str | None = None
    agents: list[OverviewRow]
    total: OverviewRow


# --------------------------------------------------------------------------
# Reports: treatments measured (issue 20, item 5)


class TreatmentMeasure(Wire):
    """``count`` of ``of`` messages, and the rate in whole basis points (1 bp = 0.01 %,
    worked out with integers, halves up; None when ``of`` is 0). ``not_yet``: messages sent
    too recently for the measure's window to have passed by the report's ``as_of``; they are
    left out of ``of`` (not counted as failures), and judged in a later report."""

    count: int
    of: int
    rate_bp: int | None = None
    not_yet: int = 0


class TreatmentFigures(Wire):
    """One treatment step of one path (``step_id``), or a path as a whole (``step_id`` None:
    the sends of its entry steps, those no other step leads to), over the messages settled
    in the period."""

    strategy: str
    """``champion`` or ``challenger``."""
    step_id: str | None = None
    channel: str | None = None
    entry: bool = False
    """An entry step of its path (counted in the path as a whole)."""
    attempted: int
    """Messages settled: sent, failed, skipped or unknown (pending and waiting ones are not yet)."""
    sent: TreatmentMeasure
    """Of those attempted, the ones that reached the channel (status ``sent``)."""
    delivered: TreatmentMeasure
    """Of those sent: a text with the gateway's receipt ``delivered``; an e-mail or a letter
    counts as delivered once sent (no receipt comes back for them)."""
    opted_out: TreatmentMeasure
    """Of those sent 30 days or more before ``as_of``: a cease on the message's channel set
    within 30 days after it (after, never before or at the send), or an inbound reply on that
    channel with the result ``CEASE`` in that time."""
    paid_7d: TreatmentMeasure
    """Of those sent 7 days or more before ``as_of``: any payment on the account paid after
    the send and at most 7 days after it."""
    paid_30d: TreatmentMeasure
    """The same within 30 days."""
    cured_30d: TreatmentMeasure
    """Of those sent 30 days or more before ``as_of``: a payment within 30 days after the
    send that brought the account from a delinquent bucket to ``current`` (as the backend
    recorded it when the payment came: its audit entry's ``bucket_before`` and ``bucket``,
    the evidence the portfolio report's cure uses)."""


class RateDifference(Wire):
    """Challenger − champion for one measure, in basis points, with the 95 % confidence
    interval (Newcombe's hybrid Wilson score, rounded outward to whole basis points); all
    None where either side has nothing to judge."""

    measure: str
    champion_bp: int | None = None
    challenger_bp: int | None = None
    difference_bp: int | None = None
    low_bp: int | None = None
    high_bp: int | None = None


class TreatmentComparison(Wire):
    """Champion against challenger: the paths as a whole (``step_id`` None) or one step id
    both paths have."""

    step_id: str | None = None
    differences: list[RateDifference]


class TreatmentReport(Wire):
    """``GET /api/v1/reports/treatments``: what each treatment step and path did for the
    messages settled in the period, judged as of ``as_of``; per path and step, never per agent."""

    period: ReportPeriod
    as_of: AwareDatetime
    team: str | None = None
    paths: list[TreatmentFigures]
    steps: list[TreatmentFigures]
    comparisons: list[TreatmentComparison]
    confidence: str = "95 %"
    method: str = "Newcombe (1998) hybrid Wilson score interval for a difference of two proportions"
