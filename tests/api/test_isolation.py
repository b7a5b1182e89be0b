"""Team isolation (SPEC §5, issue 2): an agent of team B cannot read, list,
search, log contacts or notes on, change, lease or release a team A account.
Every attempt answers exactly what an unknown account answers (404), so nothing
tells the other team that the account exists; and nothing is written."""

from __future__ import annotations

from backend.models import Account, Contact, IdempotencyKey, Note


async def test_team_b_cannot_touch_a_team_a_account(http, auth, session, make_account, problem, count) -> None:  # noqa: ANN001
    account = make_account(team="A", agent="agent1", account_ref="SECRET-A-1", customer_name="Alice Alpha",
                           card_number="4539827361504820")
    version = account.version
    user = "agent3"
    headers = {**await auth(user), "Idempotency-Key": "k1"}

    async def both(method: str, path: str, **kwargs) -> dict:  # noqa: ANN003
        """The answer for the team A account, which must equal the answer for no account at all."""
        sent = kwargs.pop("headers", headers)
        hidden = await http.request(method, path.format(id=account.id), headers=sent, **kwargs)
        missing = await http.request(method, path.format(id=2_000_000_000), headers=sent, **kwargs)
        body = problem(hidden, 404)
        assert hidden.json() == missing.json(), (method, path)
        return body

    await both("GET", "/api/v1/accounts/{id}")
    await both("GET", "/api/v1/accounts/{id}/timeline")
    await both("POST", "/api/v1/accounts/{id}/contacts", json={"channel": "letter", "outcome": "NA"})
    await both("POST", "/api/v1/accounts/{id}/notes", json={"text": "peek"})
    await both("PATCH", "/api/v1/accounts/{id}", json={"flags": {"fraud": True}},
               headers={**headers, "If-Match": str(version)})
    # Without If-Match too: the account is hidden before the precondition is looked at.
    await both("PATCH", "/api/v1/accounts/{id}", json={"flags": {"fraud": True}}, headers=await auth(user))
    await both("POST", "/api/v1/accounts/{id}/release")

    for q in (None, "SECRET", "alice", "4820", "4539827361504820"):
        params = {"limit": 200} | ({"q": q} if q else {})
        items = (await http.get("/api/v1/worklist", headers=headers, params=params)).json()["items"]
        assert account.id not in {i["id"] for i in items}, q
    lease = await http.post("/api/v1/worklist/next", headers=headers)
    assert lease.status_code == 404 or lease.json()["account"]["id"] != account.id

    session.expire_all()
    stored = session.get(Account, account.id)
    assert stored.version == version and not (stored.flags or {}).get("fraud") and stored.lease_user_id is None
    assert count(Contact, Contact.account_id == account.id) == 0
    assert count(Note, Note.account_id == account.id) == 0
    assert count(IdempotencyKey) == 0


async def test_a_team_b_supervisor_cannot_either(http, auth, session, make_account, problem) -> None:  # noqa: ANN001
    from backend.services.users import add_user

    add_user(session, "superb", "superb", "supervisor", "B")
    session.commit()
    account = make_account(team="A")
    headers = await auth("superb")
    problem(await http.get(f"/api/v1/accounts/{account.id}", headers=headers), 404)
    problem(await http.patch(f"/api/v1/accounts/{account.id}", json={"team": "B"},
                             headers={**headers, "If-Match": str(account.version)}), 404)
    items = (await http.get("/api/v1/worklist", headers=headers, params={"q": account.account_ref})).json()["items"]
    assert items == []


async def test_the_other_way_round(http, auth, make_account, problem) -> None:  # noqa: ANN001
    team_b = make_account(team="B", agent="agent3")
    for user in ("agent1", "agent2", "super1"):
        headers = await auth(user)
        problem(await http.get(f"/api/v1/accounts/{team_b.id}", headers=headers), 404)
        items = (await http.get("/api/v1/worklist", headers=headers, params={"limit": 200})).json()["items"]
        assert team_b.id not in {i["id"] for i in items}
