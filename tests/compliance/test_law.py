"""The compliance engine against the law's own text and worked examples (issue 13).

Each case names its source. Regulation F is 12 CFR part 1006 (the CFPB's FAQs on
it are cited as "Reg F FAQ"); Massachusetts is 940 CMR 7.04; China is the 2011
Measures for the Supervision and Administration of the Credit Card Business of
Commercial Banks (CBRC Order 2011 No. 2). Every ``until`` is checked to the minute.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend.compliance.engine import (
    FlagPeriod,
    PastContact,
    Place,
    Subject,
    counts,
    evaluate,
    next_allowed,
)
from backend.compliance.policy import applicable, default_policies, parse_policy
from backend.services.contactability import places_from

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
PHX = ZoneInfo("America/Phoenix")
SH = ZoneInfo("Asia/Shanghai")
POLICIES = default_policies()
US = applicable(POLICIES, "US", "NY")
MA = applicable(POLICIES, "US", "MA")
CN = applicable(POLICIES, "CN", None)

HOME, WORK, CELL = "+16175550101", "+16175550102", "+16175550103"
NY_PHONE = "+12125550100"


def local(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone).astimezone(UTC)


def call(at: dt.datetime, outcome: str = "NA", **kw: object) -> PastContact:
    base: dict[str, object] = {"channel": "phone", "direction": "outbound", "party": "debtor", "outcome": outcome,
                               "used": NY_PHONE}
    base.update(kw)
    return PastContact(at=at, **base)  # type: ignore[arg-type]


def rules(decision) -> set[str]:  # noqa: ANN001
    return {b.rule for b in decision.blocks}


def block(decision, rule: str):  # noqa: ANN001, ANN201
    return next(b for b in decision.blocks if b.rule == rule)


def subject(*zones: str, **kw: object) -> Subject:
    kw.setdefault("country", "US")
    kw.setdefault("phones", (NY_PHONE,))
    kw.setdefault("phone_kinds", {NY_PHONE: "mobile"})
    return Subject(zones=zones or ("America/New_York",), **kw)  # type: ignore[arg-type]


NY_ONLY = subject("America/New_York")


# --------------------------------------------------------------------------
# §1006.6(b)(1)(i): before 8 a.m. or after 9 p.m. at the consumer's location is
# inconvenient; the DST days of 2026 (Mar 8 spring forward, Nov 1 fall back).

DST_CASES = [
    (zone, day, hhmm, allowed, until)
    for zone in ("America/New_York", "America/Los_Angeles")
    for day in (dt.date(2026, 3, 8), dt.date(2026, 11, 1))
    for hhmm, allowed, until in (
        ((7, 59), False, (0, (8, 0))),
        ((8, 0), True, None),
        ((20, 59), True, None),
        ((21, 0), False, (1, (8, 0))),
    )
]


@pytest.mark.parametrize(("zone", "day", "hhmm", "allowed", "until"), DST_CASES,
                         ids=[f"{z.split('/')[1]}-{d}-{h:02d}{m:02d}" for z, d, (h, m), _a, _u in DST_CASES])
def test_call_window_on_the_dst_days(zone: str, day: dt.date, hhmm: tuple[int, int], allowed: bool,
                                     until: tuple[int, tuple[int, int]] | None) -> None:
    """12 CFR 1006.6(b)(1)(i): 08:00 and 20:59 local are lawful, 07:59 and 21:00 are not,
    on the days the clocks change; the window opens again at 08:00 local to the minute."""
    tz = ZoneInfo(zone)
    who = subject(zone)
    at = local(tz, day.year, day.month, day.day, *hhmm)
    d = evaluate(US, who, [], "phone", at)
    assert d.allowed is allowed
    if until is not None:
        days, (h, m) = until
        opens = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(h, m), tzinfo=tz).astimezone(UTC)
        assert rules(d) == {"call-window"} and block(d, "call-window").until == opens
        assert next_allowed(US, who, [], "phone", at) == opens


def test_a_phoenix_phone_keeps_arizona_time_when_new_york_springs_forward() -> None:
    """§1006.6(b)(1)(i) at the consumer's location: Arizona (America/Phoenix) keeps
    UTC−7 all year, so on 8 March 2026 08:00 there is 15:00 UTC, as the day before."""
    zones = [z for z, _s in places_from(None, [["America/Phoenix"]], [], "US")]
    assert zones == ["America/Phoenix"]
    who = subject(*zones, phones=("+16025550100",))
    for day in (7, 8, 9):
        opening = dt.datetime(2026, 3, day, 15, 0, tzinfo=UTC)
        assert evaluate(US, who, [], "phone", opening).allowed
        d = evaluate(US, who, [], "phone", opening - dt.timedelta(minutes=1))
        assert block(d, "call-window").until == opening


def test_a_new_york_phone_and_a_california_address_both_hold() -> None:
    """§1006.6(b)(1)(i) with the location uncertain: the window must hold in every
    place the account points to (SPEC §4); a state gives its own zone, not all the US."""
    places = places_from(None, [["America/New_York"]], [("US", "CA")], "US", "CA")
    assert places == [("America/Los_Angeles", ("address",)), ("America/New_York", ("phone",))]
    who = subject(*(z for z, _s in places), places=tuple(Place(z, s) for z, s in places))
    at = local(NY, 2026, 12, 2, 10, 30)  # 07:30 in Los Angeles
    d = evaluate(US, who, [], "phone", at)
    assert block(d, "call-window").until == local(NY, 2026, 12, 2, 11, 0) == local(LA, 2026, 12, 2, 8, 0)
    assert evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 11, 30)).allowed
    # 21:00 in New York ends it, though it is 18:00 in Los Angeles.
    assert not evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 21, 0)).allowed


def test_only_a_zone_the_customer_confirmed_overrides_the_rest() -> None:
    """SPEC §4: a zone on record is one place among the phones' and the address's;
    the customer's own word (timezone_source: customer) overrides them."""
    record = places_from("Asia/Shanghai", [["America/New_York"]], [("US", "NY")], "US", "NY")
    assert record == [("America/New_York", ("phone", "address")), ("Asia/Shanghai", ("record",))]
    confirmed = places_from("Asia/Shanghai", [["America/New_York"]], [("US", "NY")], "US", "NY", confirmed=True)
    assert confirmed == [("Asia/Shanghai", ("customer",))]


def test_phones_on_two_continents_share_the_evening_in_new_york() -> None:
    """New York and Shanghai windows overlap 19:00–21:00 EST (08:00–10:00 CST next day)."""
    who = subject("America/New_York", "Asia/Shanghai", phones=(NY_PHONE, "+8613812345678"))
    at = local(NY, 2026, 12, 2, 18, 59)
    d = evaluate(US, who, [], "phone", at)
    assert block(d, "call-window").until == local(NY, 2026, 12, 2, 19, 0) == local(SH, 2026, 12, 3, 8, 0)
    assert evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 20, 59)).allowed
    d = evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 21, 0))
    assert block(d, "call-window").until == local(NY, 2026, 12, 3, 19, 0)


def test_places_that_share_no_lawful_hour_say_so() -> None:
    """SPEC §4: an empty intersection means no lawful hour, said in words."""
    places = (Place("America/New_York", ("phone",)), Place("Europe/London", ("address",)),
              Place("Asia/Shanghai", ("phone",)))
    who = subject(*(p.zone for p in places), places=places)
    d = evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 12, 0))
    b = block(d, "call-window")
    assert b.until is None
    assert b.detail == "no lawful hour: New York (phone), London (address) and Shanghai (phone) share none"
    assert next_allowed(US, who, [], "phone", local(NY, 2026, 12, 2, 12, 0)) is None


# --------------------------------------------------------------------------
# §1006.14(b)(2): 7 calls in 7 consecutive days; 7 days after a conversation.

def test_the_eighth_call_in_seven_days_waits_for_the_first_to_leave() -> None:
    """§1006.14(b)(2)(i)(A): an eighth call within 7 consecutive days is presumed a
    violation; the cap lifts at local midnight of the day the first leaves the window."""
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0)) for i in range(7)]  # Nov 20 … 26
    d = evaluate(US, NY_ONLY, history, "phone", local(NY, 2026, 11, 26, 15, 0))
    assert rules(d) == {"frequency"} and block(d, "frequency").until == local(NY, 2026, 11, 27, 0, 0)
    assert next_allowed(US, NY_ONLY, history, "phone", local(NY, 2026, 11, 26, 15, 0)) == local(NY, 2026, 11, 27, 8, 0)
    [c] = [c for c in counts(US, NY_ONLY, history, "phone", local(NY, 2026, 11, 26, 15, 0)) if c.limit.days == 7]
    assert (c.counted, c.limit.max_attempts) == (7, 7)


def test_the_seventh_call_is_still_lawful() -> None:
    """§1006.14(b)(2)(i)(A) forbids *more than* seven: the seventh is fine."""
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0)) for i in range(6)]
    assert evaluate(US, NY_ONLY, history, "phone", local(NY, 2026, 11, 26, 15, 0)).allowed


@pytest.mark.parametrize(("outcome", "counted"), [("NA", True), ("VM", True), ("LM", True),
                                                  ("BSY", False), ("DISC", False)])
def test_calls_that_never_connected_are_not_counted(outcome: str, counted: bool) -> None:
    """§1006.14(b)(3)(ii): a call that does not connect to the dialed number (busy,
    disconnected) does not count; one that rang out or reached voicemail does."""
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0), outcome) for i in range(7)]
    d = evaluate(US, NY_ONLY, history, "phone", local(NY, 2026, 11, 26, 15, 0))
    assert (rules(d) == {"frequency"}) is counted
    assert d.allowed is not counted


def test_calls_to_the_consumers_attorney_are_not_counted() -> None:
    """§1006.14(b)(3)(iii): calls placed to the consumer's attorney do not count."""
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0), party="attorney", used="+12125559999") for i in range(7)]
    at = local(NY, 2026, 11, 26, 15, 0)
    assert evaluate(US, NY_ONLY, history, "phone", at).allowed
    # Nor is a call to the attorney held to the consumer's cap.
    full = [call(local(NY, 2026, 11, 20 + i, 10, 0)) for i in range(7)]
    assert evaluate(US, NY_ONLY, full, "phone", at, party="attorney", used="+12125559999").allowed


def test_calls_to_third_parties_are_limited_on_their_own() -> None:
    """§1006.14(b)(2) counts calls to the consumer; a third party on their own number is
    held to §1006.10(c): once, again only if they ask (or their answer was wrong)."""
    at = local(NY, 2026, 11, 26, 15, 0)
    neighbours = [f"+1212555020{i}" for i in range(7)]
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0), "TPC", party="third_party", used=n)
               for i, n in enumerate(neighbours)]
    assert evaluate(US, NY_ONLY, history, "phone", at).allowed  # the consumer's cap is untouched
    d = evaluate(US, NY_ONLY, history, "phone", at, party="third_party", used=neighbours[0])
    assert rules(d) == {"third-party"} and block(d, "third-party").until is None
    assert evaluate(US, NY_ONLY, history, "phone", at, party="third_party", used="+12125550299").allowed
    # The neighbour asked to be called back: one more contact is lawful.
    asked = history + [call(local(NY, 2026, 11, 26, 9, 0), "TPC", party="third_party", used=neighbours[1],
                            callback_at=local(NY, 2026, 11, 27, 10, 0))]
    assert evaluate(US, NY_ONLY, asked, "phone", at, party="third_party", used=neighbours[1]).allowed


def test_a_third_party_answering_the_consumers_phone_is_a_call_to_the_consumer() -> None:
    """§1006.14(b)(2): a call placed to the consumer's number counts whoever answers;
    it is not a third party's own contact either."""
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0), "TPC", party="third_party", used=NY_PHONE) for i in range(7)]
    at = local(NY, 2026, 11, 26, 15, 0)
    assert rules(evaluate(US, NY_ONLY, history, "phone", at)) == {"frequency"}
    assert rules(evaluate(US, NY_ONLY, history[:1], "phone", at, party="third_party", used=NY_PHONE)) == set()


def test_calls_the_consumer_made_do_not_count_but_a_conversation_starts_the_quiet_days() -> None:
    """§1006.14(b)(2) counts calls the collector places (Reg F FAQ: incoming calls do
    not count toward 7-in-7, but a conversation on one starts the 7 days); the day
    of the conversation is day 1 (§1006.14(b)(2)(i)(B))."""
    inbound = [call(local(NY, 2026, 11, 20 + i, 10, 0), direction="inbound") for i in range(7)]
    assert evaluate(US, NY_ONLY, inbound, "phone", local(NY, 2026, 11, 26, 15, 0)).allowed
    talk = [call(local(NY, 2026, 11, 24, 10, 0), "RPC", direction="inbound", result="RTP")]
    d = evaluate(US, NY_ONLY, talk, "phone", local(NY, 2026, 11, 30, 20, 59))
    assert rules(d) == {"quiet-days"} and block(d, "quiet-days").until == local(NY, 2026, 12, 1, 0, 0)
    assert evaluate(US, NY_ONLY, talk, "phone", local(NY, 2026, 12, 1, 8, 0)).allowed


def test_a_conversation_with_the_attorney_starts_no_quiet_days() -> None:
    """§1006.14(b)(2)(i)(B) is about a conversation with the person called about the debt."""
    talk = [call(local(NY, 2026, 11, 24, 10, 0), "RPC", party="attorney", result="RTP", used="+12125559999")]
    assert evaluate(US, NY_ONLY, talk, "phone", local(NY, 2026, 11, 25, 10, 0)).allowed


def test_a_call_back_asked_for_within_seven_days_is_consented() -> None:
    """§1006.14(b)(3)(i): a call placed with the consumer's consent given directly within
    the previous 7 days (day 1 the day of asking) is excluded, so the quiet days and the
    window do not stop the call back at the time the customer named (§1006.6(b)(1))."""
    asked = local(NY, 2026, 11, 24, 10, 0)  # day 1
    for day, lawful in ((30, True), (31, False)):  # Nov 30 is day 7; Dec 1 is day 8
        when = local(NY, 2026, 11, 24, 21, 30) + dt.timedelta(days=day - 24)  # 21:30: after hours, their choice
        history = [call(asked, "RPC", result="CB", callback_at=when)]
        assert evaluate(US, NY_ONLY, history, "phone", when).allowed is lawful, day
    # The consent is for that call: an hour later, or a second call, is an ordinary call.
    when = local(NY, 2026, 11, 26, 18, 0)
    history = [call(asked, "RPC", result="CB", callback_at=when)]
    assert evaluate(US, NY_ONLY, history, "phone", when).allowed
    assert rules(evaluate(US, NY_ONLY, history, "phone", when + dt.timedelta(hours=1))) == {"quiet-days"}
    history.append(call(when, "NA"))
    assert not evaluate(US, NY_ONLY, history, "phone", when + dt.timedelta(minutes=5)).allowed


def test_a_call_back_asked_for_16_days_ago_is_an_ordinary_call_again() -> None:
    """§1006.14(b)(3)(i): consent lasts 7 days; after it the call back is held to every rule."""
    asked = local(NY, 2026, 11, 1, 10, 0)
    when = local(NY, 2026, 11, 17, 21, 30)
    history = [call(asked, "RPC", result="CB", callback_at=when)]
    d = evaluate(US, NY_ONLY, history, "phone", when)
    assert rules(d) == {"call-window"} and block(d, "call-window").until == local(NY, 2026, 11, 18, 8, 0)


def test_consented_calls_do_not_count_toward_the_cap() -> None:
    """§1006.14(b)(3)(i): a consented call is not one of the seven (a policy with no
    quiet days shows it alone)."""
    cap = parse_policy({"id": "cap", "countries": ["US"], "frequency": {
        "max_attempts": 2, "days": 7, "quiet_days_after_conversation": 0}}, "cap.toml")
    asked = local(NY, 2026, 11, 24, 10, 0)
    when = local(NY, 2026, 11, 24, 15, 0)
    history = [call(asked, "RPC", result="CB", callback_at=when), call(when, "NA")]
    # The conversation counts (1 of 2), the call back does not: a second call is lawful …
    assert evaluate((cap,), NY_ONLY, history, "phone", local(NY, 2026, 11, 25, 10, 0)).allowed
    # … and a third is not.
    history.append(call(local(NY, 2026, 11, 25, 10, 0)))
    assert rules(evaluate((cap,), NY_ONLY, history, "phone", local(NY, 2026, 11, 25, 12, 0))) == {"frequency"}


# --------------------------------------------------------------------------
# Massachusetts, 940 CMR 7.04(1)(f): calls, texts and recorded messages alike;
# 2 in each 7 days to the residence, cell or personal number, 2 in each 30 days elsewhere.

MA_WHO = Subject(zones=("America/New_York",), country="US", region="MA", phones=(HOME, WORK, CELL),
                 phone_kinds={HOME: "home", WORK: "work", CELL: "mobile"})


def ma(at: dt.datetime, used: str, channel: str = "phone", outcome: str = "NA") -> PastContact:
    return PastContact(at=at, channel=channel, direction="outbound", party="debtor", outcome=outcome, used=used)


def test_massachusetts_counts_texts_and_calls_together_at_the_residence() -> None:
    """940 CMR 7.04(1)(f): a text and a call to the home make two: a third waits 7 days."""
    history = [ma(local(NY, 2026, 11, 23, 10, 0), HOME, "sms"), ma(local(NY, 2026, 11, 24, 10, 0), HOME)]
    at = local(NY, 2026, 11, 24, 15, 0)
    for channel in ("phone", "sms"):
        d = evaluate(MA, MA_WHO, history, channel, at, used=HOME)
        assert rules(d) == {"frequency"} and "us-ma" in block(d, "frequency").policy
        assert block(d, "frequency").until == local(NY, 2026, 11, 30, 0, 0)  # Nov 23 leaves the 7 days
    # The cell phone is in the same pool; the work number is not.
    assert not evaluate(MA, MA_WHO, history, "phone", at, used=CELL).allowed
    assert evaluate(MA, MA_WHO, history, "phone", at, used=WORK).allowed
    # Without a number named, the desk may still call: the work number is free.
    assert evaluate(MA, MA_WHO, history, "phone", at).allowed
    # Reg F does not count texts, so the same history under New York's rules is no cap.
    ny = Subject(zones=MA_WHO.zones, country="US", region="NY", phones=MA_WHO.phones, phone_kinds=MA_WHO.phone_kinds)
    assert evaluate(US, ny, history, "phone", at, used=HOME).allowed


def test_massachusetts_recorded_messages_count() -> None:
    """940 CMR 7.04(1)(f): 'via ... recorded audio message'."""
    history = [ma(local(NY, 2026, 11, 23, 10, 0), CELL, outcome="VM"), ma(local(NY, 2026, 11, 24, 10, 0), CELL, outcome="LM")]
    assert rules(evaluate(MA, MA_WHO, history, "phone", local(NY, 2026, 11, 24, 15, 0), used=CELL)) == {"frequency"}


def test_massachusetts_other_numbers_two_in_thirty_days() -> None:
    """940 CMR 7.04(1)(f): two communications in each 30-day period at any other number."""
    history = [ma(local(NY, 2026, 11, 2, 10, 0), WORK), ma(local(NY, 2026, 11, 20, 10, 0), WORK, "sms")]
    at = local(NY, 2026, 11, 25, 12, 0)
    d = evaluate(MA, MA_WHO, history, "phone", at, used=WORK)
    # Nov 2 leaves the 30 days (Nov 2 … Dec 1) on Dec 2.
    assert rules(d) == {"frequency"} and block(d, "frequency").until == local(NY, 2026, 12, 2, 0, 0)
    assert evaluate(MA, MA_WHO, history, "phone", at, used=HOME).allowed
    found = {(c.counted, c.limit.max_attempts, c.limit.days) for c in counts(MA, MA_WHO, history, "phone", at, used=HOME)}
    assert found == {(0, 2, 7), (0, 7, 7)}  # the Massachusetts pool and Reg F's cap: texts to work count in neither
    found = {(c.counted, c.limit.max_attempts, c.limit.days) for c in counts(MA, MA_WHO, history, "phone", at, used=WORK)}
    assert found == {(2, 2, 30), (0, 7, 7)}  # Reg F counts neither the text nor a call 23 days old


def test_massachusetts_a_number_of_unknown_kind_is_held_to_every_pool() -> None:
    who = Subject(zones=("America/New_York",), country="US", region="MA", phones=(HOME, WORK),
                  phone_kinds={HOME: "home", WORK: "work"})
    history = [ma(local(NY, 2026, 11, 23, 10, 0), "+16175550999"), ma(local(NY, 2026, 11, 24, 10, 0), "+16175550999")]
    at = local(NY, 2026, 11, 24, 15, 0)
    assert not evaluate(MA, who, history, "phone", at, used=HOME).allowed
    assert not evaluate(MA, who, history, "phone", at, used=WORK).allowed


# --------------------------------------------------------------------------
# Flags and pauses with a history: a contact is judged by what was in force then.

def test_a_cease_arriving_between_a_call_and_its_logging_is_no_breach() -> None:
    """§1006.6(c)(1): after the consumer's written refusal the collector stops; a call
    made before it arrived was lawful when made."""
    arrived = local(NY, 2026, 12, 2, 9, 0)
    who = subject("America/New_York", flag_history=(FlagPeriod("cease", arrived, None, "phone"),),
                  flags={"cease": ["phone"]})
    assert evaluate(US, who, [], "phone", local(NY, 2026, 12, 1, 15, 0)).allowed  # yesterday
    d = evaluate(US, who, [], "phone", local(NY, 2026, 12, 2, 9, 0))
    assert rules(d) == {"cease"} and block(d, "cease").until is None
    assert evaluate(US, who, [], "email", local(NY, 2026, 12, 2, 10, 0)).allowed  # the cease names the phone


@pytest.mark.parametrize("flag", ["attorney", "dispute", "complaint", "bankruptcy", "deceased"])
def test_a_flag_is_in_force_between_its_start_and_its_end(flag: str) -> None:
    start, end = local(NY, 2026, 11, 10, 12, 0), local(NY, 2026, 11, 20, 12, 0)
    who = subject("America/New_York", flag_history=(FlagPeriod(flag, start, end),))
    assert evaluate(US, who, [], "phone", start - dt.timedelta(minutes=1)).allowed
    assert not evaluate(US, who, [], "phone", start).allowed
    assert not evaluate(US, who, [], "phone", end - dt.timedelta(minutes=1)).allowed
    assert evaluate(US, who, [], "phone", end).allowed


def test_the_attorney_is_contacted_instead() -> None:
    """§1006.6(b)(2): a consumer known to be represented is contacted through the attorney."""
    who = subject("America/New_York", flags={"attorney": True})
    at = local(NY, 2026, 11, 24, 12, 0)
    assert rules(evaluate(US, who, [], "phone", at)) == {"attorney"}
    assert evaluate(US, who, [], "phone", at, party="attorney", used="+12125559999").allowed


# --------------------------------------------------------------------------
# Legal hold (SPEC §4 pauses): only legal officers act on the account.

def test_an_account_accepted_for_legal_proceedings_is_closed_to_agents() -> None:
    at = local(NY, 2026, 11, 24, 12, 0)
    who = subject("America/New_York", flag_history=(FlagPeriod("legal", local(NY, 2026, 11, 20, 9, 0)),))
    for role in ("agent", "supervisor", None):
        d = evaluate(US, who, [], "phone", at, role=role)
        assert rules(d) == {"legal"} and block(d, "legal").until is None
    assert evaluate(US, who, [], "phone", at, role="legal").allowed
    assert evaluate(US, who, [], "phone", local(NY, 2026, 11, 19, 12, 0), role="agent").allowed  # before the hold
    assert evaluate(US, who, [], "phone", at, role="agent", direction="inbound").allowed


# --------------------------------------------------------------------------
# China, 2011 Measures Art. 68: no collection from people unrelated to the debt.

CN_PHONE = "+8613812345678"
CN_WHO = Subject(zones=("Asia/Shanghai",), country="CN", phones=(CN_PHONE,), phone_kinds={CN_PHONE: "mobile"})


def test_china_a_third_party_answering_the_debtors_number_is_recordable() -> None:
    """Art. 68 forbids dialling a third party or discussing the debt with one; a third
    party who picks up the debtor's own phone is what happened (TPC, call ended)."""
    noon = local(SH, 2026, 11, 24, 12, 0)
    assert evaluate(CN, CN_WHO, [], "phone", noon, party="third_party", used=CN_PHONE).allowed
    d = evaluate(CN, CN_WHO, [], "phone", noon, party="third_party", used="+8613900000000")
    assert rules(d) == {"third-party"} and "Art. 68" in block(d, "third-party").cite
    # Not knowing which number was dialled, the stricter reading holds.
    assert rules(evaluate(CN, CN_WHO, [], "phone", noon, party="third_party")) == {"third-party"}


def test_a_call_made_at_the_instant_asked_about_counts() -> None:
    """The worklist's answer is worked out at the instant a call is logged: the seventh
    call made at that instant closes the cap, and a conversation then starts the quiet days."""
    at = local(NY, 2026, 11, 26, 15, 0)
    history = [call(local(NY, 2026, 11, 20 + i, 10, 0)) for i in range(6)] + [call(at)]
    assert rules(evaluate(US, NY_ONLY, history, "phone", at)) == {"frequency"}
    assert rules(evaluate(US, NY_ONLY, [call(at, "RPC", result="RTP")], "phone", at)) == {"quiet-days"}
