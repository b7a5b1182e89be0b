"""A promise to pay on a call is a tracked promise (issue 14): RPC + PTP makes a
``promise`` plan in the contact's transaction; payments and the sweep keep or
break it like any plan; a broken one raises the account with its amount and date;
one promise is open per account; a replayed request makes no second one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from backend.models import Contact, Plan, PlanEvent
from backend.services import plans as plans_svc

TODAY = dt.date(2026, 3, 11)
NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
RPC = {"channel": "phone", "outcome": "RPC", "identity_verified": True, "disclosure_given": True}


def _ptp(amount: str, date: dt.date, **more) -> dict:  # noqa: ANN003
    return {**RPC, "result": "PTP", "ptp": {"amount": amount, "date": date.isoformat()}, **more}


async def _signed_in(http, user: str) -> dict:  # noqa: ANN001
    """Headers of a fresh sign-in: after the clock moves days on, the morning's session has lapsed."""
    r = await http.post("/api/v1/auth/login", json={"username": user, "password": user})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _call(http, headers, account_id: int, body: dict, key: str | None = None):  # noqa: ANN001, ANN202
    extra = {"Idempotency-Key": key} if key else {}
    r = await http.post(f"/api/v1/accounts/{account_id}/contacts", json=body, headers={**headers, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _plans(session, account_id: int) -> list[Plan]:  # noqa: ANN001
    session.expire_all()
    return list(session.scalars(select(Plan).where(Plan.account_id == account_id).order_by(Plan.id)))


async def test_a_ptp_on_a_call_is_one_tracked_promise_kept_by_a_payment(http, auth, make_account, clock,
                                                                       session) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00")
    agent = await auth("agent1")
    contact = await _call(http, agent, account.id, _ptp("200.00", TODAY + dt.timedelta(days=3)))
    [plan] = _plans(session, account.id)
    assert (plan.kind, plan.status, plan.total_minor, plan.contact_id) == ("promise", "active", 20000, contact["id"])
    assert [(i.due, i.amount_minor, i.status) for i in plan.items] == [(TODAY + dt.timedelta(days=3), 20000, "due")]
    assert contact["promise"] == {"plan_id": plan.id, "status": "active",
                                  "amount": {"amount_minor": 20000, "currency": "USD"},
                                  "due": (TODAY + dt.timedelta(days=3)).isoformat()}
    assert contact["promise_note"] == ""
    # The plan names its call; the timeline shows it beside the contact.
    got = (await http.get(f"/api/v1/plans/{plan.id}", headers=agent)).json()
    assert (got["kind"], got["contact_id"]) == ("promise", contact["id"])
    items = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    [entry] = [e for e in items if e["kind"] == "plan"]
    assert entry["data"]["plan_id"] == plan.id and entry["data"]["contact_id"] == contact["id"]
    assert [e["contact"]["promise"]["plan_id"] for e in items if e["kind"] == "contact"] == [plan.id]
    # The day it is due, it is a promise due.
    clock.to(NOW + dt.timedelta(days=3))
    agent = await _signed_in(http, "agent1")
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    assert detail["reasons"][0]["code"] == "promise_due"
    # A payment covering it keeps it.
    r = await http.post("/api/v1/payments", headers=await auth("admin"), json={
        "bank_ref": "PTP-1", "account_ref": account.account_ref, "amount": "200.00", "currency": "USD",
        "paid_at": (NOW + dt.timedelta(days=3)).isoformat()})
    assert r.status_code == 201, r.text
    [plan] = _plans(session, account.id)
    assert plan.status == "kept" and plan.items[0].status == "kept"


async def test_the_sweep_the_day_after_breaks_it_and_the_account_rises_with_that_reason(
        http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00", dpd=40)
    agent = await auth("agent1")
    await _call(http, agent, account.id, _ptp("250.50", TODAY + dt.timedelta(days=2)))
    due = TODAY + dt.timedelta(days=2)
    # On its date it is still due; the sweep the day after breaks it (a promise has no grace days).
    assert plans_svc.sweep(session, due).items_broken == 0
    session.commit()
    clock.to(NOW + dt.timedelta(days=3))
    agent = await _signed_in(http, "agent1")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["priority"]
    result = plans_svc.sweep(session, due + dt.timedelta(days=1))
    assert (result.items_broken, result.plans_broken) == (1, 1)
    session.commit()
    [plan] = _plans(session, account.id)
    assert plan.status == "broken"
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    assert detail["priority"] > before
    [reason] = [r for r in detail["reasons"] if r["code"] == "broken_promise"]
    assert reason["text"] == "promise of 250.50 USD broken on 2026-03-14"
    assert reason["params"] == {"kind": "promise", "amount_minor": 25050, "currency": "USD", "date": "2026-03-14"}
    # The team overview counts it as broken.
    overview = (await http.get("/api/v1/reports/overview", headers=await _signed_in(http, "super1"))).json()
    assert sum(row["broken_promises"] for row in overview["agents"]) >= 1


async def test_the_overview_counts_a_promise_due_today(http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    supervisor = await auth("super1")

    async def due_today() -> int:
        body = (await http.get("/api/v1/reports/overview", headers=supervisor)).json()
        return sum(row["promises_due_today"] for row in body["agents"])

    before = await due_today()
    account = make_account(agent="agent1")
    await _call(http, await auth("agent1"), account.id, _ptp("80.00", TODAY))
    assert await due_today() == before + 1


async def test_a_replayed_request_makes_no_second_promise(http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account()
    agent = await auth("agent1")
    body = _ptp("100.00", TODAY + dt.timedelta(days=5))
    first = await _call(http, agent, account.id, body, key="ptp-once-1")
    again = await _call(http, agent, account.id, body, key="ptp-once-1")
    assert again["id"] == first["id"] and again["promise"] == first["promise"]
    assert len(_plans(session, account.id)) == 1
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == account.id)) == 1


async def test_a_second_ptp_replaces_the_open_promise_never_two(http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account()
    agent = await auth("agent1")
    first = await _call(http, agent, account.id, _ptp("100.00", TODAY + dt.timedelta(days=5)))
    # The customer rings back (no call of ours may follow a conversation within 7 days).
    second = await _call(http, agent, account.id, _ptp("150.00", TODAY + dt.timedelta(days=7), direction="inbound"))
    old, new = _plans(session, account.id)
    assert (old.id, old.status, [i.status for i in old.items]) == (first["promise"]["plan_id"], "cancelled",
                                                                   ["cancelled"])
    assert (new.id, new.status, new.total_minor) == (second["promise"]["plan_id"], "active", 15000)
    note = session.scalar(select(PlanEvent.note).where(PlanEvent.plan_id == old.id, PlanEvent.status == "cancelled"))
    assert note == f"replaced by the promise made on contact {second['id']}"
    # A promise drafted on the plan form is replaced the same way.
    account2 = make_account()
    drafted = await http.post(f"/api/v1/accounts/{account2.id}/plans", headers=agent, json={
        "kind": "promise", "amount": "90.00", "first_due": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert drafted.status_code == 201, drafted.text
    await _call(http, agent, account2.id, _ptp("95.00", TODAY + dt.timedelta(days=3)))
    assert [(p.kind, p.status) for p in _plans(session, account2.id)] == [("promise", "cancelled"),
                                                                        ("promise", "active")]


async def test_beyond_the_agents_authority_it_waits_for_approval_and_the_contact_is_kept(
        http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00")
    agent = await auth("agent1")
    # Agents may agree a first payment up to 14 days ahead; supervisors 30.
    contact = await _call(http, agent, account.id, _ptp("100.00", TODAY + dt.timedelta(days=20)))
    [plan] = _plans(session, account.id)
    assert plan.status == "pending" and contact["promise"]["status"] == "pending"
    assert [b["limit"] for b in plan.breaches] == ["first_payment_date"]
    r = await http.post(f"/api/v1/plans/{plan.id}/approve", json={"note": ""}, headers=await auth("super1"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    # Beyond every role's authority (60 days ahead): the contact is kept, no promise made, and it says why.
    account2 = make_account(balance="1200.00")
    contact = await _call(http, agent, account2.id, _ptp("100.00", TODAY + dt.timedelta(days=60)))
    assert contact["promise"] is None and contact["promise_note"].startswith("not tracked: beyond every authority")
    assert _plans(session, account2.id) == []


async def test_another_kind_of_open_plan_is_left_alone(http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00")
    agent = await auth("agent1")
    r = await http.post(f"/api/v1/accounts/{account.id}/plans", headers=agent, json={
        "kind": "instalment", "count": 6, "first_due": (TODAY + dt.timedelta(days=5)).isoformat()})
    assert r.status_code == 201, r.text
    contact = await _call(http, agent, account.id, _ptp("100.00", TODAY + dt.timedelta(days=3)))
    assert contact["promise"] is None
    assert contact["promise_note"] == (f"not tracked: instalment plan {r.json()['id']} is draft on this account; "
                                       "change that plan instead")
    assert [(p.kind, p.status) for p in _plans(session, account.id)] == [("instalment", "draft")]
