"""Treatment paths (issue 20, item 1): the [[treatment]] steps of a strategy file, read
and refused with the field at fault, and the decision of what is due on a day, walked
through a 90-day delinquency, a cure, a broken promise and failed calls, with hypothesis
properties. Every date is given: the tests own their clock."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.domain.strategy import StrategyError, load_split
from backend.domain.treatments import (
    CHANNELS,
    QUEUE,
    TRIGGERS,
    AccountFacts,
    TreatmentPath,
    cycle_for,
    due_today,
    parse_treatments,
)

DAY = dt.timedelta(days=1)
SPLIT = load_split()
CHAMPION = SPLIT.champion.treatments
CHALLENGER = SPLIT.challenger.treatments

# --------------------------------------------------------------------------
# Reading


def _steps() -> list[dict[str, Any]]:
    return [
        {"id": "a", "channel": "sms", "template": "t_a", "when": {"days_past_due": 1}, "then": "b"},
        {"id": "b", "channel": "email", "template": "t_b", "when": {"days_past_due": 5}, "then": "queue"},
        {"id": "c", "channel": "letter", "template": "t_c", "when": {"after_failed_calls": 2}},
    ]


def test_a_good_path_reads_in_order_with_its_entry_steps() -> None:
    path = parse_treatments({"treatment": _steps()}, "champion.toml")
    assert [s.id for s in path.steps] == ["a", "b", "c"]
    assert [s.id for s in path.entry_steps] == ["a", "c"]
    assert path.step("b").then == QUEUE and path.step("c").then is None
    assert path.predecessors == {"b": ("a",)}


def test_a_file_without_steps_has_an_empty_path() -> None:
    assert parse_treatments({}, "champion.toml") == TreatmentPath()
    assert TreatmentPath().entry_steps == ()


def _set(i: int, key: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(steps: list[dict[str, Any]]) -> None:
        steps[i][key] = value
    return change


def _drop(i: int, key: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(steps: list[dict[str, Any]]) -> None:
        del steps[i][key]
    return change


BROKEN = [
    ("unknown channel", _set(0, "channel", "fax"), "treatment[1].channel:"),
    ("channel missing", _drop(2, "channel"), "treatment[3].channel:"),
    ("bad id", _set(0, "id", "SMS-1"), "treatment[1].id:"),
    ("id missing", _drop(1, "id"), "treatment[2].id:"),
    ("id not a string", _set(0, "id", 7), "treatment[1].id:"),
    ("id is the queue", _set(2, "id", "queue"), "treatment[3].id:"),
    ("duplicate id", _set(2, "id", "a"), "treatment[3].id:"),
    ("bad template", _set(1, "template", "Reminder e-mail"), "treatment[2].template:"),
    ("then names no step", _set(2, "then", "d"), "treatment[3].then:"),
    ("then not a string", _set(2, "then", 3), "treatment[3].then:"),
    ("a cycle", _set(1, "then", "a"), "treatment[1].then:"),
    ("a step following itself", _set(2, "then", "c"), "treatment[3].then:"),
    ("no when", _drop(0, "when"), "treatment[1].when:"),
    ("when not a table", _set(0, "when", 5), "treatment[1].when:"),
    ("zero when keys", _set(0, "when", {}), "treatment[1].when:"),
    ("several when keys", _set(1, "when", {"days_past_due": 5, "after_failed_calls": 1}), "treatment[2].when:"),
    ("unknown when key", _set(0, "when", {"days_late": 1}), "treatment[1].when.days_late:"),
    ("negative days past due", _set(0, "when", {"days_past_due": -1}), "treatment[1].when.days_past_due:"),
    ("zero days before due", _set(0, "when", {"days_before_due": 0}), "treatment[1].when.days_before_due:"),
    ("negative broken promise days", _set(0, "when", {"after_broken_promise_days": -2}),
     "treatment[1].when.after_broken_promise_days:"),
    ("zero failed calls", _set(2, "when", {"after_failed_calls": 0}), "treatment[3].when.after_failed_calls:"),
    ("a fraction", _set(0, "when", {"days_past_due": 1.5}), "treatment[1].when.days_past_due:"),
    ("a string for a number", _set(0, "when", {"days_past_due": "5"}), "treatment[1].when.days_past_due:"),
    ("a boolean for a number", _set(0, "when", {"days_past_due": True}), "treatment[1].when.days_past_due:"),
    ("unknown key", _set(1, "delay", 2), "treatment[2].delay:"),
]


@pytest.mark.parametrize(("change", "field"), [(c, f) for _, c, f in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_a_broken_step_names_the_file_and_the_field(change: Callable[[list[dict[str, Any]]], None],
                                                    field: str) -> None:
    steps = _steps()
    change(steps)
    with pytest.raises(StrategyError) as caught:
        parse_treatments({"treatment": steps}, "champion.toml")
    assert str(caught.value).startswith(f"champion.toml: {field}"), str(caught.value)


@pytest.mark.parametrize("value", [{"id": "a"}, "a", [1]])
def test_treatment_must_be_an_array_of_tables(value: Any) -> None:
    with pytest.raises(StrategyError, match=r"^champion\.toml: treatment"):
        parse_treatments({"treatment": value}, "champion.toml")


def test_the_shipped_champion_and_challenger_load_and_differ() -> None:
    assert CHAMPION.steps and CHALLENGER.steps
    assert CHAMPION != CHALLENGER
    for path in (CHAMPION, CHALLENGER):
        assert {s.channel for s in path.steps} == set(CHANNELS)
        assert any(s.then == QUEUE for s in path.steps)
        assert {s.trigger for s in path.entry_steps} >= {"days_past_due", "days_before_due",
                                                         "after_broken_promise_days"}
    assert CHAMPION.entry_steps[0].channel == "sms" and CHALLENGER.entry_steps[0].channel == "email"


# --------------------------------------------------------------------------
# Deciding

DUE = dt.date(2026, 3, 15)  # the missed payment's due date; 2026-03-16 is 1 day past due


def _monthly_due(day: dt.date) -> dt.date:
    """The next 15th on or after ``day``."""
    due = day.replace(day=15)
    if due < day:
        due = (due.replace(day=1) + dt.timedelta(days=32)).replace(day=15)
    return due


def _facts(day: dt.date, paid_through: dt.date | None = None, broken: dt.date | None = None,
           failed_calls: int = 0) -> AccountFacts:
    """An account that missed the payment due on DUE, and (if paid_through) paid on that day."""
    if day <= DUE or (paid_through is not None and day >= paid_through):
        dpd = 0
        next_due = _monthly_due(day if day <= DUE else day + DAY)
    else:
        dpd = (day - DUE).days
        next_due = _monthly_due(day + DAY)
    cycle = cycle_for(dpd, day, next_due)
    assert cycle is not None
    return AccountFacts(dpd, next_due, broken, failed_calls, cycle)


def _run(path: TreatmentPath, first: dt.date, last: dt.date,
         facts: Callable[[dt.date], AccountFacts]) -> tuple[list[tuple[dt.date, str, str]], list[dt.date]]:
    """Every day from first to last: what was sent (day, step, key), keeping what a cycle
    sent, and the days the account was in the call queue."""
    sent_by_cycle: dict[dt.date, dict[str, dt.date]] = {}
    sends: list[tuple[dt.date, str, str]] = []
    queued: list[dt.date] = []
    day = first
    while day <= last:
        f = facts(day)
        sent = sent_by_cycle.setdefault(f.cycle_started_on, {})
        decision = due_today(path, f, sent, day)
        for d in decision.due:
            sent[d.step.id] = day
            sends.append((day, d.step.id, d.key))
        if decision.to_queue:
            queued.append(day)
        day += DAY
    return sends, queued


def test_a_90_day_delinquency_day_by_day() -> None:
    sends, queued = _run(CHAMPION, dt.date(2026, 3, 1), DUE + 90 * DAY, _facts)
    cycle = "2026-03-16"
    assert sends == [
        (dt.date(2026, 3, 12), "pre_due_email", f"pre_due_email:{cycle}"),  # 3 days before the 15th
        (dt.date(2026, 3, 16), "sms_1", f"sms_1:{cycle}"),  # 1 day past due
        (dt.date(2026, 3, 20), "email_5", f"email_5:{cycle}"),  # 5
        (dt.date(2026, 3, 30), "letter_15", f"letter_15:{cycle}"),  # 15
        (dt.date(2026, 5, 14), "demand_60", f"demand_60:{cycle}"),  # 60
    ]
    # Into the agents' queue once the demand letter has gone, and from then on.
    assert queued[0] == dt.date(2026, 5, 15) and queued[-1] == DUE + 90 * DAY
    assert len(queued) == (DUE + 90 * DAY - dt.date(2026, 5, 15)).days + 1


def test_the_challenger_walks_another_path() -> None:
    sends, _ = _run(CHALLENGER, dt.date(2026, 3, 1), DUE + 90 * DAY, _facts)
    assert [(d.isoformat(), s) for d, s, _ in sends] == [
        ("2026-03-13", "pre_due_sms"), ("2026-03-16", "email_1"), ("2026-03-19", "sms_4"),
        ("2026-03-25", "letter_10"), ("2026-04-29", "demand_45")]


def test_a_follow_on_waits_for_a_day_after_its_predecessor() -> None:
    # The strategy goes live on an account already 40 days past due: the SMS goes today,
    # the e-mail tomorrow, the letter the day after, not all three at once.
    facts = AccountFacts(40, None, None, 0, dt.date(2026, 2, 1))
    today = dt.date(2026, 3, 12)
    sent: dict[str, dt.date] = {}
    for _ in range(3):
        decision = due_today(CHAMPION, facts, sent, today)
        assert [d.step.id for d in decision.due] == [["sms_1"], ["email_5"], ["letter_15"]][len(sent)]
        assert due_today(CHAMPION, facts, {**sent, decision.due[0].step.id: today}, today).due == ()
        sent[decision.due[0].step.id] = today
        today += DAY


def test_a_cure_starts_a_new_cycle() -> None:
    paid = dt.date(2026, 3, 25)  # paid 10 days past due, then misses the April payment

    def facts(day: dt.date) -> AccountFacts:
        if day < dt.date(2026, 4, 16):
            return _facts(day, paid_through=paid)
        return AccountFacts((day - dt.date(2026, 4, 15)).days, dt.date(2026, 5, 15), None, 0,
                            dt.date(2026, 4, 16))

    sends, queued = _run(CHAMPION, dt.date(2026, 3, 1), dt.date(2026, 4, 30), facts)
    assert [(d.isoformat(), key) for d, _, key in sends] == [
        ("2026-03-12", "pre_due_email:2026-03-16"), ("2026-03-16", "sms_1:2026-03-16"),
        ("2026-03-20", "email_5:2026-03-16"),
        # Cured on the 25th: no letter at 15 days; the April cycle starts over.
        ("2026-04-12", "pre_due_email:2026-04-16"), ("2026-04-16", "sms_1:2026-04-16"),
        ("2026-04-20", "email_5:2026-04-16"), ("2026-04-30", "letter_15:2026-04-16")]
    assert queued == []


def test_a_broken_promise_texts_the_next_day_once() -> None:
    broken = dt.date(2026, 4, 4)
    sends, _ = _run(CHAMPION, DUE + DAY, dt.date(2026, 4, 30),
                    lambda day: _facts(day, broken=broken if day >= broken else None))
    assert [(d, s) for d, s, _ in sends if s == "broken_promise_sms"] == [(dt.date(2026, 4, 5), "broken_promise_sms")]
    # The challenger texts the same day.
    sends, _ = _run(CHALLENGER, DUE + DAY, dt.date(2026, 4, 30),
                    lambda day: _facts(day, broken=broken if day >= broken else None))
    assert [d for d, s, _ in sends if s == "broken_promise_sms"] == [broken]


def test_a_promise_broken_before_the_cycle_does_not_count() -> None:
    facts = AccountFacts(3, None, dt.date(2026, 3, 1), 0, dt.date(2026, 3, 16))
    decision = due_today(CHAMPION, facts, {"sms_1": dt.date(2026, 3, 16)}, dt.date(2026, 3, 18))
    assert decision.due == ()


def test_a_second_broken_promise_in_the_cycle_sends_nothing_new() -> None:
    facts = AccountFacts(30, None, dt.date(2026, 4, 10), 0, dt.date(2026, 3, 16))
    sent = {"sms_1": dt.date(2026, 3, 16), "email_5": dt.date(2026, 3, 20), "letter_15": dt.date(2026, 3, 30),
            "broken_promise_sms": dt.date(2026, 4, 2)}
    assert due_today(CHAMPION, facts, sent, dt.date(2026, 4, 14)).due == ()


def test_failed_calls_trigger_a_letter() -> None:
    cycle = dt.date(2026, 3, 16)
    sent = {"email_1": cycle, "sms_4": dt.date(2026, 3, 19)}
    today = dt.date(2026, 3, 22)
    for calls, expected in ((0, []), (2, []), (3, ["calls_failed_letter"]), (7, ["calls_failed_letter"])):
        decision = due_today(CHALLENGER, AccountFacts(7, None, None, calls, cycle), sent, today)
        assert [d.step.id for d in decision.due] == expected
    sent["calls_failed_letter"] = today
    assert due_today(CHALLENGER, AccountFacts(8, None, None, 9, cycle), sent, today + DAY).due == ()


def test_days_before_due_holds_only_in_its_window_and_when_not_past_due() -> None:
    cycle = DUE + DAY
    for day, dpd, expected in ((dt.date(2026, 3, 11), 0, False), (dt.date(2026, 3, 12), 0, True),
                               (DUE, 0, True), (dt.date(2026, 3, 13), 4, False)):
        decision = due_today(CHAMPION, AccountFacts(dpd, DUE, None, 0, cycle), {}, day)
        assert ("pre_due_email" in {d.step.id for d in decision.due}) is expected, day


def test_cycle_for() -> None:
    today = dt.date(2026, 4, 1)
    assert cycle_for(1, today, None) == today
    assert cycle_for(17, today, dt.date(2026, 4, 15)) == DUE + DAY
    assert cycle_for(0, today, dt.date(2026, 4, 15)) == dt.date(2026, 4, 16)
    assert cycle_for(0, today, None) is None


# --------------------------------------------------------------------------
# Properties


@st.composite
def paths(draw: st.DrawFn) -> TreatmentPath:
    """Any readable path: ``then`` names only later steps (so no cycle), the queue, or nothing."""
    n = draw(st.integers(1, 7))
    tables: list[dict[str, Any]] = []
    for i in range(n):
        trigger = draw(st.sampled_from(sorted(TRIGGERS)))
        then = draw(st.one_of(st.none(), st.just(QUEUE), *(
            [st.sampled_from([f"s{j}" for j in range(i + 1, n)])] if i + 1 < n else [])))
        table = {"id": f"s{i}", "channel": draw(st.sampled_from(CHANNELS)), "template": "t",
                 "when": {trigger: draw(st.integers(TRIGGERS[trigger], TRIGGERS[trigger] + 20))}}
        if then is not None:
            table["then"] = then
        tables.append(table)
    return parse_treatments({"treatment": tables}, "any.toml")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[dt.date, AccountFacts]]:
    """A run of days (some skipped), each with facts: dpd rising or curing, promises broken,
    calls failing; the cycle follows the dpd as ``cycle_for`` says."""
    day = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 365)))
    dpd = draw(st.integers(0, 40))
    broken: dt.date | None = None
    calls = 0
    out: list[tuple[dt.date, AccountFacts]] = []
    for _ in range(draw(st.integers(1, 60))):
        step = draw(st.integers(1, 4))
        day += dt.timedelta(days=step)
        if draw(st.integers(0, 9)) == 0:
            dpd, calls, broken = 0, 0, None  # cured
        elif dpd or draw(st.booleans()):
            dpd += step
        calls += draw(st.integers(0, 1))
        if draw(st.integers(0, 6)) == 0:
            broken = day - dt.timedelta(days=draw(st.integers(0, 3)))
        next_due = day + dt.timedelta(days=draw(st.integers(0, 10)))
        cycle = cycle_for(dpd, day, next_due)
        assert cycle is not None
        out.append((day, AccountFacts(dpd, next_due, broken, calls, cycle)))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=paths(), history=histories())
def test_no_step_twice_in_a_cycle_and_never_before_its_predecessor(
        path: TreatmentPath, history: list[tuple[dt.date, AccountFacts]]) -> None:
    sent_by_cycle: dict[dt.date, dict[str, dt.date]] = {}
    keys: set[str] = set()
    for day, facts in history:
        sent = sent_by_cycle.setdefault(facts.cycle_started_on, {})
        for d in due_today(path, facts, sent, day).due:
            assert d.step.id not in sent
            assert d.key not in keys and d.key == f"{d.step.id}:{facts.cycle_started_on.isoformat()}"
            keys.add(d.key)
            before: Mapping[str, tuple[str, ...]] = path.predecessors
            if d.step.id in before:
                assert any(sent.get(p, day) < day for p in before[d.step.id])
            sent[d.step.id] = day
    # The queue only after a step that leads to it was sent.
    for day, facts in history:
        sent = sent_by_cycle[facts.cycle_started_on]
        if due_today(path, facts, copy.copy(sent), day).to_queue:
            assert any(s.then == QUEUE and sent.get(s.id, day + DAY) <= day for s in path.steps)
