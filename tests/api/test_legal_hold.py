"""Legal hold (issue 13, item 5): an account legal has accepted for proceedings
(status ``legal``) leaves the agents' and supervisors' worklists (every form: plain,
by bucket, searched, paged), is never handed out by ``worklist/next``, is not
counted or moved as work by the team overview, segments or ``accounts/assign``,
and the lease someone held on it is let go when the referral is accepted. Its
record stays readable by its team, and legal officers and admins still find it
on their worklists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from backend.models import Account, Contact, User

HELD_NAME = "Hildegard Holdfast"
KEPT_NAME = "Hildegard Keeper"


def _hold(session, *accounts) -> None:  # noqa: ANN001
    """Put ``accounts`` on legal hold straight in the table (the accept flow has its own test)."""
    session.execute(update(Account).where(Account.id.in_([a.id for a in accounts])).values(status="legal"))
    session.commit()


def _pair(make_account, session):  # noqa: ANN001, ANN202
    """agent1's two accounts in bucket 120 with like names, the first on legal hold."""
    held = make_account(account_ref="LH-HELD", customer_name=HELD_NAME, dpd=125, balance="9000.00",
                        overdue="4000.00", card_number="4000000000004242")
    kept = make_account(account_ref="LH-KEPT", customer_name=KEPT_NAME, dpd=125, balance="900.00", overdue="400.00",
                        card_number="4000000000004242")
    _hold(session, held)
    return held, kept


async def _ids(http, headers, **params) -> list[int]:  # noqa: ANN001
    r = await http.get("/api/v1/worklist", params={"limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


async def _paged(http, headers, **params) -> list[int]:  # noqa: ANN001
    """Every id of the worklist, one a page, following the cursors."""
    ids: list[int] = []
    cursor = None
    for _ in range(500):
        r = await http.get("/api/v1/worklist", params={"limit": 1, **params, **({"cursor": cursor} if cursor else {})},
                           headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursors never ended")


def _holder(session, account_id: int) -> str | None:  # noqa: ANN001
    session.expire_all()
    user_id = session.scalar(select(Account.lease_user_id).where(Account.id == account_id))
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


async def test_agents_and_supervisors_worklists_leave_out_a_legal_account(http, auth, make_account, session) -> None:  # noqa: ANN001
    held, kept = _pair(make_account, session)
    # Every form of the worklist: plain, by bucket, searched (a name through the index
    # and by scanning, the reference, the card's last four), and page by page.
    forms = [{}, {"bucket": "120"}, {"q": "Hildegard"}, {"q": "hildegard holdfast"}, {"q": "Hi"}, {"q": "LH-"},
             {"q": "4242"}, {"q": "4000 0000 0000 4242"}]
    for who in ("agent1", "super1"):
        headers = await auth(who)
        for params in forms:
            ids = await _ids(http, headers, **params)
            assert held.id not in ids, (who, params)
            if params.get("q") != "hildegard holdfast":
                assert kept.id in ids, (who, params)
        assert held.id not in await _paged(http, headers)
        assert kept.id in await _paged(http, headers, bucket="120")


async def test_legal_officers_and_admins_still_see_it_on_their_worklists(http, auth, make_account, session) -> None:  # noqa: ANN001
    held, kept = _pair(make_account, session)
    for who in ("legal1", "admin"):
        headers = await auth(who)
        for params in ({}, {"bucket": "120"}, {"q": "Hildegard"}, {"q": "LH-HELD"}):
            ids = await _ids(http, headers, **params)
            assert held.id in ids, (who, params)
        assert held.id in await _paged(http, headers, q="Hildegard")
    # A closed account is on nobody's worklist, as before.
    session.execute(update(Account).where(Account.id == kept.id).values(status="closed"))
    session.commit()
    for who in ("agent1", "super1", "legal1", "admin"):
        assert kept.id not in await _ids(http, await auth(who))


async def test_next_never_hands_out_a_legal_account(http, auth, make_account, session, problem) -> None:  # noqa: ANN001
    held = make_account(dpd=150, customer_name=HELD_NAME)
    session.execute(update(Account).where(Account.id == held.id).values(priority=Account.priority + 1000))
    _hold(session, held)
    # The only account of agent1 and of team A: nothing to work, for anyone
    # (legal officers and admins see it on their worklists, but it is not handed out).
    for who in ("agent1", "super1", "admin"):
        problem(await http.post("/api/v1/worklist/next", headers=await auth(who)), 404)
        assert _holder(session, held.id) is None
    # Beside a workable account, next hands out that one, though the held one ranks
    # above it (as legal's worklist shows); asked again, it has nothing more.
    kept = make_account(dpd=10, customer_name=KEPT_NAME)
    assert (await _ids(http, await auth("legal1")))[:2] == [held.id, kept.id]
    agent = await auth("agent1")
    r = await http.post("/api/v1/worklist/next", headers=agent)
    assert r.status_code == 200 and r.json()["account"]["id"] == kept.id, r.text
    problem(await http.post("/api/v1/worklist/next", headers=agent), 404)
    problem(await http.post("/api/v1/worklist/next", params={"skip": kept.id}, headers=agent), 404)
    assert _holder(session, held.id) is None
    # Once the lease is let go, next hands the workable one out again, never the held one.
    assert (await http.post(f"/api/v1/accounts/{kept.id}/release", headers=agent)).status_code == 204
    r = await http.post("/api/v1/worklist/next", headers=await auth("super1"))
    assert r.status_code == 200 and r.json()["account"]["id"] == kept.id, r.text
    assert _holder(session, held.id) is None


async def test_accepting_the_referral_lets_go_of_the_lease_and_the_record_stays_readable(  # noqa: ANN001
        http, auth, make_account, session, problem) -> None:
    account = make_account(dpd=120, customer_name=HELD_NAME)
    agent1 = session.scalar(select(User.id).where(User.username == "agent1"))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    for i in range(6):  # the referral's preconditions, straight into the tables
        session.add(Contact(account_id=account.id, agent_id=agent1, channel="phone", direction="outbound",
                            party="debtor", outcome="NA", started_at=start + dt.timedelta(days=i), note=""))
    session.commit()
    agent, legal = await auth("agent1"), await auth("legal1")
    r = await http.post(f"/api/v1/accounts/{account.id}/letters", json={"kind": "demand_letter"}, headers=agent)
    assert r.status_code == 201, r.text
    session.execute(update(Contact).where(Contact.account_id == account.id, Contact.channel == "letter")
                    .values(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=15)))
    session.commit()
    r = await http.post(f"/api/v1/accounts/{account.id}/escalations",
                        json={"kind": "legal", "reason": "no payment for months"}, headers=agent)
    assert r.status_code == 201, r.text
    referral = r.json()["id"]

    # Referred but not yet accepted: still agent1's work, and leased to them.
    r = await http.post("/api/v1/worklist/next", headers=agent)
    assert r.status_code == 200 and r.json()["account"]["id"] == account.id
    assert _holder(session, account.id) == "agent1"

    r = await http.post(f"/api/v1/escalations/{referral}/accept", json={"note": "proceedings to be filed"},
                        headers=legal)
    assert r.status_code == 200, r.text
    assert _holder(session, account.id) is None
    assert session.scalar(select(Account.lease_expires_at).where(Account.id == account.id)) is None

    # Off agent1's queues, and nobody else's hand-out gets it either.
    assert account.id not in await _ids(http, agent)
    assert account.id not in await _ids(http, await auth("super1"))
    problem(await http.post("/api/v1/worklist/next", headers=agent), 404)
    problem(await http.post("/api/v1/worklist/next", headers=await auth("super1")), 404)
    # The record stays readable: by its team, and by legal, whose worklist still has it.
    for who in ("agent1", "super1", "legal1"):
        r = await http.get(f"/api/v1/accounts/{account.id}", headers=await auth(who))
        assert r.status_code == 200, (who, r.text)
        assert r.json()["status"] == "legal"
    assert account.id in await _ids(http, legal)
    # Another team's agent still gets 404, as for any account not theirs.
    problem(await http.get(f"/api/v1/accounts/{account.id}", headers=await auth("agent3")), 404)


async def test_overview_segments_and_assign_do_not_count_or_move_it(http, auth, make_account, session) -> None:  # noqa: ANN001
    supervisor = await auth("super1")

    async def agent1_row() -> dict:
        body = (await http.get("/api/v1/reports/overview", headers=supervisor)).json()
        return next(row for row in body["agents"] if row["agent"] == "agent1")

    before = await agent1_row()
    held, kept = _pair(make_account, session)
    after = await agent1_row()
    # Only the workable account joins agent1's book.
    assert after["accounts"] == before["accounts"] + 1
    assert after["buckets"].get("120", 0) == before["buckets"].get("120", 0) + 1

    only_ours = {"q": "Hildegard", "agent": "agent1"}
    preview = (await http.post("/api/v1/accounts/assign/preview", json=only_ours, headers=supervisor)).json()
    assert preview["matched"] == 1 and [i["id"] for i in preview["items"]] == [kept.id]

    held_version = session.scalar(select(Account.version).where(Account.id == held.id))
    seg = await http.post("/api/v1/segments", json={"name": "Hildegards", "filter": {"min_dpd": 125, "max_dpd": 125},
                                                    "to_agent": "agent2"}, headers=supervisor)
    assert seg.status_code == 201, seg.text
    assert seg.json()["count"] == 1
    r = await http.post(f"/api/v1/segments/{seg.json()['id']}/assign", headers=supervisor)
    assert r.status_code == 200 and r.json()["moved"] == 1, r.text

    r = await http.post("/api/v1/accounts/assign", json={"filter": {"q": "Hildegard"}, "to_agent": "agent1"},
                        headers=supervisor)
    assert r.status_code == 200 and r.json()["moved"] == 1, r.text
    session.expire_all()
    owners = dict(session.execute(select(Account.id, User.username).join(User, User.id == Account.agent_id)
                                  .where(Account.id.in_([held.id, kept.id]))).all())
    assert owners == {held.id: "agent1", kept.id: "agent1"}
    assert session.scalar(select(Account.version).where(Account.id == held.id)) == held_version  # never moved
