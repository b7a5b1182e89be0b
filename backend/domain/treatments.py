"""Treatment paths (issue 20, item 1): the reminders a strategy sends by itself, e-mail,
SMS and letter, step by step, and which of them are due for an account today.

Pure: no database, no sending, no clock. A strategy file (``config/strategies/*.toml``)
holds its steps as an array of ``[[treatment]]`` tables; ``parse_treatments`` reads them
into a ``TreatmentPath`` and ``due_today`` decides, from an account's facts, the steps
already sent in this cycle and the day, what is due now.

A step's place in the file is counted from 1 in messages: ``treatment[2]`` is the file's
second ``[[treatment]]`` table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NoReturn

from backend.domain.strategy_error import StrategyError

CHANNELS = ("email", "sms", "letter")

#: ``then = "queue"``: after this step the account goes into the agents' call queue.
QUEUE = "queue"

#: The conditions a step may start on, and the least number each takes.
TRIGGERS: Mapping[str, int] = {
    "days_past_due": 0,
    "days_before_due": 1,
    "after_broken_promise_days": 0,
    "after_failed_calls": 1,
}

_KEYS = frozenset(("id", "channel", "template", "when", "then"))
_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Step:
    """One reminder: sent on ``channel`` from ``template`` once ``trigger`` reaches
    ``number`` (days or calls, as the trigger says); ``then`` is the next
    step's id, ``"queue"``, or None where the path ends."""

    id: str
    channel: str
    template: str
    trigger: str
    number: int
    then: str | None = None

    def key(self, cycle_started_on: dt.date) -> str:
        """The idempotency key of this step in a cycle (the caller adds the account)."""
        return f"{self.id}:{cycle_started_on.isoformat()}"


@dataclass(frozen=True)
class TreatmentPath:
    """A strategy's steps in the file's order. Empty where the file has none."""

    steps: tuple[Step, ...] = ()

    @cached_property
    def predecessors(self) -> Mapping[str, tuple[str, ...]]:
        """Step id → the ids of the steps whose ``then`` names it (most have one or none)."""
        found: dict[str, tuple[str, ...]] = {}
        for s in self.steps:
            if s.then is not None and s.then != QUEUE:
                found[s.then] = found.get(s.then, ()) + (s.id,)
        return found

    @property
    def entry_steps(self) -> tuple[Step, ...]:
        """The steps no other step's ``then`` names: where the path starts."""
        return tuple(s for s in self.steps if s.id not in self.predecessors)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


# --------------------------------------------------------------------------
# Reading a strategy file's steps


def _fail(message: str) -> NoReturn:
    raise StrategyError(message)


def _count(value: Any, least: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"{where}: {value!r} is not a whole number")
    if value < least:
        _fail(f"{where}: {value} must be at least {least}")
    return value


def _name(table: Mapping[str, Any], key: str, where: str) -> str:
    if key not in table:
        _fail(f"{where}.{key}: is missing")
    value = table[key]
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        _fail(f"{where}.{key}: {value!r} must be lower-case letters, digits and _")
    return value


def parse_treatments(data: Mapping[str, Any], source: str) -> TreatmentPath:
    """The ``[[treatment]]`` tables of a strategy file as a path; ``StrategyError``
    naming the file and the field (``champion.toml: treatment[2].when: ...``) for an
    unknown key or channel, a bad or repeated id or template name, a ``when`` with
    none or several conditions or a bad number, a ``then`` naming no step, or a cycle."""
    tables = data.get("treatment", [])
    if not isinstance(tables, list):
        _fail(f"{source}: treatment: must be an array of tables ([[treatment]])")
    steps: list[Step] = []
    seen: dict[str, str] = {}
    for i, table in enumerate(tables, start=1):
        where = f"{source}: treatment[{i}]"
        if not isinstance(table, Mapping):
            _fail(f"{where}: must be a table")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            _fail(f"{where}.{unknown[0]}: unknown key (a step has {', '.join(sorted(_KEYS))})")
        step_id = _name(table, "id", where)
        if step_id == QUEUE:
            _fail(f"{where}.id: {QUEUE!r} is reserved (then = {QUEUE!r} sends the account to the call queue)")
        if step_id in seen:
            _fail(f"{where}.id: {step_id!r} is already the id of {seen[step_id]}")
        seen[step_id] = f"treatment[{i}]"
        channel = table.get("channel")
        if channel not in CHANNELS:
            _fail(f"{where}.channel: {channel!r} is not one of {', '.join(CHANNELS)}")
        template = _name(table, "template", where)
        when = table.get("when")
        if not isinstance(when, Mapping):
            _fail(f"{where}.when: must be a table with one of {', '.join(TRIGGERS)}")
        if len(when) != 1:
            _fail(f"{where}.when: needs exactly one of {', '.join(TRIGGERS)}, has {len(when)}")
        ((trigger, value),) = when.items()
        if trigger not in TRIGGERS:
            _fail(f"{where}.when.{trigger}: unknown condition (one of {', '.join(TRIGGERS)})")
        number = _count(value, TRIGGERS[trigger], f"{where}.when.{trigger}")
        then = table.get("then")
        if then is not None and not isinstance(then, str):
            _fail(f"{where}.then: {then!r} must be a step's id or {QUEUE!r}")
        steps.append(Step(step_id, str(channel), template, trigger, number, then))
    for i, s in enumerate(steps, start=1):
        if s.then is not None and s.then != QUEUE and s.then not in seen:
            _fail(f"{source}: treatment[{i}].then: {s.then!r} names no step (nor {QUEUE!r})")
    following = {s.id: s.then for s in steps}
    for i, s in enumerate(steps, start=1):
        walked = [s.id]
        nxt = s.then
        while nxt is not None and nxt != QUEUE:
            if nxt == s.id:
                _fail(f"{source}: treatment[{i}].then: the path goes round in a cycle: "
                      f"{' → '.join([*walked, nxt])}")
            if nxt in walked:
                break  # a cycle that does not pass through this step: reported at its own steps
            walked.append(nxt)
            nxt = following[nxt]
    return TreatmentPath(tuple(steps))


# --------------------------------------------------------------------------
# What is due today


@dataclass(frozen=True)
class AccountFacts:
    """What the decision needs of one account, as plain values.

    ``cycle_started_on`` is the first day past due of this delinquency; an account that
    cures starts a new cycle. For an account not past due (a pre-due reminder) the cycle
    is the one its next due date would open: ``cycle_for`` works it out either way."""

    dpd: int
    next_due_on: dt.date | None
    broken_promise_on: dt.date | None
    """The latest broken promise's date, None where none was broken."""
    failed_calls: int
    """Calls that reached no one (or no one who would talk) since the cycle began."""
    cycle_started_on: dt.date


def cycle_for(dpd: int, today: dt.date, next_due_on: dt.date | None) -> dt.date | None:
    """The cycle an account is in today: past due, its first day past due (``today``
    less ``dpd - 1`` days); not past due, the day after its next due date (the first day
    past due it would have, so a pre-due reminder and the reminders after a missed payment
    share one cycle); None for a current account with no due date (nothing to remind)."""
    if dpd > 0:
        return today - dt.timedelta(days=dpd - 1)
    if next_due_on is None:
        return None
    return next_due_on + dt.timedelta(days=1)


@dataclass(frozen=True)
class DueStep:
    step: Step
    key: str
    """``f"{step.id}:{cycle_started_on}"``: the sender adds the account and never sends a key twice."""


@dataclass(frozen=True)
class Decision:
    due: tuple[DueStep, ...]
    """The steps to send today, in the file's order (usually none or one)."""
    to_queue: bool
    """A step whose ``then`` is ``"queue"`` was sent: the agents call this account."""


def holds(step: Step, facts: AccountFacts, today: dt.date) -> bool:
    """Whether a step's own ``when`` holds today (see ``due_today`` for the words)."""
    n = step.number
    if step.trigger == "days_past_due":
        return facts.dpd >= n
    if step.trigger == "days_before_due":
        if facts.dpd != 0 or facts.next_due_on is None:
            return False
        return 0 <= (facts.next_due_on - today).days <= n
    if step.trigger == "after_broken_promise_days":
        broken = facts.broken_promise_on
        return broken is not None and broken >= facts.cycle_started_on and today >= broken + dt.timedelta(days=n)
    if step.trigger == "after_failed_calls":
        return facts.failed_calls >= n
    raise ValueError(f"unknown trigger {step.trigger!r}")  # parse_treatments lets none through


def due_today(path: TreatmentPath, facts: AccountFacts, sent: Mapping[str, dt.date], today: dt.date) -> Decision:
    """The steps due today and whether the account goes to the call queue.

    ``sent`` is what this cycle has already sent: step id → the day it was sent.
    The rules, in plain words:

    - A step is never due twice in a cycle: once its id is in ``sent`` it is done,
      whatever its condition says later (a second broken promise in the same cycle
      included: the idempotency key would be the same, and the call queue, where a
      broken promise already weighs, takes it from there).
    - An entry step (one no other step's ``then`` names) is due on any day its ``when``
      holds.
    - A follow-on step is due only once a step whose ``then`` names it was sent, on a
      day before today (never the same day as its predecessor), and only on a day its
      own ``when`` holds: the SMS at 1 day past due, then the e-mail at 5 days, never
      the e-mail at 3 days, nor the e-mail at 5 days if the SMS went only that day.
    - ``days_past_due = N`` holds on every day the account is N or more days past due
      (on or after: a run missed one day sends the next day, not never).
    - ``days_before_due = N`` holds while the account is not past due (dpd 0) and its
      next due date is today or within the next N days.
    - ``after_broken_promise_days = N`` holds once a promise was broken in this cycle
      (on or after ``cycle_started_on``: a promise broken before the account cured
      belongs to the old cycle) and N days have passed since, and the step was not
      already sent after it (by the first rule, not sent in this cycle at all).
    - ``after_failed_calls = N`` holds once N calls since the cycle began failed.
    - The account goes to the call queue once a step whose ``then`` is ``"queue"`` was
      sent (on or before today).
    """
    due: list[DueStep] = []
    for step in path.steps:
        if step.id in sent or not holds(step, facts, today):
            continue
        before = path.predecessors.get(step.id)
        if before is not None and not any(p in sent and sent[p] < today for p in before):
            continue
        due.append(DueStep(step, step.key(facts.cycle_started_on)))
    to_queue = any(s.then == QUEUE and s.id in sent and sent[s.id] <= today for s in path.steps)
    return Decision(tuple(due), to_queue)
