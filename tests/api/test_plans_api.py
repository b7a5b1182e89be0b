"""Plans and payments through the HTTP API (SPEC §3, §5; issue 4): drafting within
authority, approval, one open plan per account, payments matched oldest first
(partial and over), balances recomputed, and the sweep with a controlled clock."""

from __future__ import annotations

import datetime as dt

from backend.models import Payment, PlanEvent
from backend.services import plans as plans_svc

TODAY = dt.date(2026, 3, 11)
NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)


def _plan(kind: str, first_due: dt.date, **body) -> dict:  # noqa: ANN003
    return {"kind": kind, "first_due": first_due.isoformat(), **body}


async def _draft(http, headers, account_id: int, body: dict):  # noqa: ANN001, ANN202
    return await http.post(f"/api/v1/accounts/{account_id}/plans", json=body, headers=headers)


async def _act(http, headers, plan_id: int, action: str, note: str = ""):  # noqa: ANN001, ANN202
    return await http.post(f"/api/v1/plans/{plan_id}/{action}", json={"note": note}, headers=headers)


def _pay(bank_ref: str, account_ref: str, amount: str, paid_at: dt.datetime, currency: str = "USD") -> dict:
    return {"bank_ref": bank_ref, "account_ref": account_ref, "amount": amount, "currency": currency,
            "paid_at": paid_at.isoformat()}


async def test_an_instalment_plan_within_authority_is_active_on_submit(http, auth, make_account, clock) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00")
    headers = await auth("agent1")
    r = await _draft(http, headers, account.id, _plan("instalment", TODAY + dt.timedelta(days=7), amount="1000.00",
                                                      count=3))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft" and plan["needs_approval"] is False
    amounts = [i["amount"]["amount_minor"] for i in plan["schedule"]]
    assert amounts == [33333, 33333, 33334] and sum(amounts) == plan["total"]["amount_minor"] == 100000
    assert [i["due"] for i in plan["schedule"]] == ["2026-03-18", "2026-04-18", "2026-05-18"]
    r = await _act(http, headers, plan["id"], "submit")
    assert r.status_code == 200 and r.json()["status"] == "active"
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers)).json()["items"]
    assert [e["data"]["status"] for e in timeline if e["kind"] == "plan"] == ["active", "draft"]


async def test_beyond_the_agents_authority_goes_to_the_supervisor(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account = make_account(balance="1000.00", overdue="300.00")
    agent = await auth("agent1")
    r = await _draft(http, agent, account.id, _plan("settlement", TODAY + dt.timedelta(days=5), discount_percent="20"))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["needs_approval"] is True and plan["discount"]["amount_minor"] == 20000
    assert [b["limit"] for b in plan["breaches"]] == ["discount"] and plan["breaches"][0]["allowed"] == "10 %"
    assert (await _act(http, agent, plan["id"], "submit")).json()["status"] == "pending"
    # Not the agent's to approve; the supervisor's queue has it.
    assert problem(await _act(http, agent, plan["id"], "approve"), 403)
    supervisor = await auth("super1")
    queue = (await http.get("/api/v1/plans", params={"status": "pending"}, headers=supervisor)).json()["items"]
    assert plan["id"] in [p["id"] for p in queue]
    assert problem(await _act(http, supervisor, plan["id"], "reject"), 422)["fields"] == {"note"}
    approved = (await _act(http, supervisor, plan["id"], "approve", "hardship documented")).json()
    assert approved["status"] == "active" and approved["decided_by"] == "super1"
    assert (await http.get(f"/api/v1/plans/{plan['id']}", headers=agent)).json()["status"] == "active"


async def test_beyond_every_limit_is_refused_naming_the_limit(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account = make_account(balance="1000.00", overdue="300.00")
    headers = await auth("agent1")
    body = problem(await _draft(http, headers, account.id,
                                _plan("settlement", TODAY + dt.timedelta(days=5), discount_percent="40")), 422)
    assert body["fields"] == {"discount"} and "30 %" in body["detail"]
    body = problem(await _draft(http, headers, account.id,
                                _plan("instalment", TODAY + dt.timedelta(days=45), amount="900.00", count=2)), 422)
    assert body["fields"] == {"first_payment_date"}
    preview = (await http.post(f"/api/v1/accounts/{account.id}/plans/preview", headers=headers,
                               json=_plan("settlement", TODAY + dt.timedelta(days=5), discount_percent="40"))).json()
    assert preview["ok"] is False and [b["limit"] for b in preview["refused"]] == ["discount"]
    assert preview["total"]["amount_minor"] == 60000


async def test_only_one_open_plan_per_account(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    first = (await _draft(http, headers, account.id, _plan("promise", TODAY + dt.timedelta(days=3), amount="100.00"))).json()
    body = problem(await _draft(http, headers, account.id,
                                _plan("promise", TODAY + dt.timedelta(days=4), amount="100.00")), 409)
    assert body["reason"] == "open_plan" and str(first["id"]) in body["detail"]
    assert (await _act(http, headers, first["id"], "cancel")).json()["status"] == "cancelled"
    assert (await _draft(http, headers, account.id, _plan("promise", TODAY + dt.timedelta(days=4),
                                                          amount="100.00"))).status_code == 201
    assert problem(await _act(http, headers, first["id"], "submit"), 409)["status_now"] == "cancelled"


async def test_a_changed_plan_replaces_the_agents_draft_and_is_submitted_in_one_request(
        http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    """Issue 16 item 4: the old draft cancelled, the new plan drafted and submitted, in one
    transaction: a new plan refused leaves the old draft as it was."""
    account = make_account(balance="1200.00", overdue="300.00")
    agent = await auth("agent1")
    old = (await _draft(http, agent, account.id, _plan("promise", TODAY + dt.timedelta(days=3), amount="100.00"))).json()
    # A replacement beyond every limit is refused whole: the old draft is still the open plan.
    body = problem(await _draft(http, agent, account.id, _plan(
        "settlement", TODAY + dt.timedelta(days=5), discount_percent="40", replaces=old["id"], submit=True)), 422)
    assert body["fields"] == {"discount"}
    assert (await http.get(f"/api/v1/plans/{old['id']}", headers=agent)).json()["status"] == "draft"
    new = await _draft(http, agent, account.id, _plan("instalment", TODAY + dt.timedelta(days=7), amount="1000.00",
                                                      count=3, replaces=old["id"], submit=True))
    assert new.status_code == 201, new.text
    assert new.json()["status"] == "active"
    assert (await http.get(f"/api/v1/plans/{old['id']}", headers=agent)).json()["status"] == "cancelled"
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    assert [(e["data"]["plan_id"], e["data"]["status"]) for e in timeline if e["kind"] == "plan"] == [
        (new.json()["id"], "active"), (new.json()["id"], "draft"), (old["id"], "cancelled"), (old["id"], "draft")]


async def test_only_the_agents_own_draft_of_the_account_is_replaced(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account, other = make_account(), make_account()
    agent1, agent2 = await auth("agent1"), await auth("agent2")
    theirs = (await _draft(http, agent2, account.id, _plan("promise", TODAY + dt.timedelta(days=3),
                                                            amount="100.00"))).json()
    body = problem(await _draft(http, agent1, account.id, _plan("promise", TODAY + dt.timedelta(days=4),
                                                                amount="90.00", replaces=theirs["id"])), 409)
    assert body["reason"] == "status" and "only your own draft" in body["detail"]
    elsewhere = problem(await _draft(http, agent1, other.id, _plan("promise", TODAY + dt.timedelta(days=4),
                                                                   amount="90.00", replaces=theirs["id"])), 422)
    assert elsewhere["fields"] == {"replaces"}
    submitted = (await _act(http, agent2, theirs["id"], "submit")).json()
    assert submitted["status"] == "active"
    body = problem(await _draft(http, agent2, account.id, _plan("promise", TODAY + dt.timedelta(days=4),
                                                                amount="90.00", replaces=theirs["id"])), 409)
    assert body["status_now"] == "active"


async def test_payments_are_matched_oldest_first_partial_and_over(http, auth, make_account, clock, count) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00", minimum_due="100.00", dpd=65)
    agent, admin = await auth("agent1"), await auth("admin")
    plan = (await _draft(http, agent, account.id, _plan("instalment", TODAY + dt.timedelta(days=7), amount="300.00",
                                                        count=3))).json()
    await _act(http, agent, plan["id"], "submit")
    paid = await http.post("/api/v1/payments", json=_pay("BR-1", account.account_ref, "150.00", NOW), headers=admin)
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert [(a["seq"], a["amount"]["amount_minor"]) for a in body["allocations"]] == [(1, 10000), (2, 5000)]
    assert body["unallocated"]["amount_minor"] == 0 and body["balance_after"]["amount_minor"] == 105000
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    # 150 of 300 overdue paid: one minimum (100) cleared takes a cycle off the delinquency.
    assert detail["overdue"]["amount_minor"] == 15000 and detail["dpd"] == 35 and detail["bucket"] == "30"
    # The same payment again changes nothing and answers the first record.
    again = await http.post("/api/v1/payments", json=_pay("BR-1", account.account_ref, "150.00", NOW), headers=admin)
    assert again.status_code == 200 and again.json() == body
    assert count(Payment, Payment.account_id == account.id) == 1
    # An overpayment: the rest of the plan, and what is left over.
    over = (await http.post("/api/v1/payments", json=_pay("BR-2", account.account_ref, "200.00", NOW), headers=admin)).json()
    assert [(a["seq"], a["amount"]["amount_minor"]) for a in over["allocations"]] == [(2, 5000), (3, 10000)]
    assert over["unallocated"]["amount_minor"] == 5000
    plan_now = (await http.get(f"/api/v1/plans/{plan['id']}", headers=agent)).json()
    assert plan_now["status"] == "kept" and {i["status"] for i in plan_now["schedule"]} == {"kept"}
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    assert detail["overdue"]["amount_minor"] == 0 and detail["dpd"] == 0 and detail["bucket"] == "current"
    kinds = [e["kind"] for e in (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]]
    assert kinds.count("payment") == 2


async def test_a_payment_with_a_reused_bank_ref_and_other_details_is_409(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account = make_account()
    admin = await auth("admin")
    assert (await http.post("/api/v1/payments", json=_pay("BR-9", account.account_ref, "10.00", NOW),
                            headers=admin)).status_code == 201
    body = problem(await http.post("/api/v1/payments", json=_pay("BR-9", account.account_ref, "11.00", NOW),
                                   headers=admin), 409)
    assert body["fields"] == {"bank_ref"}
    body = problem(await http.post("/api/v1/payments", json=_pay("BR-10", "NO-SUCH", "1.00", NOW), headers=admin), 422)
    assert body["fields"] == {"account_ref"}
    body = problem(await http.post("/api/v1/payments", json=_pay("BR-11", account.account_ref, "1.00", NOW, "EUR"),
                                   headers=admin), 422)
    assert body["fields"] == {"currency"}
    assert problem(await http.post("/api/v1/payments", json=_pay("BR-12", account.account_ref, "1.00", NOW),
                                   headers=await auth("agent1")), 403)


async def test_the_sweep_marks_broken_after_the_grace_days_and_raises_the_account(
        http, auth, make_account, clock, session) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00")
    agent = await auth("agent1")
    plan = (await _draft(http, agent, account.id, _plan("minimum", TODAY + dt.timedelta(days=2), amount="200.00"))).json()
    await _act(http, agent, plan["id"], "submit")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["priority"]
    due = TODAY + dt.timedelta(days=2)
    # (A promise has its own grace, none by default: tests/api/test_promises.py.)
    # On the last grace day it is still due; the day after, broken. Twice changes nothing.
    assert plans_svc.sweep(session, due + dt.timedelta(days=3)).items_broken == 0
    clock.to(NOW + dt.timedelta(days=6))
    result = plans_svc.sweep(session, due + dt.timedelta(days=4))
    assert (result.items_broken, result.plans_broken) == (1, 1)
    session.commit()
    again = plans_svc.sweep(session, due + dt.timedelta(days=4))
    assert (again.items_broken, again.plans_broken, again.items_kept, again.plans_kept) == (0, 0, 0, 0)
    assert session.query(PlanEvent).filter_by(plan_id=plan["id"], status="broken").count() == 1
    # Six days on, the morning's session has lapsed: sign in again.
    token = (await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})).json()
    agent = {"Authorization": f"Bearer {token['access_token']}"}
    r = await http.get(f"/api/v1/accounts/{account.id}", headers=agent)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["priority"] > before and "broken_promise" in {r["code"] for r in detail["reasons"]}
    assert (await http.get(f"/api/v1/plans/{plan['id']}", headers=agent)).json()["status"] == "broken"


async def test_another_teams_plans_are_not_found(http, auth, make_account, clock, problem) -> None:  # noqa: ANN001
    account = make_account()
    plan = (await _draft(http, await auth("agent1"), account.id,
                         _plan("promise", TODAY + dt.timedelta(days=3), amount="100.00"))).json()
    other = await auth("agent3")
    problem(await http.get(f"/api/v1/plans/{plan['id']}", headers=other), 404)
    problem(await _act(http, other, plan["id"], "cancel"), 404)
    assert (await http.get("/api/v1/plans", headers=other)).json()["items"] == []


async def test_the_confirmation_letter_in_markdown_and_pdf(http, auth, make_account, clock) -> None:  # noqa: ANN001
    import io

    from pypdf import PdfReader

    account = make_account(customer_name="Dana Whitfield", balance="1200.00", overdue="300.00",
                           card_number="4111111111111111")
    headers = await auth("agent1")
    plan = (await _draft(http, headers, account.id, _plan("instalment", TODAY + dt.timedelta(days=7), amount="900.00",
                                                          count=3))).json()
    await _act(http, headers, plan["id"], "submit")
    md = await http.get(f"/api/v1/plans/{plan['id']}/letter", params={"format": "md"}, headers=headers)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    text = md.text
    assert "Dana Whitfield" in text and account.account_ref in text and "$300.00" in text
    assert "4111111111111111" not in text and "1111" in text
    pdf = await http.get(f"/api/v1/plans/{plan['id']}/letter", params={"format": "pdf"}, headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    read = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Dana Whitfield" in read and "$300.00" in read
    assert (await http.get(f"/api/v1/plans/{plan['id']}/letter", params={"format": "doc"},
                           headers=headers)).status_code == 422


async def test_a_two_year_plan_is_within_an_agents_authority(http, auth, make_account, clock) -> None:  # noqa: ANN001
    account = make_account(balance="1200.00", overdue="300.00")
    headers = await auth("agent1")
    plan = (await _draft(http, headers, account.id, _plan("instalment", TODAY + dt.timedelta(days=10), count=24))).json()
    amounts = [i["amount"]["amount_minor"] for i in plan["schedule"]]
    # The smallest first payment (the larger of 5 % and 100) first, then equal parts.
    assert amounts[0] == 10000 and sum(amounts) == 120000 and len(amounts) == 24
    assert plan["needs_approval"] is False, plan["breaches"]
    assert (await _act(http, headers, plan["id"], "submit")).json()["status"] == "active"
