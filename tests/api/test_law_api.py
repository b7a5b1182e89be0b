"""The law's cases through the HTTP API (issue 13): ``GET …/compliance`` answers them,
a forbidden contact now is refused ``409`` naming the rule, a back-dated forbidden
one is kept and listed at ``/breaches``, a back-dated lawful one is not.

The instants asked about are fixed where no history is needed (the DST days of
2026), and relative to the moment the test runs otherwise, in a fixed-offset zone
where that moment is a chosen local hour: the tests own their clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import zone_at_local_hour

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")


def _utc(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _verdict(http, headers, account_id: int, at: dt.datetime, **params) -> dict:  # noqa: ANN001
    params["at"] = at.isoformat()
    r = await http.get(f"/api/v1/accounts/{account_id}/compliance", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _log(http, headers, account_id: int, **body):  # noqa: ANN001, ANN202
    body.setdefault("channel", "phone")
    body.setdefault("outcome", "NA")
    for name in ("started_at", "callback_at"):
        if isinstance(body.get(name), dt.datetime):
            body[name] = body[name].isoformat()
    return await http.post(f"/api/v1/accounts/{account_id}/contacts", json=body, headers=headers)


def _rules(v: dict) -> set[str]:
    return {b["rule"] for b in v["blocks"]}


def _block(v: dict, rule: str) -> dict:
    return next(b for b in v["blocks"] if b["rule"] == rule)


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(second=0, microsecond=0)


# -- where the customer might be -------------------------------------------------

NY_ROW = {"phones": ["+12125550100"], "address": "1 Main St, New York, NY", "country": "US", "region": "NY",
          "timezone": None}
LA_ROW = {"phones": ["+13105550100"], "address": "1 Ocean Ave, Santa Monica, CA", "country": "US", "region": "CA",
          "timezone": None}


@pytest.mark.parametrize("row", [NY_ROW, LA_ROW], ids=["new-york", "los-angeles"])
@pytest.mark.parametrize("day", [dt.date(2026, 3, 8), dt.date(2026, 11, 1)])
async def test_the_window_on_the_dst_days_through_the_api(http, auth, make_account, row: dict,
                                                          day: dt.date) -> None:  # noqa: ANN001
    """12 CFR 1006.6(b)(1)(i) on 8 March and 1 November 2026, to the minute."""
    account = make_account(**row)
    tz = NY if row is NY_ROW else LA
    headers = await auth("agent1")
    at = lambda h, m: dt.datetime.combine(day, dt.time(h, m), tzinfo=tz)  # noqa: E731
    for (h, m), allowed, until in (((7, 59), False, at(8, 0)), ((8, 0), True, None), ((20, 59), True, None),
                                   ((21, 0), False, at(8, 0) + dt.timedelta(days=1))):
        v = await _verdict(http, headers, account.id, at(h, m))
        assert v["allowed"] is allowed, (h, m)
        if until is not None:
            until = dt.datetime.combine(until.date(), until.time(), tzinfo=tz)
            assert _rules(v) == {"call-window"} and _utc(_block(v, "call-window")["until"]) == until
            assert _utc(v["next_allowed_at"]) == until


async def test_a_new_york_phone_and_a_california_address(http, auth, make_account) -> None:  # noqa: ANN001
    """SPEC §4: the window holds in every place the account points to, and the verdict
    names them; lawful from 11:00 New York (08:00 Los Angeles)."""
    account = make_account(phones=["+12125550100"], address="1 Ocean Ave, Santa Monica, CA", region="CA",
                           timezone=None)
    headers = await auth("agent1")
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 10, 30, tzinfo=NY))
    assert v["allowed"] is False and _rules(v) == {"call-window"}
    assert _utc(v["next_allowed_at"]) == dt.datetime(2026, 12, 2, 8, 0, tzinfo=LA)
    assert v["next_allowed_zone"] == "America/Los_Angeles"
    assert [(p["label"], p["sources"]) for p in v["places"]] == [("Los Angeles", ["address"]), ("New York", ["phone"])]
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 11, 30, tzinfo=NY))
    assert v["allowed"] is True and {p["zone"] for p in v["places"]} == {"America/New_York", "America/Los_Angeles"}
    assert [(c["counted"], c["max"], c["days"]) for c in v["counts"]] == [(0, 7, 7)]


async def test_places_that_share_no_lawful_hour(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(phones=["+12125550100", "+8613812345678"], address="1 Strand, London", country="GB",
                           region=None, timezone=None)
    headers = await auth("agent1")
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 12, 0, tzinfo=NY))
    block = _block(v, "call-window")
    assert block["until"] is None and v["next_allowed_at"] is None
    assert block["detail"] == "no lawful hour: New York (phone), Shanghai (phone) and London (address) share none"


async def test_a_confirmed_zone_is_set_on_the_api_and_overrides(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(phones=["+12125550100"], address="1 Ocean Ave, Santa Monica, CA", region="CA",
                           timezone="America/Chicago", timezone_source="record")
    headers = await auth("agent1")
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert detail["customer"]["timezones"] == ["America/Chicago", "America/Los_Angeles", "America/New_York"]
    r = await http.patch(f"/api/v1/accounts/{account.id}", json={"timezone_source": "customer"},
                         headers={**headers, "If-Match": str(detail["version"])})
    assert r.status_code == 200, r.text
    assert r.json()["customer"]["timezones"] == ["America/Chicago"]
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 8, 0, tzinfo=ZoneInfo("America/Chicago")))
    assert v["allowed"] is True and [p["sources"] for p in v["places"]] == [["customer"]]


# -- who a call is to ---------------------------------------------------------------


async def test_attorney_and_third_party_calls_are_not_counted(http, auth, make_account) -> None:  # noqa: ANN001
    """§1006.14(b)(3)(iii) and §1006.10: seven calls to the attorney and to neighbours
    leave the consumer's 7-in-7 untouched; seven to the consumer reach it."""
    zone = zone_at_local_hour(12)
    account = make_account(timezone=zone)
    headers = await auth("agent1")
    now = _now()
    for i in range(4):
        r = await _log(http, headers, account.id, party="attorney", used="+12125559999", outcome="NA",
                       started_at=now - dt.timedelta(days=i + 1))
        assert r.status_code == 201 and not r.json()["breach"], r.text
        r = await _log(http, headers, account.id, party="third_party", used=f"+1212555020{i}", outcome="TPC",
                       started_at=now - dt.timedelta(days=i + 1, minutes=10))
        assert r.status_code == 201 and not r.json()["breach"], r.text
    v = await _verdict(http, headers, account.id, now)
    assert v["allowed"] is True and v["counts"][0]["counted"] == 0
    for i in range(7):
        r = await _log(http, headers, account.id, used="+12125550100", started_at=now - dt.timedelta(minutes=20 * (i + 2)))
        assert r.status_code == 201 and not r.json()["breach"], r.text
    v = await _verdict(http, headers, account.id, now)
    assert _rules(v) == {"frequency"} and v["counts"][0]["counted"] == 7
    # The eighth, made ten minutes ago and logged now, is kept and flagged.
    r = await _log(http, headers, account.id, used="+12125550100", started_at=now - dt.timedelta(minutes=10))
    assert r.status_code == 201 and r.json()["breach_rules"] == ["frequency"]
    # The eighth now is refused.
    r = await _log(http, headers, account.id, used="+12125550100")
    assert r.status_code == 409 and r.json()["rule"] == "frequency"


async def test_consent_within_seven_days_and_beyond(http, auth, make_account) -> None:  # noqa: ANN001
    """§1006.14(b)(3)(i): a call back asked for 3 days ago, at the time named (22:00 local,
    after hours), is lawful; one asked for 16 days ago is an ordinary call again."""
    zone = zone_at_local_hour(22)
    now = _now()
    headers = await auth("agent1")
    recent = make_account(timezone=zone)
    old = make_account(timezone=zone)
    for account, ago in ((recent, 3), (old, 16)):
        r = await _log(http, headers, account.id, direction="inbound", outcome="RPC", result="CB",
                       started_at=now - dt.timedelta(days=ago), callback_at=now, identity_verified=True,
                       disclosure_given=True)
        assert r.status_code == 201, r.text
    assert (await _verdict(http, headers, recent.id, now))["allowed"] is True
    v = await _verdict(http, headers, old.id, now)
    assert _rules(v) == {"call-window"}
    # Logged now: the call back is taken, the ordinary call refused.
    assert (await _log(http, headers, recent.id, used="+12125550100", started_at=now)).status_code == 201
    r = await _log(http, headers, old.id, used="+12125550100", started_at=now)
    assert r.status_code == 409 and r.json()["rule"] == "call-window"


# -- Massachusetts --------------------------------------------------------------------

async def test_massachusetts_texts_and_calls_per_kind_of_number(http, auth, make_account) -> None:  # noqa: ANN001
    """940 CMR 7.04(1)(f): a text and a call to the home are two in 7 days; the work
    number is its own pool (2 in 30 days)."""
    zone = zone_at_local_hour(12)
    home, work = "+16175550101", "+16175550102"
    account = make_account(phones=[home, work], phone_kinds=["home", "work"], region="MA",
                           address="1 Beacon St, Boston, MA", timezone=zone)
    headers = await auth("agent1")
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert [p["kind"] for p in detail["customer"]["phones"]] == ["home", "work"]
    now = _now()
    r = await _log(http, headers, account.id, channel="sms", used=home, started_at=now - dt.timedelta(days=2))
    assert r.status_code == 201 and not r.json()["breach"], r.text
    r = await _log(http, headers, account.id, used=home, started_at=now - dt.timedelta(days=1))
    assert r.status_code == 201 and not r.json()["breach"], r.text
    v = await _verdict(http, headers, account.id, now, used=home)
    assert _rules(v) == {"frequency"} and "us-ma" in _block(v, "frequency")["policy"]
    first_day = (now - dt.timedelta(days=2)).astimezone(ZoneInfo(zone)).date()
    assert _utc(_block(v, "frequency")["until"]) == dt.datetime.combine(
        first_day + dt.timedelta(days=7), dt.time(0), tzinfo=ZoneInfo(zone))
    assert any((c["counted"], c["max"], c["days"], c["kinds"]) == (2, 2, 7, ["home", "mobile"]) for c in v["counts"])
    assert (await _verdict(http, headers, account.id, now, used=work))["allowed"] is True
    assert (await _verdict(http, headers, account.id, now))["allowed"] is True  # some number may be called
    r = await _log(http, headers, account.id, channel="sms", used=home)
    assert r.status_code == 409 and r.json()["rule"] == "frequency"


# -- flags with a history ---------------------------------------------------------------

async def test_a_cease_between_a_call_and_its_logging(http, auth, make_account) -> None:  # noqa: ANN001
    """A call made before the cease arrived, logged after, is no breach; one made after is,
    and only that one is listed at /breaches. The timeline and the audit show the change."""
    zone = zone_at_local_hour(12)
    account = make_account(timezone=zone)
    headers = await auth("agent1")
    now = _now()
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    r = await http.patch(f"/api/v1/accounts/{account.id}",
                         json={"flags": {"cease": ["phone"]}, "flags_effective_at": (now - dt.timedelta(hours=2)).isoformat()},
                         headers={**headers, "If-Match": str(detail["version"])})
    assert r.status_code == 200, r.text
    before = await _log(http, headers, account.id, started_at=now - dt.timedelta(hours=3))
    assert before.status_code == 201 and before.json()["breach"] is False, before.text
    after = await _log(http, headers, account.id, started_at=now - dt.timedelta(hours=1))
    assert after.status_code == 201 and after.json()["breach_rules"] == ["cease"], after.text
    refused = await _log(http, headers, account.id)
    assert refused.status_code == 409 and refused.json()["rule"] == "cease"
    assert (await _verdict(http, headers, account.id, now - dt.timedelta(hours=3)))["allowed"] is True
    assert _rules(await _verdict(http, headers, account.id, now)) == {"cease"}
    sup = await auth("super1")
    listed = [b["contact"]["id"] for b in (await http.get("/api/v1/breaches", headers=sup)).json()["items"]]
    assert after.json()["id"] in listed and before.json()["id"] not in listed
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers)).json()["items"]
    [flag] = [e for e in timeline if e["kind"] == "flag"]
    assert flag["actor"] == "agent1" and flag["data"]["flag"] == "cease" and flag["data"]["channel"] == "phone"
    assert flag["data"]["change"] == "set" and _utc(flag["at"]) == now - dt.timedelta(hours=2)
    # Lifted: from then on the phone is open again, and the history keeps both.
    version = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()["version"]
    r = await http.patch(f"/api/v1/accounts/{account.id}",
                         json={"flags": {"cease": []}, "flags_note": "the customer asked to be called again"},
                         headers={**sup, "If-Match": str(version)})
    assert r.status_code == 200, r.text
    assert (await _verdict(http, headers, account.id, _now() + dt.timedelta(minutes=1)))["allowed"] is True
    assert _rules(await _verdict(http, headers, account.id, now)) == {"cease"}
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers)).json()["items"]
    assert [(e["data"]["change"], e["actor"]) for e in timeline if e["kind"] == "flag"] == [("lifted", "super1"),
                                                                                            ("set", "agent1")]


async def test_a_flag_cannot_take_effect_in_the_future(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    r = await http.patch(f"/api/v1/accounts/{account.id}",
                         json={"flags": {"dispute": True}, "flags_effective_at": (_now() + dt.timedelta(hours=1)).isoformat()},
                         headers={**headers, "If-Match": "1"})
    assert "flags_effective_at" in problem(r, 422)["fields"]


# -- legal hold -------------------------------------------------------------------------

async def test_a_legal_account_refuses_agents_and_takes_legal_officers(http, auth, make_account, session) -> None:  # noqa: ANN001
    from backend.services.flags import set_legal_hold

    zone = zone_at_local_hour(12)
    account = make_account(timezone=zone)
    set_legal_hold(session, account, True, None)
    account.status = "legal"
    session.commit()
    agent = await auth("agent1")
    r = await _log(http, agent, account.id, used="+12125550100")
    assert r.status_code == 409 and r.json()["rule"] == "legal"
    later = _now() + dt.timedelta(minutes=1)
    assert _rules(await _verdict(http, agent, account.id, later)) == {"legal"}
    legal = await auth("legal1")
    assert (await _verdict(http, legal, account.id, later))["allowed"] is True
    r = await _log(http, legal, account.id, used="+12125550100")
    assert r.status_code == 201 and not r.json()["breach"], r.text


# -- China: a third party on the debtor's own phone -------------------------------------------

async def test_china_a_third_party_on_the_debtors_phone_is_recorded(http, auth, make_account) -> None:  # noqa: ANN001
    """2011 Measures Art. 68: dialling a third party is refused; one who answers the
    debtor's own number is recorded (TPC, nothing disclosed)."""
    zone = zone_at_local_hour(12)
    account = make_account(currency="CNY", country="CN", region=None, timezone=zone, phones=["+8613812345678"],
                           address="上海市浦东新区世纪大道100号")
    headers = await auth("agent1")
    r = await _log(http, headers, account.id, party="third_party", outcome="TPC", used="+8613812345678")
    assert r.status_code == 201 and not r.json()["breach"], r.text
    r = await _log(http, headers, account.id, party="third_party", outcome="TPC", used="+8613900000000")
    assert r.status_code == 409 and r.json()["rule"] == "third-party"


async def test_a_phoenix_phone_keeps_arizona_time_through_the_api(http, auth, make_account) -> None:  # noqa: ANN001
    """12 CFR 1006.6(b)(1)(i) at the consumer's location: a Phoenix number keeps UTC−7
    when New York springs forward (8 March 2026): 08:00 there is 15:00 UTC either side."""
    account = make_account(phones=["+16025550100"], address="", region=None, timezone=None)
    headers = await auth("agent1")
    for day in (7, 8, 9):
        opening = dt.datetime(2026, 3, day, 15, 0, tzinfo=UTC)
        v = await _verdict(http, headers, account.id, opening - dt.timedelta(minutes=1))
        assert _rules(v) == {"call-window"} and _utc(v["next_allowed_at"]) == opening
        assert [p["zone"] for p in v["places"]] == ["America/Phoenix"]
        assert (await _verdict(http, headers, account.id, opening))["allowed"] is True


async def test_phones_on_two_continents_through_the_api(http, auth, make_account) -> None:  # noqa: ANN001
    """The window holds in New York and Shanghai at once: 19:00–21:00 in New York in winter."""
    account = make_account(phones=["+12125550100", "+8613812345678"], address="", region=None, timezone=None)
    headers = await auth("agent1")
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 18, 59, tzinfo=NY))
    assert _rules(v) == {"call-window"}
    assert _utc(v["next_allowed_at"]) == dt.datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert v["next_allowed_zone"] == "Asia/Shanghai"
    assert (await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 20, 59, tzinfo=NY)))["allowed"] is True
    v = await _verdict(http, headers, account.id, dt.datetime(2026, 12, 2, 21, 0, tzinfo=NY))
    assert _utc(v["next_allowed_at"]) == dt.datetime(2026, 12, 3, 19, 0, tzinfo=NY)
