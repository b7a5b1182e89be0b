"""Compliance through the HTTP API (SPEC §4, §5): ``GET /accounts/{id}/compliance``
with ``at``, call windows across zones and daylight saving, 7-in-7, quiet days,
busy signals, inbound calls, unknown zones, cease per channel, ``409`` for a
forbidden contact now, back-dated breaches and ``GET /breaches``, the disclosure,
and contactability in the worklist's order."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from backend.models import Account, Contact
from tests.api.conftest import zone_at_local_hour

UTC = dt.UTC


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


async def _verdict(http, headers, account_id: int, at: dt.datetime | None = None, **params) -> dict:  # noqa: ANN001
    if at is not None:
        params["at"] = at.isoformat()
    response = await http.get(f"/api/v1/accounts/{account_id}/compliance", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _rules(verdict: dict) -> set[str]:
    return {b["rule"] for b in verdict["blocks"]}


async def _log(http, headers, account_id: int, **body):  # noqa: ANN001, ANN202
    body.setdefault("channel", "phone")
    body.setdefault("outcome", "NA")
    if isinstance(body.get("started_at"), dt.datetime):
        body["started_at"] = body["started_at"].isoformat()
    return await http.post(f"/api/v1/accounts/{account_id}/contacts", json=body, headers=headers)


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- call windows -------------------------------------------------------------


async def test_the_window_is_the_customers_local_time(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(timezone="America/Los_Angeles", phones=["+13105550100"])
    headers = await auth("agent1")
    early = await _verdict(http, headers, account.id, dt.datetime(2026, 7, 1, 14, 30, tzinfo=UTC))  # 07:30 PDT
    assert early["allowed"] is False and _rules(early) == {"call-window"}
    assert _utc(early["blocks"][0]["until"]) == dt.datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 PDT
    assert _utc(early["next_allowed_at"]) == dt.datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
    assert early["customer_local_time"].startswith("2026-07-01T07:30:00-07:00")
    assert (await _verdict(http, headers, account.id, dt.datetime(2026, 7, 1, 15, 0, tzinfo=UTC)))["allowed"] is True
    late = await _verdict(http, headers, account.id, dt.datetime(2026, 7, 2, 4, 0, tzinfo=UTC))  # 21:00 PDT
    assert late["allowed"] is False and _utc(late["next_allowed_at"]) == dt.datetime(2026, 7, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("at", "until"), [
    # The day before the clocks go forward in New York: 08:00 EST is 13:00 UTC.
    (dt.datetime(2027, 3, 13, 12, 59, tzinfo=UTC), dt.datetime(2027, 3, 13, 13, 0, tzinfo=UTC)),
    # The day they do (02:00 → 03:00): 08:00 EDT is 12:00 UTC.
    (dt.datetime(2027, 3, 14, 11, 59, tzinfo=UTC), dt.datetime(2027, 3, 14, 12, 0, tzinfo=UTC)),
    # The night they go back (Nov 7, 2027): 21:00 EST is 02:00 UTC, and it reopens at 08:00 EST.
    (dt.datetime(2027, 11, 8, 2, 0, tzinfo=UTC), dt.datetime(2027, 11, 8, 13, 0, tzinfo=UTC)),
])
async def test_daylight_saving_days(http, auth, make_account, at, until) -> None:  # noqa: ANN001
    account = make_account(timezone="America/New_York")
    headers = await auth("agent1")
    verdict = await _verdict(http, headers, account.id, at)
    assert verdict["allowed"] is False and _utc(verdict["next_allowed_at"]) == until
    assert (await _verdict(http, headers, account.id, until))["allowed"] is True
    assert (await _verdict(http, headers, account.id, until - dt.timedelta(minutes=1)))["allowed"] is False


async def test_an_unknown_zone_must_hold_in_every_zone_of_every_number(http, auth, make_account) -> None:  # noqa: ANN001
    # No zone on record, no address: a New York and a Los Angeles number.
    account = make_account(timezone=None, address=None, phones=["+12125550100", "+13105550100"])
    headers = await auth("agent1")
    at = dt.datetime(2026, 7, 1, 14, 30, tzinfo=UTC)  # 10:30 in New York, 07:30 in Los Angeles
    verdict = await _verdict(http, headers, account.id, at)
    assert verdict["allowed"] is False and _rules(verdict) == {"call-window"}
    assert {t["zone"] for t in verdict["customer_local_times"]} == {"America/New_York", "America/Los_Angeles"}
    assert _utc(verdict["next_allowed_at"]) == dt.datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 in LA
    # 21:00 in New York is 18:00 in LA: shut, though LA alone would be open.
    assert (await _verdict(http, headers, account.id, dt.datetime(2026, 7, 2, 1, 0, tzinfo=UTC)))["allowed"] is False


# -- frequency and quiet days -------------------------------------------------------


async def test_seven_calls_in_seven_days_and_the_eighth_is_refused(http, auth, make_account, problem) -> None:  # noqa: ANN001
    zone = zone_at_local_hour(12)
    account = make_account(timezone=zone)
    headers = await auth("agent1")
    now = _now()
    for days, outcome in enumerate(["NA", "VM", "LM", "NA", "NA", "VM"], start=1):
        r = await _log(http, headers, account.id, outcome=outcome, started_at=now - dt.timedelta(days=days))
        assert r.status_code == 201 and r.json()["breach"] is False, r.text
    assert (await _log(http, headers, account.id, outcome="NA")).status_code == 201  # the seventh, now
    verdict = await _verdict(http, headers, account.id)
    assert verdict["allowed"] is False and _rules(verdict) == {"frequency"}
    until = _utc(verdict["blocks"][0]["until"])
    assert until > now
    body = problem(await _log(http, headers, account.id, outcome="NA"), 409)
    assert body["rule"] == "frequency" and body["until"]
    # When the cap lifts, the cap no longer blocks (the window may, at midnight).
    assert "frequency" not in _rules(await _verdict(http, headers, account.id, until))
    assert "frequency" in _rules(await _verdict(http, headers, account.id, until - dt.timedelta(minutes=1)))


async def test_busy_and_disconnected_do_not_count(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(12))
    headers = await auth("agent1")
    now = _now()
    for hours in range(1, 11):
        r = await _log(http, headers, account.id, outcome="BSY" if hours % 2 else "DISC",
                       started_at=now - dt.timedelta(hours=hours * 12))
        assert r.status_code == 201, r.text
    assert (await _verdict(http, headers, account.id))["allowed"] is True


async def test_a_conversation_starts_seven_quiet_days(http, auth, make_account) -> None:  # noqa: ANN001
    zone = zone_at_local_hour(12)
    account = make_account(timezone=zone)
    headers = await auth("agent1")
    spoke = _now() - dt.timedelta(days=2)
    r = await _log(http, headers, account.id, outcome="RPC", result="RTP", started_at=spoke)
    assert r.status_code == 201, r.text
    verdict = await _verdict(http, headers, account.id)
    assert _rules(verdict) == {"quiet-days"}
    # Day 1 is the conversation's own: calls may start again at local midnight of day 8.
    local = ZoneInfo(zone)
    day8 = spoke.astimezone(local).date() + dt.timedelta(days=7)
    assert _utc(verdict["blocks"][0]["until"]) == dt.datetime.combine(day8, dt.time(0), tzinfo=local)


async def test_inbound_calls_are_never_refused_and_do_not_count_but_start_quiet_days(
        http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(3))  # 03:00 for the customer
    headers = await auth("agent1")
    r = await _log(http, headers, account.id, direction="inbound", outcome="RPC", result="CB",
                   callback_at=(_now() + dt.timedelta(days=30)).isoformat())
    assert r.status_code == 201 and r.json()["breach"] is False, r.text
    verdict = await _verdict(http, headers, account.id, _now() + dt.timedelta(hours=8))  # 11:00 local, the same day
    assert "quiet-days" in _rules(verdict) and "frequency" not in _rules(verdict)


async def test_cease_per_channel(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(12))
    admin = await auth("admin")
    version = (await http.get(f"/api/v1/accounts/{account.id}", headers=admin)).json()["version"]
    r = await http.patch(f"/api/v1/accounts/{account.id}", json={"flags": {"cease": ["phone", "sms"]}},
                         headers={**admin, "If-Match": str(version)})
    assert r.status_code == 200, r.text
    headers = await auth("agent1")
    assert _rules(await _verdict(http, headers, account.id, channel="phone")) == {"cease"}
    assert _rules(await _verdict(http, headers, account.id, channel="sms")) == {"opt-out"}
    assert (await _verdict(http, headers, account.id, channel="email"))["allowed"] is True
    assert problem(await _log(http, headers, account.id), 409)["rule"] == "cease"
    assert (await _log(http, headers, account.id, channel="email", outcome="NA")).status_code == 201
    item = next(i for i in (await http.get("/api/v1/worklist", headers=headers)).json()["items"] if i["id"] == account.id)
    assert item["contactable_now"] is False and item["next_contact_at"] is None
    assert [b["rule"] for b in item["blocks"]] == ["cease"]


# -- refused now, flagged after the fact ------------------------------------------------


async def test_a_forbidden_call_now_is_refused_409_with_the_rule_and_until(http, auth, make_account, problem, count) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(3))
    headers = await auth("agent1")
    body = problem(await _log(http, headers, account.id), 409)
    assert body["rule"] == "call-window"
    until = _utc(body["until"])
    assert _now() < until <= _now() + dt.timedelta(hours=6)  # 08:00 local, at most five hours on
    assert [b["rule"] for b in body["blocks"]] == ["call-window"]
    assert count(Contact, Contact.account_id == account.id) == 0


async def test_a_back_dated_forbidden_call_is_kept_and_listed_as_a_breach(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(3))
    headers = await auth("agent1")
    r = await _log(http, headers, account.id, started_at=_now() - dt.timedelta(hours=1), note="called at 2am")
    assert r.status_code == 201, r.text
    contact = r.json()
    assert contact["breach"] is True and contact["breach_rules"] == ["call-window"] and contact["after_the_fact"] is True
    supervisor = await auth("super1")
    page = (await http.get("/api/v1/breaches", headers=supervisor)).json()
    found = [b for b in page["items"] if b["contact"]["id"] == contact["id"]]
    assert found and found[0]["account_ref"] == account.account_ref and found[0]["team"] == "A"
    assert problem(await http.get("/api/v1/breaches", headers=headers), 403)
    # Another team's supervisor-level view is scoped: admin sees all, filtered by team.
    admin = await auth("admin")
    assert any(b["contact"]["id"] == contact["id"]
               for b in (await http.get("/api/v1/breaches", params={"team": "A"}, headers=admin)).json()["items"])
    assert not any(b["contact"]["id"] == contact["id"]
                   for b in (await http.get("/api/v1/breaches", params={"team": "B"}, headers=admin)).json()["items"])


async def test_a_promise_needs_identity_and_disclosure_first(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(12))
    headers = await auth("agent1")
    promise = {"amount": "50.00", "date": str((_now() + dt.timedelta(days=3)).date())}
    body = problem(await _log(http, headers, account.id, outcome="RPC", result="PTP", ptp=promise,
                              identity_verified=True), 409)
    assert body["rule"] == "disclosure" and "disclosure given" in body["detail"]
    r = await _log(http, headers, account.id, outcome="RPC", result="PTP", ptp=promise, identity_verified=True,
                   disclosure_given=True)
    assert r.status_code == 201, r.text
    # A refusal to pay needs neither (no plan or payment is recorded).
    other = make_account(timezone=zone_at_local_hour(12))
    assert (await _log(http, headers, other.id, outcome="RPC", result="RTP")).status_code == 201


async def test_third_parties_location_only_once_and_never_in_china(http, auth, make_account, problem) -> None:  # noqa: ANN001
    us = make_account(timezone=zone_at_local_hour(12))
    headers = await auth("agent1")
    assert (await _verdict(http, headers, us.id, party="third_party", used="+12125550199"))["allowed"] is True
    r = await _log(http, headers, us.id, outcome="TPC", party="third_party", used="+12125550199")
    assert r.status_code == 201, r.text
    verdict = await _verdict(http, headers, us.id, party="third_party", used="+12125550199")
    assert _rules(verdict) >= {"third-party"}
    cn = make_account(timezone=zone_at_local_hour(12), country="CN", region=None, phones=["+8613800138000"],
                      currency="CNY", address=None)
    verdict = await _verdict(http, headers, cn.id, party="third_party")
    assert "third-party" in _rules(verdict) and "cn-credit-card" in verdict["policies"]
    assert problem(await _log(http, headers, cn.id, outcome="TPC", party="third_party"), 409)["rule"] == "third-party"


@pytest.mark.parametrize(("params", "field"), [
    ({"at": "2026-07-01T09:00:00"}, "at"),
    ({"at": "yesterday"}, "at"),
    ({"channel": "pigeon"}, "channel"),
    ({"party": "neighbour"}, "party"),
])
async def test_bad_questions_are_422_naming_the_field(http, auth, make_account, problem, params, field) -> None:  # noqa: ANN001
    account = make_account()
    response = await http.get(f"/api/v1/accounts/{account.id}/compliance", params=params, headers=await auth("agent1"))
    assert field in problem(response, 422)["fields"]


async def test_another_teams_account_is_404(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account(team="B", agent="agent3")
    problem(await http.get(f"/api/v1/accounts/{account.id}/compliance", headers=await auth("agent1")), 404)


# -- the worklist -------------------------------------------------------------------


async def test_contactable_accounts_come_first_and_the_others_say_from_when(http, auth, make_account) -> None:  # noqa: ANN001
    night = make_account(timezone=zone_at_local_hour(3), dpd=170, overdue="1200.00", agent="agent2")
    day = make_account(timezone=zone_at_local_hour(12), dpd=5, overdue="10.00", agent="agent2")
    items = (await http.get("/api/v1/worklist", headers=await auth("agent2"))).json()["items"]
    order = [i["id"] for i in items]
    assert order.index(day.id) < order.index(night.id)
    shut = items[order.index(night.id)]
    assert shut["contactable_now"] is False and [b["rule"] for b in shut["blocks"]] == ["call-window"]
    assert _now() < _utc(shut["next_contact_at"]) <= _now() + dt.timedelta(hours=6)
    assert items[order.index(day.id)]["contactable_now"] is True


async def test_a_lapsed_answer_is_evaluated_again_before_the_page(http, auth, make_account, session) -> None:  # noqa: ANN001
    account = make_account(timezone=zone_at_local_hour(12), agent="agent2")
    # As if stored last night, when the window was shut, and due again since.
    session.execute(update(Account).where(Account.id == account.id).values(
        contactable=False, priority=1.0, recheck_at=_now() - dt.timedelta(minutes=1),
        next_contact_at=_now() - dt.timedelta(minutes=1)))
    session.commit()
    headers = await auth("agent2")
    item = next(i for i in (await http.get("/api/v1/worklist", headers=headers)).json()["items"] if i["id"] == account.id)
    assert item["contactable_now"] is True and item["priority"] >= 1000
    session.refresh(account)
    assert account.contactable is True and account.recheck_at > _now()
