"""Worklist strategies (issue 6): priority from expected recovery, the bucket and
the work due; callable accounts always first; reasons in words; a stable split."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.strategy import BUCKETS, RankInputs, StrategyError, load_split, parse_strategy, rank, side_of

SPLIT = load_split()
STRATEGIES = [SPLIT.champion, SPLIT.challenger]


def _inputs(**overrides) -> RankInputs:  # noqa: ANN003
    base = {"dpd": 45, "bucket": "30", "overdue_minor": 50_000, "currency": "USD", "exponent": 2}
    return RankInputs(**{**base, **overrides})


inputs = st.builds(
    RankInputs,
    dpd=st.integers(-30, 400), bucket=st.sampled_from(BUCKETS), overdue_minor=st.integers(0, 10**15),
    currency=st.sampled_from(["USD", "CNY", "TWD", "XXX"]), exponent=st.sampled_from([0, 2, 3]),
    p_default=st.one_of(st.none(), st.floats(0, 1)), promise_due=st.booleans(), broken_promise=st.booleans(),
    callback_due=st.booleans(), paused=st.just(False), contactable=st.booleans(),
    hours_since_contact=st.one_of(st.none(), st.floats(0, 10_000)),
)


@given(a=inputs, b=inputs, which=st.sampled_from(STRATEGIES))
def test_callable_accounts_always_come_first(a: RankInputs, b: RankInputs, which) -> None:  # noqa: ANN001
    if a.contactable and not b.contactable:
        assert rank(which, a).value > rank(which, b).value


@given(a=inputs, which=st.sampled_from(STRATEGIES))
def test_priority_is_never_negative_and_paused_is_zero(a: RankInputs, which) -> None:  # noqa: ANN001
    assert rank(which, a).value >= 0
    paused = a._replace(paused=True)
    assert rank(which, paused).value == 0


def test_expected_recovery_orders_by_money_and_chance_of_paying() -> None:
    s = SPLIT.champion
    rich = rank(s, _inputs(overdue_minor=500_000, p_default=0.2)).value
    poor = rank(s, _inputs(overdue_minor=5_000, p_default=0.2)).value
    unlikely = rank(s, _inputs(overdue_minor=500_000, p_default=0.95)).value
    assert rich > poor and rich > unlikely
    # Amounts compare across currencies for ranking: CN¥7,000 ≈ US$980.
    yuan = rank(s, _inputs(overdue_minor=700_000, currency="CNY", p_default=0.2)).value
    dollars = rank(s, _inputs(overdue_minor=98_000, p_default=0.2)).value
    assert abs(yuan - dollars) < 0.5


def test_actions_due_raise_and_are_said_first() -> None:
    s = SPLIT.champion
    plain = rank(s, _inputs(hours_since_contact=72))
    broken = rank(s, _inputs(hours_since_contact=72, broken_promise=True))
    assert broken.value == pytest.approx(plain.value + s.broken_promise)
    assert broken.reasons[0].code == "broken_promise"
    worked = rank(s, _inputs(hours_since_contact=2))
    assert worked.value < plain.value and worked.reasons[-1].code == "worked_recently"


def test_risk_reasons_from_the_scorecard_are_shown() -> None:
    from backend.domain.priority import why

    late = why("status_now", "4 months late now", months=4)
    ranked = rank(SPLIT.champion, _inputs(p_default=0.7, risk_reasons=(late,)))
    assert late in ranked.reasons[:3]


def test_newly_rolled_accounts_rise() -> None:
    s = SPLIT.champion
    assert rank(s, _inputs(dpd=61, bucket="60")).value - rank(s, _inputs(dpd=75, bucket="60")).value == s.newly_rolled
    assert "newly_rolled" in {w.code for w in rank(s, _inputs(dpd=61, bucket="60")).reasons}


def test_the_split_is_stable_and_near_its_share() -> None:
    refs = [f"BNK{i:08d}" for i in range(20_000)]
    sides = [side_of(r, 20) for r in refs]
    assert sides == [side_of(r, 20) for r in refs]
    assert 0.18 < sides.count("challenger") / len(sides) < 0.22
    assert {side_of(r, 0) for r in refs[:500]} == {"champion"}


@pytest.mark.parametrize(("change", "message"), [
    ({"contactable_now": 100}, "contactable_now"),
    ({"bucket": {"X": 1}}, "[bucket] lacks"),
    ({"expected_recovery": "lots"}, "expected_recovery"),
])
def test_a_broken_strategy_names_the_field(change: dict, message: str) -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[2] / "config" / "strategies" / "champion.toml").read_text())
    data.update(change)
    with pytest.raises(StrategyError, match=message.replace("[", r"\[")):
        parse_strategy(data, "champion.toml")
