"""``POST /api/v1/accounts/assign`` (SPEC §5): a set of accounts, by ids or by a
filter (bucket, balance band, score band, team, agent), to an agent or a team."""

from __future__ import annotations

from sqlalchemy import select, update

from backend.models import Account


async def test_a_filtered_set_moves_to_an_agent(http, auth, make_account, session, problem) -> None:  # noqa: ANN001
    small = make_account(dpd=35, balance="100.00", overdue="50.00", agent="agent1")
    large = make_account(dpd=35, balance="5000.00", overdue="500.00", agent="agent1")
    late = make_account(dpd=95, balance="5000.00", overdue="500.00", agent="agent1")
    session.execute(update(Account).where(Account.id == large.id).values(risk=0.4))
    session.execute(update(Account).where(Account.id == late.id).values(risk=0.9))
    session.commit()
    supervisor = await auth("super1")
    body = {"filter": {"bucket": ["30", "90"], "min_balance": "1000.00", "currency": "USD", "max_risk": 0.5,
                       "agent": "agent1"}, "to_agent": "agent2", "note": "agent2 takes the large 30s"}
    r = await http.post("/api/v1/accounts/assign", json=body, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["moved"] == 1
    session.expire_all()
    owners = dict(session.execute(select(Account.id, Account.agent_id).where(Account.id.in_([small.id, large.id, late.id]))).all())
    agent2 = session.scalar(select(Account.agent_id).where(Account.id == large.id))
    assert owners[large.id] == agent2 and owners[small.id] == owners[late.id] != agent2
    # The agent now sees it; the version moved, so a stale edit is caught.
    items = (await http.get("/api/v1/worklist", headers=await auth("agent2"))).json()["items"]
    assert large.id in [i["id"] for i in items]


async def test_ids_to_the_pool_and_the_limits_of_a_supervisor(http, auth, make_account, problem) -> None:  # noqa: ANN001
    a, b = make_account(agent="agent1"), make_account(agent="agent1")
    other = make_account(team="B", agent="agent3")
    supervisor = await auth("super1")
    r = await http.post("/api/v1/accounts/assign", json={"ids": [a.id, b.id], "to_agent": ""}, headers=supervisor)
    assert r.status_code == 200 and r.json()["moved"] == 2
    assert problem(await http.post("/api/v1/accounts/assign", json={"ids": [other.id], "to_agent": "agent1"},
                                   headers=supervisor), 404)
    assert problem(await http.post("/api/v1/accounts/assign", json={"ids": [a.id], "to_team": "B"},
                                   headers=supervisor), 403)
    assert problem(await http.post("/api/v1/accounts/assign", json={"ids": [a.id], "to_agent": "agent3"},
                                   headers=supervisor), 403)
    assert problem(await http.post("/api/v1/accounts/assign", json={"ids": [a.id], "to_agent": "nobody"},
                                   headers=supervisor), 422)["fields"] == {"to_agent"}
    assert problem(await http.post("/api/v1/accounts/assign", json={"ids": [a.id], "to_agent": "agent2"},
                                   headers=await auth("agent1")), 403)
    assert problem(await http.post("/api/v1/accounts/assign", json={"to_agent": "agent2"}, headers=supervisor),
                   422)["fields"] == {"ids"}
    body = {"filter": {"min_balance": "10"}, "to_agent": "agent2"}
    assert problem(await http.post("/api/v1/accounts/assign", json=body, headers=supervisor),
                   422)["fields"] == {"filter.currency"}
    admin = await auth("admin")
    r = await http.post("/api/v1/accounts/assign", json={"ids": [a.id], "to_team": "B", "to_agent": "agent3"},
                        headers=admin)
    assert r.status_code == 200 and r.json()["moved"] == 1


async def test_preview_counts_a_filter_by_dpd_and_search_before_moving(http, auth, make_account, problem,
                                                                       new_audit) -> None:  # noqa: ANN001
    for n, dpd in enumerate((10, 35, 40, 65, 95)):
        make_account(account_ref=f"PV-{n}", customer_name=f"Preview Person {n}", dpd=dpd, agent="agent1")
    make_account(account_ref="PV-9", customer_name="Other Name", dpd=40, agent="agent1")
    make_account(account_ref="PV-B", customer_name="Preview Person B", dpd=40, team="B", agent="agent3")
    supervisor = await auth("super1")
    body = {"agent": "agent1", "min_dpd": 30, "max_dpd": 70, "q": "preview person"}
    r = await http.post("/api/v1/accounts/assign/preview", json=body, headers=supervisor)
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["matched"] == 3 and found["by_agent"] == {"agent1": 3}
    assert [i["account_ref"] for i in found["items"]] == ["PV-3", "PV-2", "PV-1"]  # highest DPD first
    [entry] = new_audit(entity="accounts")
    assert sorted(entry.detail["accounts"]) == sorted(i["id"] for i in found["items"])
    # Moving the same filter moves the same accounts, and nothing else.
    r = await http.post("/api/v1/accounts/assign", json={"filter": body, "to_agent": "agent2"}, headers=supervisor)
    assert r.json()["moved"] == 3
    after = (await http.post("/api/v1/accounts/assign/preview", json={**body, "agent": "agent2"},
                             headers=supervisor)).json()
    assert after["matched"] == 3
    assert problem(await http.post("/api/v1/accounts/assign/preview", json={"min_dpd": 50, "max_dpd": 10},
                                   headers=supervisor), 422)["fields"] == {"filter.max_dpd"}
    assert problem(await http.post("/api/v1/accounts/assign/preview", json={}, headers=await auth("agent1")), 403)
