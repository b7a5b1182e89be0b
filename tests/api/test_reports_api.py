"""Reports (issue 5, item 5): agent, team, portfolio and cases, checked against a
small portfolio built by hand in a team of its own (``R``), every figure worked
out below. No report ranks agents by amount collected (2011 Measures Art. 66)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.models import Plan, User, utcnow
from backend.services import plans as plans_svc
from backend.services.reports import bucket_of_months_late, roll_matrix
from backend.services.users import add_user
from backend_client.models import PlanCreate

MONTHS = ["2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04"]


def _history(*status: int) -> dict:
    return {"currency": "TWD", "months": MONTHS, "limit": 50000, "status": list(status),
            "bill": [1000] * 6, "paid": [0] * 6}


@pytest.fixture
async def portfolio(http, auth, session, make_account, open_zone):  # noqa: ANN001, ANN201
    """Team R: Ann Archer (ra1), Zed Zhou (ra2), Mia Moss (ra3, no work), rsuper.

    A1 ra1 dpd 35  bal 1200  RPC PTP 150 kept (paid 150)        history 1→2 (X→30)
    A2 ra1 dpd 65  bal 2000  NA, RPC RTP; promise 200 broken     history 3→3 (60→60)
    A3 ra2 dpd 35  bal 1000  RPC PTP 300 (kept), paid 300: cured        history 1→0 (X→current)
    A4 ra2 dpd 125 bal 5000  six NA in six days, paid 1000       history 4→5 (90→120)
    A5 ra2 dpd 10  bal 500   RPC DISP                            history 0→1 (current→X)
    A6 pool dpd 0  bal 800   nothing                             no history
    """
    for name, role, shown in (("ra1", "agent", "Ann Archer"), ("ra2", "agent", "Zed Zhou"),
                              ("ra3", "agent", "Mia Moss"), ("rsuper", "supervisor", "Rita Super")):
        add_user(session, name, name, role, "R", shown)
    session.commit()
    common = {"team": "R", "timezone": open_zone}
    a1 = make_account(agent="ra1", dpd=35, balance="1200.00", overdue="300.00", minimum_due="300.00", **common)
    a2 = make_account(agent="ra1", dpd=65, balance="2000.00", overdue="600.00", minimum_due="600.00", **common)
    a3 = make_account(agent="ra2", dpd=35, balance="1000.00", overdue="300.00", minimum_due="300.00", **common)
    a4 = make_account(agent="ra2", dpd=125, balance="5000.00", overdue="1500.00", minimum_due="1500.00", **common)
    a5 = make_account(agent="ra2", dpd=10, balance="500.00", overdue="100.00", minimum_due="100.00", **common)
    a6 = make_account(agent=None, dpd=0, balance="800.00", overdue="0.00", minimum_due="0.00", **common)
    for account, status in ((a1, (2, 1, 1, 0, -1, -1)), (a2, (3, 3, 2, 1, 0, 0)), (a3, (0, 1, 2, 1, 0, 0)),
                            (a4, (5, 4, 3, 2, 1, 0)), (a5, (1, 0, 0, 0, 0, 0))):
        account.history = _history(*status)
    session.commit()

    today = utcnow().date()
    rpc = {"channel": "phone", "outcome": "RPC", "identity_verified": True, "disclosure_given": True}

    async def contact(user: str, account, **body) -> None:  # noqa: ANN001, ANN003
        r = await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=await auth(user))
        assert r.status_code == 201, r.text

    await contact("ra1", a1, **rpc, result="PTP", duration_s=300,
                  ptp={"amount": "150.00", "date": str(today + dt.timedelta(days=5))}, note="will pay on Friday")
    await contact("ra1", a2, channel="phone", outcome="NA", duration_s=30)
    await contact("ra1", a2, **rpc, result="RTP", reason="unwilling", duration_s=200, note="says the bank can sue")
    await contact("ra2", a3, **rpc, result="PTP", duration_s=240,
                  ptp={"amount": "300.00", "date": str(today + dt.timedelta(days=2))})
    now = utcnow()
    for days_ago in range(6, 0, -1):  # after the fact, each at this time of day: inside the call window
        await contact("ra2", a4, channel="phone", outcome="NA", started_at=(now - dt.timedelta(days=days_ago)).isoformat())
    await contact("ra2", a5, **rpc, result="DISP", reason="merchant_dispute", duration_s=120,
                  note="never received the goods")
    r = await http.post(f"/api/v1/accounts/{a4.id}/notes", json={"text": "letter sent to the home address"},
                        headers=await auth("ra2"))
    assert r.status_code == 201, r.text

    ra1 = session.scalar(select(User).where(User.username == "ra1"))
    # The promises on A1's and A3's calls are tracked plans of their own (issue 14).
    kept = session.scalar(select(Plan).where(Plan.account_id == a1.id))
    assert session.scalar(select(Plan.status).where(Plan.account_id == a3.id)) == "active"
    broken = plans_svc.draft(session, ra1, a2.id, PlanCreate(kind="promise", amount="200.00", first_due=today))
    plans_svc.act(session, ra1, broken.id, "submit")
    session.commit()
    assert (kept.status, broken.status) == ("active", "active")

    admin = await auth("admin")
    for ref, account, amount in (("RP-1", a1, "150.00"), ("RP-3", a3, "300.00"), ("RP-4", a4, "1000.00")):
        r = await http.post("/api/v1/payments", headers=admin, json={
            "bank_ref": ref, "account_ref": account.account_ref, "amount": amount, "currency": "USD",
            "paid_at": utcnow().isoformat()})
        assert r.status_code == 201, r.text
    plans_svc.sweep(session, today + dt.timedelta(days=10), account_ids=[a2.id])
    session.commit()
    session.expire_all()
    assert (kept.status, broken.status) == ("kept", "broken")
    return {"A1": a1, "A2": a2, "A3": a3, "A4": a4, "A5": a5, "A6": a6}


def _money(items: list[dict]) -> dict[str, int]:
    return {m["currency"]: m["amount_minor"] for m in items}


async def test_agent_report_figures_by_hand(http, auth, portfolio, new_audit) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/reports/agent", params={"days": 7}, headers=await auth("rsuper"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["team"] == "R" and body["period"]["days"] == 7
    rows = {row["agent"]: row for row in body["agents"]}
    assert set(rows) == {"ra1", "ra2", "ra3"}  # the supervisor's own team only
    ann, zed, mia = rows["ra1"], rows["ra2"], rows["ra3"]
    # Ann: RPC PTP on A1; NA and RPC RTP on A2.
    assert (ann["accounts"], ann["attempts"], ann["contacts"], ann["right_party_contacts"]) == (2, 3, 2, 2)
    assert ann["rpc_rate"] == 0.6667  # 2 outbound RPC / 3 attempts
    assert (ann["promises"], _money(ann["promised"])) == (1, {"USD": 15000})
    assert (ann["plans"], ann["plans_kept"], ann["plans_broken"], ann["kept_rate"]) == (2, 1, 1, 0.5)
    assert (_money(ann["collected"]), ann["paying_accounts"]) == ({"USD": 15000}, 1)
    assert ann["average_handle_s"] == 176.7  # (300 + 30 + 200) / 3
    assert ann["attempts_by_day"] == [0, 0, 0, 0, 0, 0, 3]  # 24-hour days back from now, oldest first
    # Zed: RPC PTP on A3, six NA on A4 (one a day), RPC DISP on A5.
    assert (zed["accounts"], zed["attempts"], zed["contacts"], zed["right_party_contacts"]) == (3, 8, 2, 2)
    assert zed["rpc_rate"] == 0.25
    assert (zed["promises"], _money(zed["promised"])) == (1, {"USD": 30000})
    assert (zed["plans"], zed["plans_kept"], zed["plans_broken"], zed["kept_rate"]) == (1, 1, 0, 1.0)
    assert (_money(zed["collected"]), zed["paying_accounts"]) == ({"USD": 130000}, 2)
    assert zed["average_handle_s"] == 180.0  # (240 + 120) / 2: the NA have no duration
    assert zed["attempts_by_day"] == [1, 1, 1, 1, 1, 1, 2]
    assert (mia["accounts"], mia["attempts"], mia["collected"], mia["rpc_rate"]) == (0, 0, [], None)
    for row in rows.values():
        assert row["escalations"] in (0, None)  # None where the escalations table is not there yet
    assert [e.detail["report"] for e in new_audit(entity="report")] == ["agent"]


async def test_agent_report_never_ranks_by_amount_collected(http, auth, portfolio) -> None:  # noqa: ANN001
    body = (await http.get("/api/v1/reports/agent", headers=await auth("rsuper"))).json()
    names = [row["display_name"] for row in body["agents"]]
    assert names == ["Ann Archer", "Mia Moss", "Zed Zhou"]  # by name
    collected = [sum(m["amount_minor"] for m in row["collected"]) for row in body["agents"]]
    assert collected == [15000, 0, 130000]
    assert collected != sorted(collected, reverse=True) and collected != sorted(collected)
    for row in body["agents"]:  # collection always beside the quality figures
        assert {"rpc_rate", "kept_rate", "average_handle_s", "collected"} <= set(row)


async def test_team_report_adds_up_the_team(http, auth, portfolio) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/reports/team", params={"team": "R"}, headers=await auth("admin"))
    assert r.status_code == 200, r.text
    [team] = r.json()["teams"]
    assert (team["team"], team["agents"], team["accounts"]) == ("R", 3, 6)
    assert (team["attempts"], team["contacts"], team["right_party_contacts"], team["rpc_rate"]) == (11, 4, 4, 0.3636)
    assert (team["promises"], _money(team["promised"])) == (2, {"USD": 45000})
    assert (team["plans"], team["plans_kept"], team["plans_broken"], team["kept_rate"]) == (3, 2, 1, 0.6667)
    assert (_money(team["collected"]), team["paying_accounts"]) == ({"USD": 145000}, 3)
    assert team["average_handle_s"] == 178.0  # 890 s over 5 timed contacts
    # The supervisor gets the same, and only their team.
    mine = (await http.get("/api/v1/reports/team", headers=await auth("rsuper"))).json()["teams"]
    assert [t["team"] for t in mine] == ["R"] and mine[0]["attempts"] == 11


async def test_portfolio_buckets_roll_rates_and_cure(http, auth, portfolio) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/reports/portfolio", params={"team": "R", "days": 30}, headers=await auth("legal1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accounts"] == 6 and _money(body["balance"]) == {"USD": 905000}
    buckets = {b["bucket"]: (b["accounts"], _money(b["balance"])) for b in body["buckets"]}
    assert buckets == {"current": (2, {"USD": 150000}),  # A3 cured (1000 - 300) and A6 (800)
                       "X": (1, {"USD": 50000}), "30": (1, {"USD": 105000}),  # A1: 1200 - 150
                       "60": (1, {"USD": 200000}), "90": (0, {}), "120": (1, {"USD": 400000}),  # A4: 5000 - 1000
                       "150": (0, {}), "180+": (0, {})}
    roll = body["roll"]
    assert (roll["from_month"], roll["to_month"], roll["accounts"]) == ("2005-08", "2005-09", 5)
    rows = {row["bucket"]: row for row in roll["rows"]}
    assert rows["X"]["to"] == {"current": 1, "30": 1} and rows["X"]["roll_forward_rate"] == 0.5
    assert rows["X"]["cure_rate"] == 0.5
    assert rows["60"]["to"] == {"60": 1} and rows["60"]["roll_forward_rate"] == 0.0
    assert rows["90"]["to"] == {"120": 1} and rows["90"]["roll_forward_rate"] == 1.0
    assert rows["current"]["to"] == {"X": 1} and rows["current"]["cure_rate"] is None
    assert rows["30"]["accounts"] == 0 and rows["30"]["roll_forward_rate"] is None
    assert roll["roll_forward_trend"] == [None, 1.0, 1.0, 0.5, 0.5]
    assert roll["cure_trend"] == [None, 0.0, 0.0, 0.0, 0.25]
    assert body["cure_rate"] == 0.25  # A3 of A1, A2, A3, A4 (late in 2005-08)
    # In the period: A1, A2, A3, A4, A5 were delinquent when it began; A3 is current now.
    assert (body["delinquent_at_start"], body["cured"], body["period_cure_rate"]) == (5, 1, 0.2)
    assert _money(body["collected"]) == {"USD": 145000}


async def test_cases_successful_and_difficult_with_notes(http, auth, portfolio, new_audit) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/reports/cases", headers=await auth("rsuper"))
    assert r.status_code == 200, r.text
    body = r.json()
    ref = {a.id: name for name, a in portfolio.items()}
    good = {(c["kind"], ref[c["account_id"]]) for c in body["successful"]}
    bad = {(c["kind"], ref[c["account_id"]]) for c in body["difficult"]}
    assert good == {("plan_kept", "A1"), ("cured", "A3"), ("plan_kept", "A3")}
    assert bad == {("plan_broken", "A2"), ("refused", "A2"), ("dispute", "A5"), ("no_contact", "A4")}
    by = {(c["kind"], ref[c["account_id"]]): c for c in body["successful"] + body["difficult"]}
    assert "promise plan" in by[("plan_kept", "A1")]["what"] and "USD 150.00 paid" in by[("plan_kept", "A1")]["what"]
    assert by[("cured", "A3")]["what"] == "cured from bucket 30 by a payment of USD 300.00 (RP-3)"
    refused = by[("refused", "A2")]
    assert refused["contacts"][0]["summary"] == "phone outbound RPC RTP"
    assert refused["contacts"][0]["note"] == "says the bank can sue" and refused["attempts"] == 2
    no_contact = by[("no_contact", "A4")]
    assert (no_contact["attempts"], no_contact["right_party_contacts"]) == (6, 0)
    assert no_contact["notes"] == ["letter sent to the home address"]
    assert all(c["successful"] for c in body["successful"]) and not any(c["successful"] for c in body["difficult"])
    [entry] = new_audit(entity="report")
    assert entry.detail["report"] == "cases" and set(entry.detail["accounts"]) == {a.id for n, a in portfolio.items()
                                                                                  if n != "A6"}


async def test_who_may_see_reports(http, auth, portfolio, problem) -> None:  # noqa: ANN001
    for kind in ("team", "portfolio", "cases", "overview"):
        problem(await http.get(f"/api/v1/reports/{kind}", headers=await auth("ra1")), 403)
    for kind in ("agent", "team", "portfolio", "cases", "overview"):
        problem(await http.get(f"/api/v1/reports/{kind}", headers=await auth("trainer1")), 403)
        problem(await http.get(f"/api/v1/reports/{kind}"), 401)
    # An agent sees their own figures, never a colleague's.
    own = (await http.get("/api/v1/reports/agent", headers=await auth("ra1"))).json()
    assert [row["agent"] for row in own["agents"]] == ["ra1"] and own["team"] == "R"
    problem(await http.get("/api/v1/reports/agent", params={"team": "R"}, headers=await auth("ra1")), 403)
    # A supervisor reports on their own team, not another.
    problem(await http.get("/api/v1/reports/agent", params={"team": "A"}, headers=await auth("rsuper")), 403)
    problem(await http.get("/api/v1/reports/agent", params={"team": "nope"}, headers=await auth("admin")), 404)
    # super1 (team A) sees none of team R's agents.
    names = {row["agent"] for row in (await http.get("/api/v1/reports/agent", headers=await auth("super1"))).json()["agents"]}
    assert not names & {"ra1", "ra2", "ra3"}


async def test_the_period_from_and_to(http, auth, portfolio, problem) -> None:  # noqa: ANN001
    today = utcnow().date()
    admin = await auth("admin")
    # The two days before the last six: none of the work.
    old = (await http.get("/api/v1/reports/team", headers=admin, params={
        "team": "R", "from": str(today - dt.timedelta(days=9)), "to": str(today - dt.timedelta(days=8))})).json()
    assert old["period"]["days"] == 2 and old["teams"][0]["attempts"] == 0
    # From two days ago to today (inclusive): A4's NA of the last two days and today's contacts.
    recent = (await http.get("/api/v1/reports/team", headers=admin, params={
        "team": "R", "from": str(today - dt.timedelta(days=2)), "to": str(today)})).json()
    assert recent["period"]["days"] == 3
    assert recent["teams"][0]["attempts"] == 7  # today's five and A4's of yesterday and the day before
    problem(await http.get("/api/v1/reports/team", headers=admin, params={"from": "2026-13-01"}), 422)
    problem(await http.get("/api/v1/reports/team", headers=admin, params={"from": str(today), "to": str(today - dt.timedelta(days=3))}), 422)


def test_months_late_buckets_and_an_empty_matrix() -> None:
    assert [bucket_of_months_late(m) for m in (-2, -1, 0, 1, 2, 6, 7, 9)] == \
        ["current", "current", "current", "X", "30", "150", "180+", "180+"]
    empty = roll_matrix([])
    assert empty.accounts == 0 and empty.roll_forward_trend == [] and all(r.accounts == 0 for r in empty.rows)


async def test_escalations_are_counted_per_agent_and_team(http, auth, portfolio) -> None:  # noqa: ANN001
    r = await http.post(f"/api/v1/accounts/{portfolio['A2'].id}/escalations", headers=await auth("ra1"),
                        json={"kind": "supervisor", "reason": "refuses to pay and broke a promise"})
    assert r.status_code == 201, r.text
    rows = {a["agent"]: a for a in (await http.get("/api/v1/reports/agent", headers=await auth("rsuper"))).json()["agents"]}
    assert (rows["ra1"]["escalations"], rows["ra2"]["escalations"], rows["ra3"]["escalations"]) == (1, 0, 0)
    [team] = (await http.get("/api/v1/reports/team", headers=await auth("rsuper"))).json()["teams"]
    assert team["escalations"] == 1


async def test_team_overview_by_agent_and_bucket(http, auth, portfolio, session, problem, new_audit) -> None:  # noqa: ANN001
    """The supervisor desk's overview: each agent's book now, by name, and the pool."""
    today = utcnow().date()
    ra2 = session.scalar(select(User).where(User.username == "ra2"))
    due = plans_svc.draft(session, ra2, portfolio["A5"].id, PlanCreate(kind="promise", amount="50.00", first_due=today))
    plans_svc.act(session, ra2, due.id, "submit")
    session.commit()
    r = await http.get("/api/v1/reports/overview", params={"day": today.isoformat()}, headers=await auth("rsuper"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["team"] == "R" and body["day"] == today.isoformat()
    rows = {row["agent"]: row for row in body["agents"]}
    assert list(rows) == ["ra1", "ra3", "ra2", None]  # by display name (Ann, Mia, Zed), the pool last
    assert (rows["ra1"]["accounts"], rows["ra1"]["buckets"]) == (2, {"30": 1, "60": 1})
    assert (rows["ra2"]["accounts"], rows["ra2"]["buckets"]) == (3, {"current": 1, "X": 1, "120": 1})  # A3 cured
    assert (rows["ra3"]["accounts"], rows["ra3"]["buckets"]) == (0, {})
    assert (rows[None]["accounts"], rows[None]["buckets"]) == (1, {"current": 1})
    # A2's promise broke; A5's is due today; A1's was kept.
    assert [(rows[a]["promises_due_today"], rows[a]["broken_promises"]) for a in ("ra1", "ra2", "ra3", None)] == [
        (0, 1), (1, 0), (0, 0), (0, 0)]
    total = body["total"]
    assert (total["accounts"], total["promises_due_today"], total["broken_promises"]) == (6, 1, 1)
    assert total["buckets"] == {"current": 2, "X": 1, "30": 1, "60": 1, "120": 1}
    # Contactable now: as the worklist says of the same accounts.
    items = (await http.get("/api/v1/worklist", params={"limit": 100}, headers=await auth("rsuper"))).json()["items"]
    assert total["contactable_now"] == sum(i["contactable_now"] for i in items)
    assert sum(row["contactable_now"] for row in body["agents"]) == total["contactable_now"]
    assert [e.detail["report"] for e in new_audit(entity="report")] == ["overview"]
    # Another day: nothing due.
    other = (await http.get("/api/v1/reports/overview", params={"day": (today + dt.timedelta(days=1)).isoformat()},
                            headers=await auth("rsuper"))).json()
    assert other["total"]["promises_due_today"] == 0
    # Admin: every team, or one; agents and trainers: 403.
    every = (await http.get("/api/v1/reports/overview", headers=await auth("admin"))).json()
    assert every["team"] is None and {"ra1", "agent1", "agent3"} <= {row["agent"] for row in every["agents"]}
    one = (await http.get("/api/v1/reports/overview", params={"team": "R"}, headers=await auth("admin"))).json()
    assert one["total"]["accounts"] == 6
    problem(await http.get("/api/v1/reports/overview", params={"team": "A"}, headers=await auth("rsuper")), 403)
    problem(await http.get("/api/v1/reports/overview", params={"day": "soon"}, headers=await auth("rsuper")), 422)
