"""The compliance engine: worked cases for every rule and hypothesis properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.compliance.engine import PastContact, Subject, evaluate, next_allowed
from backend.compliance.policy import applicable, default_policies

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
POLICIES = default_policies()
US = applicable(POLICIES, "US", "NY")
US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def local(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone).astimezone(UTC)


def call(at: dt.datetime, outcome: str = "NA", **kw: object) -> PastContact:
    base = {"channel": "phone", "direction": "outbound", "party": "debtor", "outcome": outcome}
    base.update(kw)
    return PastContact(at=at, **base)  # type: ignore[arg-type]


def rules(decision) -> set[str]:  # noqa: ANN001
    return {b.rule for b in decision.blocks}


NY_SUBJECT = Subject(zones=("America/New_York",), country="US", region="NY", phones=("+12125550100",))

# --------------------------------------------------------------------------
# Worked cases


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (12, 0, True), (20, 59, True), (21, 0, False), (23, 30, False)],
)
def test_call_window_in_the_customers_time(hour: int, minute: int, allowed: bool) -> None:
    d = evaluate(US, NY_SUBJECT, [], "phone", local(NY, 2026, 11, 24, hour, minute))
    assert d.allowed is allowed
    if not allowed:
        assert rules(d) == {"call-window"}


def test_window_until_is_next_opening() -> None:
    at = local(NY, 2026, 11, 24, 22, 15)
    assert next_allowed(US, NY_SUBJECT, [], "phone", at) == local(NY, 2026, 11, 25, 8, 0)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 8), dt.date(2026, 11, 1)])
def test_dst_days_keep_the_local_window(day: dt.date) -> None:
    opening = local(NY, day.year, day.month, day.day, 8, 0)
    assert evaluate(US, NY_SUBJECT, [], "phone", opening).allowed
    assert not evaluate(US, NY_SUBJECT, [], "phone", opening - dt.timedelta(minutes=1)).allowed
    before = local(NY, day.year, day.month, day.day, 1, 30)
    assert next_allowed(US, NY_SUBJECT, [], "phone", before) == opening


def test_unknown_zone_must_hold_in_every_zone() -> None:
    subject = Subject(zones=US_ZONES, country="US")
    # 08:30 in New York is 05:30 in Los Angeles: not yet.
    at = local(NY, 2026, 11, 24, 8, 30)
    assert not evaluate(US, subject, [], "phone", at).allowed
    assert next_allowed(US, subject, [], "phone", at) == local(ZoneInfo("America/Los_Angeles"), 2026, 11, 24, 8, 0)
    # 20:30 in New York is past nine nowhere in the west: still fine; 21:00 in New York is not.
    assert evaluate(US, subject, [], "phone", local(NY, 2026, 11, 24, 20, 30)).allowed
    assert not evaluate(US, subject, [], "phone", local(NY, 2026, 11, 24, 21, 0)).allowed


def test_zones_too_far_apart_have_no_lawful_hour() -> None:
    # Two 13-hour windows always overlap somewhere; these three never do.
    subject = Subject(zones=("America/New_York", "Asia/Shanghai", "Europe/London"), country="US")
    assert next_allowed(US, subject, [], "phone", local(NY, 2026, 11, 24, 12, 0)) is None


def test_seven_in_seven_and_the_eighth_waits() -> None:
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0)) for i in range(7)]  # Nov 20 … 26
    at = local(NY, 2026, 11, 26, 15, 0)
    d = evaluate(US, NY_SUBJECT, history, "phone", at)
    assert rules(d) == {"frequency"}
    # Nov 20 leaves the window of 7 consecutive days on Nov 27.
    assert next_allowed(US, NY_SUBJECT, history, "phone", at) == local(NY, 2026, 11, 27, 8, 0)


def test_busy_and_disconnected_do_not_count() -> None:
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0), "BSY" if i % 2 else "DISC") for i in range(7)]
    history += [call(local(NY, 2026, 11, 26, 9, 0), "NA")]
    assert evaluate(US, NY_SUBJECT, history, "phone", local(NY, 2026, 11, 26, 15, 0)).allowed


def test_voicemail_and_messages_count() -> None:
    history = [call(local(NY, 2026, 11, 26, 9 + i, 0), "VM" if i % 2 else "LM") for i in range(7)]
    assert rules(evaluate(US, NY_SUBJECT, history, "phone", local(NY, 2026, 11, 26, 17, 0))) == {"frequency"}


def test_inbound_calls_do_not_count_but_start_the_quiet_days() -> None:
    inbound = [call(local(NY, 2026, 11, 20 + i, 10, 0), "NA", direction="inbound") for i in range(7)]
    assert evaluate(US, NY_SUBJECT, inbound, "phone", local(NY, 2026, 11, 26, 15, 0)).allowed
    talk = [call(local(NY, 2026, 11, 24, 10, 0), "RPC", direction="inbound", result="RTP")]
    d = evaluate(US, NY_SUBJECT, talk, "phone", local(NY, 2026, 11, 26, 15, 0))
    assert rules(d) == {"quiet-days"}
    # The day of the conversation is day 1: Nov 24 … Nov 30 are quiet.
    assert next_allowed(US, NY_SUBJECT, talk, "phone", local(NY, 2026, 11, 26, 15, 0)) == local(NY, 2026, 12, 1, 8, 0)


def test_customer_calling_in_is_never_blocked() -> None:
    at = local(NY, 2026, 11, 24, 23, 0)
    assert evaluate(US, NY_SUBJECT, [], "phone", at, direction="inbound").allowed


def test_a_requested_call_back_is_consent_for_that_one_call() -> None:
    asked = local(NY, 2026, 11, 24, 10, 0)
    callback = local(NY, 2026, 11, 24, 21, 30)  # after hours, the customer's choice
    history = [call(asked, "RPC", result="CB", callback_at=callback)]
    assert evaluate(US, NY_SUBJECT, history, "phone", callback).allowed
    assert not evaluate(US, NY_SUBJECT, history, "phone", callback + dt.timedelta(hours=1)).allowed
    history.append(call(callback, "NA"))
    assert not evaluate(US, NY_SUBJECT, history, "phone", callback + dt.timedelta(minutes=5)).allowed


@pytest.mark.parametrize(("cease", "channel", "allowed", "rule"), [
    (["phone"], "phone", False, "cease"),
    (["phone"], "email", True, None),
    (["email"], "email", False, "opt-out"),
    (["sms"], "sms", False, "opt-out"),
    (["phone", "email", "sms", "letter", "visit"], "letter", False, "cease"),
])
def test_cease_per_channel(cease: list[str], channel: str, allowed: bool, rule: str | None) -> None:
    subject = Subject(zones=NY_SUBJECT.zones, country="US", flags={"cease": cease})
    d = evaluate(US, subject, [], channel, local(NY, 2026, 11, 24, 12, 0))
    assert d.allowed is allowed
    if rule:
        assert rule in rules(d)


def test_written_cease_allows_the_closing_notice_only() -> None:
    subject = Subject(zones=NY_SUBJECT.zones, country="US", flags={"cease": ["phone", "email", "sms", "letter", "visit"]})
    at = local(NY, 2026, 11, 24, 12, 0)
    assert evaluate(US, subject, [], "letter", at, purpose="closing_notice").allowed
    assert not evaluate(US, subject, [], "phone", at, purpose="closing_notice").allowed


@pytest.mark.parametrize("flag", ["complaint", "dispute", "bankruptcy", "deceased"])
def test_pauses_stop_all_collection_contact(flag: str) -> None:
    subject = Subject(zones=NY_SUBJECT.zones, country="US", flags={flag: True})
    for channel in ("phone", "email", "sms", "letter"):
        d = evaluate(US, subject, [], channel, local(NY, 2026, 11, 24, 12, 0))
        assert f"pause-{flag}" in rules(d)
        assert all(b.until is None for b in d.blocks)


def test_attorney_only() -> None:
    subject = Subject(zones=NY_SUBJECT.zones, country="US", flags={"attorney": True})
    at = local(NY, 2026, 11, 24, 12, 0)
    assert "attorney" in rules(evaluate(US, subject, [], "phone", at, party="debtor"))
    assert evaluate(US, subject, [], "phone", at, party="attorney").allowed


def test_do_not_call_per_number() -> None:
    subject = Subject(zones=NY_SUBJECT.zones, country="US", phones=("+12125550100", "+12125550101"),
                      do_not_call=frozenset({"+12125550100"}))
    at = local(NY, 2026, 11, 24, 12, 0)
    assert rules(evaluate(US, subject, [], "phone", at, used="+12125550100")) == {"do-not-call"}
    assert evaluate(US, subject, [], "phone", at, used="+12125550101").allowed
    assert evaluate(US, subject, [], "phone", at).allowed
    everything = Subject(zones=NY_SUBJECT.zones, country="US", phones=("+12125550100",), do_not_call=frozenset({"+12125550100"}))
    assert rules(evaluate(US, everything, [], "phone", at)) == {"do-not-call"}


def test_third_party_once_and_never_in_china() -> None:
    at = local(NY, 2026, 11, 24, 12, 0)
    neighbour = "+12125550199"
    history = [call(at - dt.timedelta(days=2), "TPC", party="third_party", used=neighbour)]
    assert "third-party" in rules(evaluate(US, NY_SUBJECT, history, "phone", at, party="third_party", used=neighbour))
    assert evaluate(US, NY_SUBJECT, history, "phone", at, party="third_party", used="+12125550198").allowed
    cn = applicable(POLICIES, "CN", None)
    sh = Subject(zones=("Asia/Shanghai",), country="CN")
    noon = local(ZoneInfo("Asia/Shanghai"), 2026, 11, 24, 12, 0)
    assert rules(evaluate(cn, sh, [], "phone", noon, party="third_party", used="+8613800000000")) == {"third-party"}


def test_massachusetts_two_in_seven() -> None:
    ma = applicable(POLICIES, "US", "MA")
    assert {p.id for p in ma} == {"default", "us-regf", "us-ma"}
    subject = Subject(zones=("America/New_York",), country="US", region="MA")
    history = [call(local(NY, 2026, 11, 23, 10, 0)), call(local(NY, 2026, 11, 24, 10, 0))]
    d = evaluate(ma, subject, history, "phone", local(NY, 2026, 11, 24, 15, 0))
    assert rules(d) == {"frequency"}
    assert "us-ma" in d.blocks[0].policy


def test_hong_kong_holidays() -> None:
    hk = applicable(POLICIES, "HK", None)
    subject = Subject(zones=("Asia/Hong_Kong",), country="HK")
    christmas = local(ZoneInfo("Asia/Hong_Kong"), 2026, 12, 25, 12, 0)
    assert rules(evaluate(hk, subject, [], "phone", christmas)) == {"call-window"}
    # 26 December is a public holiday too; the 27th is an ordinary Sunday.
    assert next_allowed(hk, subject, [], "phone", christmas) == local(ZoneInfo("Asia/Hong_Kong"), 2026, 12, 27, 8, 0)


def test_per_weekday_windows_are_expressible() -> None:
    from backend.compliance.policy import parse_policy

    policy = parse_policy({"id": "weekend", "countries": ["US"], "hours": {
        "start": "08:00", "end": "21:00", "weekdays": {"sat": ["10:00", "18:00"], "sun": []}}}, "weekend.toml")
    sat = local(NY, 2026, 11, 28, 9, 0)
    assert not evaluate((policy,), NY_SUBJECT, [], "phone", sat).allowed
    assert next_allowed((policy,), NY_SUBJECT, [], "phone", sat) == local(NY, 2026, 11, 28, 10, 0)
    sun = local(NY, 2026, 11, 29, 12, 0)
    assert next_allowed((policy,), NY_SUBJECT, [], "phone", sun) == local(NY, 2026, 11, 30, 8, 0)


@pytest.mark.parametrize(("data", "message"), [
    ({"id": "x", "hours": {"start": "8am", "end": "21:00"}}, "x.toml: hours.start: '8am' is not a time"),
    ({"id": "x", "hours": {"start": "21:00", "end": "08:00"}}, "start must be before end"),
    ({"id": "x", "frequency": {"max_attempts": "7", "days": 7}}, "frequency.max_attempts: must be int"),
    ({"id": "x", "frequency": {"max_attempts": 7, "days": 7, "counted_outcomes": ["XX"]}}, "unknown outcome 'XX'"),
    ({"id": "x", "compose": ["nope"]}, "compose: unknown policy 'nope'"),
])
def test_a_broken_policy_names_its_field(data: dict, message: str) -> None:
    from backend.compliance.policy import PolicyError, parse_policy

    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_policy(data, "x.toml")


def test_strictest_composes_every_member() -> None:
    strict = (POLICIES["strictest"],)
    subject = Subject(zones=("America/New_York",), country="US")
    at = local(NY, 2026, 11, 24, 12, 0)
    assert rules(evaluate(strict, subject, [], "phone", at, party="third_party", used="+12125550199")) == {"third-party"}


# --------------------------------------------------------------------------
# Properties

OUTCOMES = st.sampled_from(["NA", "BSY", "VM", "LM", "WN", "DISC", "TPC"])
ZONE_SETS = st.sampled_from([
    ("America/New_York",), ("America/Los_Angeles",), ("Asia/Shanghai",), ("Asia/Taipei",),
    ("America/New_York", "America/Chicago"), US_ZONES, ("Europe/London",), ("Australia/Lord_Howe",),
])
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
INSTANTS = st.integers(min_value=0, max_value=400 * 24 * 60).map(lambda m: START + dt.timedelta(minutes=m))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones=ZONE_SETS, steps=st.lists(st.tuples(st.integers(1, 600), OUTCOMES), min_size=10, max_size=80))
def test_never_an_eighth_counted_attempt_in_seven_days(zones: tuple[str, ...], steps: list[tuple[int, str]]) -> None:
    subject = Subject(zones=zones, country="US")
    history: list[PastContact] = []
    t = START
    for gap, outcome in steps:
        t += dt.timedelta(minutes=gap * 7)
        if evaluate(US, subject, history, "phone", t).allowed:
            history.append(call(t, outcome))
    counted = [c.at for c in history if c.outcome not in ("BSY", "DISC")]
    for zone_name in zones:
        zone = ZoneInfo(zone_name)
        days = sorted(c.astimezone(zone).date() for c in counted)
        for i, first in enumerate(days):
            window = [d for d in days[i:] if d <= first + dt.timedelta(days=6)]
            assert len(window) <= 7


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zones=ZONE_SETS,
    at=INSTANTS,
    past=st.lists(st.tuples(st.integers(1, 10 * 24 * 60), st.sampled_from(["NA", "VM", "RPC", "BSY"])), max_size=12),
)
def test_until_is_lawful_and_a_minute_earlier_is_not(zones: tuple[str, ...], at: dt.datetime, past: list[tuple[int, str]]) -> None:
    subject = Subject(zones=zones, country="US")
    history = [call(at - dt.timedelta(minutes=m), o, result="RTP" if o == "RPC" else None) for m, o in past]
    t = next_allowed(US, subject, history, "phone", at)
    if t is None:
        return
    assert t >= at
    assert evaluate(US, subject, history, "phone", t).allowed
    if t > at:
        assert not evaluate(US, subject, history, "phone", t - dt.timedelta(minutes=1)).allowed


@settings(max_examples=60, deadline=None)
@given(zones=ZONE_SETS, at=INSTANTS)
def test_window_answer_holds_in_every_zone(zones: tuple[str, ...], at: dt.datetime) -> None:
    subject = Subject(zones=zones, country="US")
    allowed = evaluate(US, subject, [], "phone", at).allowed
    in_hours = all(dt.time(8) <= at.astimezone(ZoneInfo(z)).time() < dt.time(21) for z in zones)
    assert allowed is in_hours
