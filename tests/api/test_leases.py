"""``POST /api/v1/worklist/next`` leases the next account to work; nobody else
gets it until it is released or expires (SPEC §5)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from backend.models import Account, User


async def _next(http, headers, **params) -> dict:  # noqa: ANN001
    response = await http.post("/api/v1/worklist/next", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _holder(session, account_id: int) -> str | None:  # noqa: ANN001
    session.expire_all()
    user_id = session.scalar(select(Account.lease_user_id).where(Account.id == account_id))
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


async def test_next_leases_the_top_account_and_moves_on(http, auth, session, make_account) -> None:  # noqa: ANN001
    a, b, c = make_account(dpd=10), make_account(dpd=150), make_account(dpd=60)
    headers = await auth("agent1")
    # The strategy decides the order; next follows the worklist's.
    ranked = [i["id"] for i in (await http.get("/api/v1/worklist", headers=headers)).json()["items"]]
    by_id = {x.id: x for x in (a, b, c)}
    top, mid, low = (by_id[i] for i in ranked if i in by_id)
    before = dt.datetime.now(dt.UTC)
    lease = await _next(http, headers)
    assert lease["account"]["id"] == top.id
    assert lease["account"]["card"] == "•••• •••• •••• 1111"
    expires = dt.datetime.fromisoformat(lease["lease_expires_at"])
    assert before + dt.timedelta(minutes=14) < expires < before + dt.timedelta(minutes=16)
    assert _holder(session, top.id) == "agent1"
    # The next call moves on and lets go of the previous account.
    assert (await _next(http, headers))["account"]["id"] == mid.id
    assert _holder(session, top.id) is None and _holder(session, mid.id) == "agent1"
    assert (await _next(http, headers))["account"]["id"] == top.id
    assert (await _next(http, headers, skip=top.id))["account"]["id"] == mid.id
    assert low.id not in (top.id, mid.id)


async def test_two_workers_never_get_the_same_account(http, auth, session, make_account) -> None:  # noqa: ANN001
    # super1's worklist is the whole of team A, agent1's only their own: they compete for agent1's.
    made = [make_account(dpd=d) for d in (150, 120, 90, 60, 30)]
    agent, supervisor = await auth("agent1"), await auth("super1")
    held: dict[str, int] = {}
    for turn in range(12):
        who, headers = ("agent1", agent) if turn % 2 == 0 else ("super1", supervisor)
        held[who] = (await _next(http, headers))["account"]["id"]
        assert len(set(held.values())) == len(held), held
        for account in made:
            holder = _holder(session, account.id)
            assert holder is None or held[holder] == account.id


async def test_an_expired_lease_is_free_again(http, auth, session, make_account) -> None:  # noqa: ANN001
    top = make_account(dpd=150)
    make_account(dpd=10)
    await _next(http, await auth("agent1"))
    supervisor = await auth("super1")
    assert (await _next(http, supervisor))["account"]["id"] != top.id
    session.execute(update(Account).where(Account.id == top.id)
                    .values(lease_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    session.commit()
    assert (await _next(http, supervisor))["account"]["id"] == top.id


async def test_release_frees_the_account(http, auth, session, make_account, problem) -> None:  # noqa: ANN001
    top = make_account(dpd=150)
    make_account(dpd=10)
    agent, supervisor = await auth("agent1"), await auth("super1")
    await _next(http, agent)
    # Releasing what one does not hold changes nothing.
    assert (await http.post(f"/api/v1/accounts/{top.id}/release", headers=supervisor)).status_code == 204
    assert _holder(session, top.id) == "agent1"
    response = await http.post(f"/api/v1/accounts/{top.id}/release", headers=agent)
    assert response.status_code == 204 and response.content == b""
    assert _holder(session, top.id) is None
    assert (await _next(http, supervisor))["account"]["id"] == top.id
    problem(await http.post(f"/api/v1/accounts/{top.id}/release", headers=await auth("agent3")), 404)


async def test_logging_a_contact_releases_the_lease(http, auth, session, make_account,  # noqa: ANN001
                                                    open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone)  # a contact is logged: inside the call window, whatever the hour
    headers = await auth("agent1")
    await _next(http, headers)
    response = await http.post(f"/api/v1/accounts/{account.id}/contacts", headers=headers,
                               json={"channel": "email", "outcome": "NA"})
    assert response.status_code == 201, response.text
    assert _holder(session, account.id) is None


async def test_nothing_to_work_is_404(http, auth, make_account, problem) -> None:  # noqa: ANN001
    problem(await http.post("/api/v1/worklist/next", headers=await auth("agent2")), 404)
    only = make_account(agent="agent2")
    headers = await auth("agent2")
    assert (await _next(http, headers))["account"]["id"] == only.id
    # The one account is held by the caller: there is no *next* one.
    problem(await http.post("/api/v1/worklist/next", headers=headers), 404)


async def test_other_team_is_never_leased(http, auth, make_account) -> None:  # noqa: ANN001
    team_a = make_account(dpd=170)
    team_b = make_account(team="B", agent="agent3", dpd=5)
    assert (await _next(http, await auth("agent3")))["account"]["id"] == team_b.id
    assert team_a.id != team_b.id


async def test_a_lease_is_not_an_edit(http, auth, make_account) -> None:  # noqa: ANN001
    """Leasing (and logging a contact) leaves the version alone, so an If-Match
    read before them still applies."""
    account = make_account()
    headers = await auth("agent1")
    version = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()["version"]
    assert (await _next(http, headers))["account"]["version"] == version
    await http.post(f"/api/v1/accounts/{account.id}/contacts", headers=headers, json={"channel": "sms", "outcome": "NA"})
    response = await http.patch(f"/api/v1/accounts/{account.id}", headers={**headers, "If-Match": str(version)},
                                json={"flags": {"hardship": True}})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1


async def test_leases_are_audited(http, auth, make_account, new_audit) -> None:  # noqa: ANN001
    account = make_account()
    await _next(http, await auth("agent1"))
    actions = [r.action for r in new_audit(entity="account", entity_id=account.id)]
    assert actions == ["create", "lease", "view"]
