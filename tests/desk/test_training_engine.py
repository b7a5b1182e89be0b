"""The scenario engine (issue 7, item 2): a pure state machine and its scorecard."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.training.engine import Authority, Recorded, Session, demo
from tui.training.scenario import SCENARIOS_DIR, Offer, find, load_all

ALL = [s for lang in ("en", "zh_CN") for s in load_all(lang)[0]]
T0 = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)


def ticking(step_s: int = 7):  # noqa: ANN201
    state = {"t": T0}

    def clock() -> dt.datetime:
        now = state["t"]
        state["t"] = now + dt.timedelta(seconds=step_s)
        return now

    return clock


@pytest.mark.parametrize("scenario", ALL, ids=lambda s: f"{s.language}-{s.id}")
def test_the_model_answers_score_full_marks(scenario) -> None:  # noqa: ANN001
    session = demo(scenario, clock=ticking())
    assert session.over
    card = session.finish(mode="demo")
    assert card.rules_broken == []
    assert card.steps_missed == []
    assert card.points == card.max_points
    assert card.record_matches
    assert card.seconds > 0
    assert card.transcript[0]["who"] == "customer"


def test_the_authority_limits_come_from_the_policy_file() -> None:
    data = tomllib.loads((SCENARIOS_DIR.parent / "authority.toml").read_text(encoding="utf-8"))
    assert Authority.from_toml(data) == Authority(Decimal(10), 24, 14)
    agent = Authority()
    assert agent.allows(Offer(discount_percent=Decimal(10), term_months=24, first_payment_days=14))
    assert not agent.allows(Offer(discount_percent=Decimal("10.5"), term_months=24, first_payment_days=14))
    assert not agent.allows(Offer(term_months=25))
    assert not agent.allows(Offer(first_payment_days=15))


def test_an_offer_beyond_authority_is_a_breach_and_no_offer_step() -> None:
    s = find("job_loss")
    session = Session(s)
    for index in (0, 0, 0, 0, 1):  # ... the 40 % over five years offer
        session.choose(index)
    session.choose(0)
    card = session.finish()
    assert "beyond_authority" in card.rules_broken
    assert "offer" in card.steps_missed
    assert card.plan_within_policy is False


def test_mentioning_the_debt_to_a_third_party_is_a_breach() -> None:
    s = find("third_party")
    session = Session(s)
    session.choose(0)
    answer = session.choose(1)  # "It's about a debt of $640 ..."
    assert session.over and answer
    card = session.finish(Recorded(outcome="TPC", party="third_party"))
    assert "third_party_disclosure" in card.rules_broken


def test_a_note_or_tick_that_discloses_to_a_third_party_is_a_breach() -> None:
    s = find("third_party")
    session = demo(s)
    card = session.finish(Recorded(outcome="TPC", party="third_party", note="told the flatmate about the overdue card"))
    assert card.rules_broken == ["third_party_disclosure"]
    session = demo(s)
    card = session.finish(Recorded(outcome="TPC", party="third_party", disclosure_given=True))
    assert card.rules_broken == ["third_party_disclosure"]


def test_a_call_refused_for_the_hour_is_an_unlawful_hours_breach() -> None:
    card = demo(find("cease")).finish(Recorded(outcome="RPC", result="CEASE", identity_verified=True,
                                               disclosure_given=True, refused_by="call_window"))
    assert "unlawful_hours" in card.rules_broken


def test_the_record_must_match_the_call() -> None:
    card = demo(find("dispute")).finish(Recorded(outcome="RPC", result="PTP", identity_verified=False,
                                                 disclosure_given=True, reason="merchant_dispute"))
    assert not card.record_matches
    assert card.record_problems == ["result", "identity"]


def test_a_finished_call_takes_no_more_choices() -> None:
    session = demo(find("cease"))
    with pytest.raises(ValueError, match="over"):
        session.choose(0)


@settings(max_examples=200, deadline=None)
@given(scenario=st.sampled_from(ALL), picks=st.lists(st.integers(min_value=0, max_value=10), max_size=30))
def test_any_walk_ends_in_a_consistent_scorecard(scenario, picks: list[int]) -> None:  # noqa: ANN001
    session = Session(scenario, clock=ticking())
    chosen = []
    for pick in picks:
        if session.over:
            break
        choice = session.choices[pick % len(session.choices)]
        chosen.append(choice)
        session.choose(pick % len(session.choices))
    card = session.finish()
    assert 0 <= card.points <= card.max_points
    assert sorted(card.steps_done + card.steps_missed) == sorted(scenario.steps.expected)
    for choice in chosen:
        assert set(choice.breaks) <= set(card.rules_broken)
    if card.rules_broken:
        assert card.points < card.max_points
    assert len(card.transcript) == 1 + 2 * len(chosen)
