"""The scenario engine (issue 7, item 2): a pure state machine over a scenario's
dialogue, and the scorecard at its end.

``Session(scenario)`` starts at the scenario's first node. ``choose(i)`` plays
the agent's choice ``i``: its steps are done, the rules it breaks are broken,
its plan offer is checked against the agent's authority, and the customer's
next line is returned. ``finish(record)`` takes what the agent recorded on the
call form and returns the ``Scorecard``. No I/O; the clock is injected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from tui.training.scenario import Choice, Node, Offer, Scenario

DEBT_WORDS = ("debt", "owe", "overdue", "arrears", "collect", "balance", "payment", "credit card",
              "欠款", "欠", "逾期", "催收", "还款", "信用卡")
"""Words that tell a third party what the call is about."""


@dataclass(frozen=True)
class Authority:
    """An agent's limits (config/authority.toml, ``[roles.agent]``)."""
    max_discount_percent: Decimal = Decimal(10)
    max_term_months: int = 24
    max_first_payment_days: int = 14

    def allows(self, offer: Offer) -> bool:
        return (offer.discount_percent <= self.max_discount_percent and offer.term_months <= self.max_term_months
                and offer.first_payment_days <= self.max_first_payment_days)

    @classmethod
    def from_toml(cls, data: dict[str, Any], role: str = "agent") -> Authority:
        limits = data.get("roles", {}).get(role, {})
        return cls(Decimal(str(limits.get("max_discount_percent", cls.max_discount_percent))),
                   int(limits.get("max_term_months", cls.max_term_months)),
                   int(limits.get("max_first_payment_days", cls.max_first_payment_days)))


@dataclass(frozen=True)
class Recorded:
    """What the agent recorded on the call form."""
    outcome: str | None = None
    result: str | None = None
    reason: str | None = None
    party: str = "debtor"
    identity_verified: bool = False
    disclosure_given: bool = False
    note: str = ""
    offer: Offer | None = None
    refused_by: str | None = None
    """The backend's compliance rule that refused the contact, if it did."""


def mentions_debt(text: str) -> bool:
    lower = text.lower()
    return any(word in lower for word in DEBT_WORDS)


@dataclass
class Scorecard:
    scenario: str
    title: str
    trainee: str
    mode: str
    points: int
    max_points: int
    steps_done: list[str]
    steps_missed: list[str]
    rules_broken: list[str]
    seconds: int
    plan_within_policy: bool | None
    record_matches: bool
    record_problems: list[str] = field(default_factory=list)
    """Fields recorded otherwise than the call went: outcome, result, reason, party,
    identity, disclosure; ``refused`` when the backend refused the contact."""
    refused_by: str | None = None
    transcript: list[dict[str, str]] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""
    launched_by: str = ""
    """Who was signed in at the desk (a trainer's desk, for a trainee's practice)."""
    practised_at: str = ""
    """When it was practised, on the wall clock (the call's own times are the sandbox's)."""

    @property
    def passed(self) -> bool:
        return not self.rules_broken and not self.steps_missed

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Session:
    """One run through a scenario's dialogue."""

    def __init__(self, scenario: Scenario, *, authority: Authority | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.scenario = scenario
        self.authority = authority or Authority()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.started_at = self.clock()
        self.node_id = scenario.start
        self.steps: list[str] = []
        self.broken: list[str] = []
        self.offers: list[Offer] = []
        self.transcript: list[dict[str, str]] = [{"who": "customer", "text": self.node.customer}]
        self.scorecard: Scorecard | None = None

    @property
    def node(self) -> Node:
        return self.scenario.nodes[self.node_id]

    @property
    def choices(self) -> tuple[Choice, ...]:
        return () if self.over else self.node.choices

    @property
    def over(self) -> bool:
        return self.node.end or not self.node.choices

    def _do(self, step: str) -> None:
        if step not in self.steps:
            self.steps.append(step)

    def _break(self, act: str) -> None:
        if act not in self.broken:
            self.broken.append(act)

    def choose(self, index: int) -> str:
        """Play the agent's choice ``index``; returns the customer's answer."""
        if self.over:
            raise ValueError("the call is over")
        if not 0 <= index < len(self.node.choices):
            raise IndexError(f"no choice {index + 1} at {self.node_id}")
        choice = self.node.choices[index]
        self.transcript.append({"who": "agent", "text": choice.say})
        for act in choice.breaks:
            self._break(act)
        if self.scenario.persona.answers == "third_party" and mentions_debt(choice.say):
            self._break("third_party_disclosure")
        for step in choice.does:
            if step == "offer":
                continue  # counted below, when the offer is within authority
            self._do(step)
        if choice.offer is not None:
            self.offers.append(choice.offer)
            if self.authority.allows(choice.offer):
                self._do("offer")
            else:
                self._break("beyond_authority")
        elif "offer" in choice.does:
            self._do("offer")
        self.node_id = choice.next
        self.transcript.append({"who": "customer", "text": self.node.customer})
        return self.node.customer

    def finish(self, record: Recorded | None = None, *, trainee: str = "", mode: str = "practice") -> Scorecard:
        """The scorecard, judged on the dialogue and what was recorded (``None``: as the scenario expects)."""
        s = self.scenario
        expected = s.record
        if record is None:
            record = Recorded(outcome=expected.outcome, result=expected.result, reason=expected.reason,
                              party=expected.party, identity_verified="identity" in self.steps,
                              disclosure_given="disclosure" in self.steps)
        problems: list[str] = []
        if record.outcome != expected.outcome:
            problems.append("outcome")
        if expected.result and record.result != expected.result:
            problems.append("result")
        if expected.reason and record.reason != expected.reason:
            problems.append("reason")
        if record.party != expected.party:
            problems.append("party")
        third_party = record.party == "third_party" or s.persona.answers == "third_party"
        if third_party and (record.disclosure_given or mentions_debt(record.note)):
            self._break("third_party_disclosure")
        if record.refused_by in ("call-window", "call_window"):
            self._break("unlawful_hours")
        elif record.refused_by:
            problems.append("refused")
        if record.offer is not None:
            self.offers.append(record.offer)
            if not self.authority.allows(record.offer):
                self._break("beyond_authority")
        # A step said but not recorded is half done: the ticks must match the call.
        done = list(self.steps)
        if "identity" in done and not record.identity_verified and not third_party:
            problems.append("identity")
        if "disclosure" in done and not record.disclosure_given and not third_party:
            problems.append("disclosure")
        expected_steps = list(s.steps.expected)
        points = sum(s.rubric.points.get(step, 0) for step in done if step in expected_steps)
        record_ok = not problems
        if record_ok:
            points += s.rubric.points.get("record", 0)
        points -= sum(s.rubric.penalties.get(act, 0) for act in self.broken)
        finished = self.clock()
        plan_ok = None if not self.offers else all(self.authority.allows(o) for o in self.offers)
        self.scorecard = Scorecard(
            scenario=s.id, title=s.title, trainee=trainee, mode=mode, points=max(points, 0), max_points=s.max_points,
            steps_done=[step for step in expected_steps if step in done],
            steps_missed=[step for step in expected_steps if step not in done],
            rules_broken=list(self.broken), seconds=max(0, int((finished - self.started_at).total_seconds())),
            plan_within_policy=plan_ok, record_matches=record_ok, record_problems=problems, refused_by=record.refused_by,
            transcript=list(self.transcript), started_at=self.started_at.isoformat(),
            finished_at=finished.isoformat())
        return self.scorecard


def demo(scenario: Scenario, **kwargs: Any) -> Session:
    """A session played along the scenario's model answers, to its end."""
    session = Session(scenario, **kwargs)
    for index in scenario.best_path():
        session.choose(index)
    return session
