"""Collaboration (issue 5 item 4): notes shared with other teams (customer
service, sales) under a minimal account header, and handoffs of an account to
another agent or team with a note, on the timeline, the lease let go."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Account, Handoff, User


async def _note(http, headers, account_id: int, text: str, visibility: str | None = None):  # noqa: ANN001, ANN202
    body = {"text": text} | ({"visibility": visibility} if visibility else {})
    return await http.post(f"/api/v1/accounts/{account_id}/notes", json=body, headers=headers)


async def test_another_team_reads_shared_notes_only_with_a_minimal_header(http, auth, make_account, problem,
                                                                          new_audit) -> None:  # noqa: ANN001
    account = make_account(account_ref="CS-1", customer_name="Alice Moreno", dpd=95)
    agent = await auth("agent1")
    r = await _note(http, agent, account.id, "Customer disputes the March fee; told her to call service", "shared")
    assert r.status_code == 201 and r.json()["visibility"] == "shared"
    private = await _note(http, agent, account.id, "Sounded evasive about the job")
    assert private.json()["visibility"] == "team"
    assert problem(await _note(http, agent, account.id, "x", "public"), 422)["fields"] == {"visibility"}

    service = await auth("service1")
    # Service sees nothing of the account through the collections routes…
    assert problem(await http.get(f"/api/v1/accounts/{account.id}", headers=service), 404)
    assert problem(await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=service), 404)
    assert (await http.get("/api/v1/worklist", headers=service)).json()["items"] == []
    # …but reads what collections shared, by id or by the reference the customer quotes.
    r = await http.get(f"/api/v1/accounts/{account.id}/shared-notes", headers=service)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["text"] for n in body["items"]] == ["Customer disputes the March fee; told her to call service"]
    assert body["items"][0]["author"] == "agent1" and body["items"][0]["visibility"] == "shared"
    assert set(body["account"]) == {"id", "account_ref", "customer_name", "card", "status", "in_collections",
                                    "team", "agent"}
    assert body["account"]["customer_name"] == "Alice Moreno" and body["account"]["in_collections"] is True
    assert body["account"]["card"].endswith("1111") and "411111" not in body["account"]["card"]
    assert "+1212" not in r.text and "4200" not in r.text and "1200" not in r.text  # no phones, no balances
    by_ref = (await http.get("/api/v1/shared-notes", params={"account_ref": "CS-1"}, headers=service)).json()
    assert by_ref == body
    assert problem(await http.get("/api/v1/shared-notes", params={"account_ref": "nope"}, headers=service), 404)
    assert problem(await http.get(f"/api/v1/accounts/{account.id}/shared-notes"), 401)
    # An agent of another team reads the shared ones too, and only those.
    other = (await http.get(f"/api/v1/accounts/{account.id}/shared-notes", headers=await auth("agent3"))).json()
    assert len(other["items"]) == 1
    views = new_audit(action="view", entity="shared_notes", entity_id=account.id)
    assert len(views) == 3 and views[0].detail["notes"] == [body["items"][0]["id"]]
    # The owning team sees every note on the timeline, each with its visibility.
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    notes = {e["note"]["text"]: e["note"]["visibility"] for e in timeline if e["kind"] == "note"}
    assert notes == {"Customer disputes the March fee; told her to call service": "shared",
                     "Sounded evasive about the job": "team"}


async def test_the_agent_hands_an_account_to_another_team(http, auth, make_account, session, problem,
                                                          new_audit) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    agent = await auth("agent1")
    lease = await http.post("/api/v1/worklist/next", headers=agent)
    assert lease.json()["account"]["id"] == account.id
    body = {"to_agent": "agent3", "note": "Customer moved to Taipei; team B speaks Mandarin"}
    r = await http.post(f"/api/v1/accounts/{account.id}/handoff", json=body,
                        headers={**agent, "Idempotency-Key": "h-1"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["from_team"], out["from_agent"], out["to_team"], out["to_agent"], out["by"]) == \
        ("A", "agent1", "B", "agent3", "agent1")
    again = await http.post(f"/api/v1/accounts/{account.id}/handoff", json=body,
                            headers={**agent, "Idempotency-Key": "h-1"})
    assert again.json() == out and again.headers.get("Idempotent-Replayed") == "true"
    assert len(session.scalars(select(Handoff).where(Handoff.account_id == account.id)).all()) == 1
    session.expire_all()
    moved = session.get(Account, account.id)
    assert moved.lease_user_id is None and moved.lease_expires_at is None
    assert moved.agent_id == session.scalar(select(User.id).where(User.username == "agent3"))
    # It is team B's now: agent1 no longer sees it, agent3 sees the handoff on the timeline.
    assert problem(await http.get(f"/api/v1/accounts/{account.id}", headers=agent), 404)
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=await auth("agent3"))).json()
    entry = next(e for e in timeline["items"] if e["kind"] == "handoff")
    assert entry["actor"] == "agent1" and entry["data"]["note"] == body["note"]
    assert entry["data"]["to_agent"] == "agent3" and entry["data"]["from_team"] == "A"
    assert new_audit(action="handoff")[0].detail["to_team"] == "B"


async def test_who_may_hand_off_and_where(http, auth, make_account, problem) -> None:  # noqa: ANN001
    mine = make_account(agent="agent1")
    pooled = make_account(agent=None)
    note = {"note": "over to you"}

    async def handoff(user: str, account_id: int, **target: str):  # noqa: ANN202
        return await http.post(f"/api/v1/accounts/{account_id}/handoff", json={**note, **target},
                               headers=await auth(user))

    # Another agent of the team, legal and service may not; another team cannot even see it.
    assert problem(await handoff("agent2", mine.id, to_agent="agent2"), 403)
    assert problem(await handoff("legal1", mine.id, to_team="B"), 403)
    assert problem(await handoff("service1", mine.id, to_team="B"), 404)
    assert problem(await handoff("agent3", mine.id, to_team="B"), 404)
    # Bad targets, named.
    assert problem(await handoff("agent1", mine.id), 422)["fields"] == {"to_agent"}
    assert problem(await handoff("agent1", mine.id, to_agent="nobody"), 422)["fields"] == {"to_agent"}
    assert problem(await handoff("agent1", mine.id, to_agent="legal1"), 422)["fields"] == {"to_agent"}
    assert problem(await handoff("agent1", mine.id, to_team="Z"), 422)["fields"] == {"to_team"}
    assert problem(await handoff("agent1", mine.id, to_team="CS"), 422)["fields"] == {"to_team"}
    assert problem(await handoff("agent1", mine.id, to_team="A", to_agent="agent3"), 422)["fields"] == {"to_agent"}
    assert problem(await handoff("agent1", mine.id, to_agent="agent1"), 422)["fields"] == {"to_agent"}
    r = await http.post(f"/api/v1/accounts/{mine.id}/handoff", json={"to_team": "B", "note": "  "},
                        headers=await auth("agent1"))
    assert problem(r, 422)["fields"] == {"note"}
    # The owning agent within the team; the supervisor, a pool account to another team's pool.
    r = await handoff("agent1", mine.id, to_agent="agent2")
    assert r.status_code == 201 and r.json()["to_team"] == "A"
    assert problem(await handoff("agent1", mine.id, to_agent="agent1"), 403)  # not theirs any more
    r = await handoff("super1", pooled.id, to_team="B")
    assert r.status_code == 201 and r.json()["to_agent"] is None and r.json()["from_agent"] is None
    r = await handoff("admin", pooled.id, to_team="A", to_agent="agent1")
    assert r.status_code == 201 and (r.json()["from_team"], r.json()["to_agent"]) == ("B", "agent1")
