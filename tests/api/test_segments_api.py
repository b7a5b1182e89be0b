"""Segments (issue 6 item 4; SPEC §5 ``/api/v1/segments``): saved, named filters
(bucket, balance band in minor units, risk or priority band, DPD range, team)
with where their accounts go, counted when listed and assigned in one action."""

from __future__ import annotations

from sqlalchemy import select, update

from backend.models import Account, Segment, User
from backend.services import segments as segments_svc
from backend.services.assign import Criteria, where
from backend_client.models import AccountFilter, AssignRequest, SegmentCreate, SegmentFilter


def _portfolio(make_account, session):  # noqa: ANN001, ANN202
    """Team A: two late and large (one risky), one late and small, one early; team B: one late and large."""
    late_large = make_account(dpd=95, balance="5000.00", overdue="900.00", agent="agent1")
    late_risky = make_account(dpd=125, balance="3000.00", overdue="900.00", agent="agent1")
    late_small = make_account(dpd=95, balance="100.00", overdue="50.00", agent="agent1")
    early = make_account(dpd=35, balance="5000.00", overdue="300.00", agent="agent2")
    other_team = make_account(dpd=95, balance="5000.00", overdue="900.00", team="B", agent="agent3")
    session.execute(update(Account).where(Account.id == late_large.id).values(risk=0.3))
    session.execute(update(Account).where(Account.id == late_risky.id).values(risk=0.8))
    session.commit()
    return late_large, late_risky, late_small, early, other_team


LATE_LARGE = {"name": "Late and large", "filter": {"bucket": ["90", "120"], "currency": "USD",
                                                   "min_balance_minor": 100_000, "min_dpd": 90, "max_dpd": 180},
              "to_agent": "agent2", "note": "agent2 works the large 90s"}


async def test_a_supervisor_saves_counts_and_assigns_a_segment(http, auth, make_account, session, new_audit) -> None:  # noqa: ANN001
    late_large, late_risky, late_small, early, other_team = _portfolio(make_account, session)
    session.execute(update(Account).where(Account.id == late_large.id).values(
        lease_user_id=session.scalar(select(User.id).where(User.username == "agent1"))))
    session.commit()
    boss = await auth("super1")
    r = await http.post("/api/v1/segments", json=LATE_LARGE, headers={**boss, "Idempotency-Key": "seg-1"})
    assert r.status_code == 201, r.text
    seg = r.json()
    assert seg["team"] == "A" and seg["to_agent"] == "agent2" and seg["count"] == 2
    assert seg["filter"]["bucket"] == ["90", "120"] and seg["filter"]["team"] == "A"
    assert seg["created_by"] == "super1" and seg["assigned_at"] is None
    # The same key again: the first answer, nothing written twice.
    again = await http.post("/api/v1/segments", json=LATE_LARGE, headers={**boss, "Idempotency-Key": "seg-1"})
    assert again.status_code == 201 and again.json()["id"] == seg["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(select(Segment.id).where(Segment.name == "Late and large").limit(2).offset(1)) is None

    listed = (await http.get("/api/v1/segments", headers=boss)).json()["items"]
    assert [(s["name"], s["count"]) for s in listed] == [("Late and large", 2)]

    r = await http.post(f"/api/v1/segments/{seg['id']}/assign", headers=boss)
    assert r.status_code == 200, r.text
    assert r.json() == {"moved": 2, "to_agent": "agent2", "to_team": None}
    session.expire_all()
    owners = dict(session.execute(select(Account.id, User.username).join(User, User.id == Account.agent_id)).all())
    assert owners[late_large.id] == owners[late_risky.id] == "agent2"
    assert owners[late_small.id] == "agent1" and owners[early.id] == "agent2" and owners[other_team.id] == "agent3"
    assert session.get(Account, late_large.id).lease_user_id is None  # the lease was let go
    moved = new_audit(action="assign")
    assert len(moved) == 1 and moved[0].detail["segment"] == seg["id"] and moved[0].detail["count"] == 2
    assert new_audit(action="create", entity="segment")[0].entity_id == seg["id"]
    after = (await http.get(f"/api/v1/segments/{seg['id']}", headers=boss)).json()
    assert after["assigned_at"] is not None and after["count"] == 2  # still matches: it is a filter, not a list


async def test_score_bands_and_a_team_queue(http, auth, make_account, session) -> None:  # noqa: ANN001
    late_large, late_risky, late_small, early, _other = _portfolio(make_account, session)
    boss = await auth("super1")
    body = {"name": "Risky", "filter": {"min_risk": 0.5}, "to_team": "A"}
    r = await http.post("/api/v1/segments", json=body, headers=boss)
    assert r.status_code == 201 and r.json()["count"] == 1
    r = await http.post(f"/api/v1/segments/{r.json()['id']}/assign", headers=boss)
    assert r.json() == {"moved": 1, "to_agent": None, "to_team": "A"}
    session.expire_all()
    assert session.get(Account, late_risky.id).agent_id is None  # into the team's pool: the queue
    top = max(a.priority for a in (late_large, late_risky, late_small, early))
    body = {"name": "Top priority", "filter": {"min_priority": top, "max_priority": top}}
    r = await http.post("/api/v1/segments", json=body, headers=boss)
    assert r.status_code == 201 and r.json()["count"] == 1 and r.json()["to_agent"] is None
    # No destination named: assigning it says so.
    assigned = await http.post(f"/api/v1/segments/{r.json()['id']}/assign", headers=boss)
    assert assigned.status_code == 422 and {e["field"] for e in assigned.json()["errors"]} == {"to_agent"}


async def test_bad_filters_are_refused_naming_the_field(http, auth, problem) -> None:  # noqa: ANN001
    boss = await auth("super1")

    async def refused(filter_: dict, **extra: object) -> set[str]:
        body = {"name": "x", "filter": filter_, **extra}
        return problem(await http.post("/api/v1/segments", json=body, headers=boss), 422)["fields"]

    assert await refused({"min_dpd": 90, "max_dpd": 30}) == {"filter.max_dpd"}
    assert await refused({"min_balance_minor": 100}) == {"filter.currency"}
    assert await refused({"min_balance_minor": 900, "max_balance_minor": 100, "currency": "USD"}) == \
        {"filter.max_balance_minor"}
    assert await refused({"min_risk": 0.9, "max_risk": 0.1}) == {"filter.max_risk"}
    assert await refused({"bucket": ["45"]}) == {"filter.bucket.0"}
    assert await refused({"min_risk": 2}) == {"filter.min_risk"}
    assert await refused({"min_balance_minor": -1, "currency": "USD"}) == {"filter.min_balance_minor"}
    assert await refused({"colour": "red"}) == {"filter.colour"}
    assert await refused({"team": "Z"}) == {"filter.team"}
    assert await refused({}, to_agent="nobody") == {"to_agent"}
    assert problem(await http.post("/api/v1/segments", json={"name": "", "filter": {}}, headers=boss),
                   422)["fields"] == {"name"}


async def test_who_keeps_which_segments(http, auth, problem) -> None:  # noqa: ANN001
    boss, admin, agent = await auth("super1"), await auth("admin"), await auth("agent1")
    assert problem(await http.get("/api/v1/segments", headers=agent), 403)
    assert problem(await http.post("/api/v1/segments", json={"name": "mine"}, headers=agent), 403)
    assert problem(await http.get("/api/v1/segments", headers=await auth("service1")), 403)
    # A supervisor: their own team's accounts and people only.
    assert problem(await http.post("/api/v1/segments", json={"name": "B", "filter": {"team": "B"}}, headers=boss), 403)
    assert problem(await http.post("/api/v1/segments", json={"name": "to B", "to_agent": "agent3"}, headers=boss), 403)
    assert problem(await http.post("/api/v1/segments", json={"name": "to B", "to_team": "B"}, headers=boss), 403)
    ours = (await http.post("/api/v1/segments", json={"name": "All of A"}, headers=boss)).json()
    theirs = (await http.post("/api/v1/segments", json={"name": "All of B", "filter": {"team": "B"},
                                                        "to_agent": "agent3"}, headers=admin)).json()
    everyone = (await http.post("/api/v1/segments", json={"name": "Everything"}, headers=admin)).json()
    assert ours["team"] == "A" and theirs["team"] == "B" and everyone["team"] is None
    assert [s["name"] for s in (await http.get("/api/v1/segments", headers=boss)).json()["items"]] == ["All of A"]
    assert {s["name"] for s in (await http.get("/api/v1/segments", headers=admin)).json()["items"]} == \
        {"All of A", "All of B", "Everything"}
    for seg in (theirs, everyone):
        assert problem(await http.get(f"/api/v1/segments/{seg['id']}", headers=boss), 404)
        assert problem(await http.post(f"/api/v1/segments/{seg['id']}/assign", headers=boss), 404)
        assert problem(await http.delete(f"/api/v1/segments/{seg['id']}", headers=boss), 404)
    assert problem(await http.post(f"/api/v1/segments/{ours['id']}/assign", headers=agent), 403)


async def test_a_segment_is_renamed_retargeted_and_deleted(http, auth, make_account, session, problem,
                                                          new_audit) -> None:  # noqa: ANN001
    _portfolio(make_account, session)
    boss = await auth("super1")
    seg = (await http.post("/api/v1/segments", json=LATE_LARGE, headers=boss)).json()
    other = (await http.post("/api/v1/segments", json={"name": "Early", "filter": {"max_dpd": 59}},
                             headers=boss)).json()
    assert other["count"] == 1
    assert problem(await http.post("/api/v1/segments", json={"name": "Early"}, headers=boss), 409)["fields"] == {"name"}
    assert problem(await http.patch(f"/api/v1/segments/{seg['id']}", json={"name": "Early"}, headers=boss),
                   409)["fields"] == {"name"}
    r = await http.patch(f"/api/v1/segments/{seg['id']}", json={"name": "Late", "filter": {"min_dpd": 90},
                                                                "to_agent": "agent1"}, headers=boss)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Late" and r.json()["count"] == 3 and r.json()["to_agent"] == "agent1"
    r = await http.patch(f"/api/v1/segments/{seg['id']}", json={"to_agent": None, "to_team": "A"}, headers=boss)
    assert r.json()["to_agent"] is None and r.json()["to_team"] == "A" and r.json()["name"] == "Late"
    assert problem(await http.patch(f"/api/v1/segments/{seg['id']}", json={"filter": {"min_dpd": 9, "max_dpd": 1}},
                                    headers=boss), 422)["fields"] == {"filter.max_dpd"}
    assert (await http.delete(f"/api/v1/segments/{seg['id']}", headers=boss)).status_code == 204
    assert problem(await http.get(f"/api/v1/segments/{seg['id']}", headers=boss), 404)
    assert [a.action for a in new_audit(entity="segment", entity_id=seg["id"])][-1] == "delete"


def test_one_filter_builder_serves_assign_and_segments(session, make_account) -> None:  # noqa: ANN001
    """The request's filter (major units) and a segment (minor units) name the same accounts."""
    late_large, late_risky, *_ = _portfolio(make_account, session)
    boss = session.scalar(select(User).where(User.username == "super1"))
    from backend.services.assign import matching

    by_request = set(session.scalars(matching(session, boss, AccountFilter(
        bucket=["90", "120"], currency="USD", min_balance="1000.00", min_dpd=90, max_dpd=180))))
    seg = segments_svc.create(session, boss, SegmentCreate(name="s", filter=SegmentFilter(
        bucket=["90", "120"], currency="USD", min_balance_minor=100_000, min_dpd=90, max_dpd=180)))
    by_segment = set(session.scalars(where(session, boss, segments_svc.criteria(seg))))
    assert by_request == by_segment == {late_large.id, late_risky.id}
    assert set(session.scalars(where(session, boss, Criteria(min_risk=0.5)))) == {late_risky.id}
    assert AssignRequest(filter=AccountFilter(min_dpd=1), to_agent="agent2").filter.min_dpd == 1
