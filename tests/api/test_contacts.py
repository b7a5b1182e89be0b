"""``POST /api/v1/accounts/{id}/contacts`` and ``/notes``, and the timeline
(SPEC §3, §4, §5): outcome and result rules, promises and call backs, contacts
now and after the fact, ``Idempotency-Key`` retries, newest first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from backend.models import AuditEntry, Contact, IdempotencyKey, Note, User


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return _now().date()


async def _log(http, headers, account_id: int, **body):  # noqa: ANN001, ANN202
    body.setdefault("channel", "phone")
    body.setdefault("outcome", "NA")
    return await http.post(f"/api/v1/accounts/{account_id}/contacts", json=body, headers=headers)


async def test_a_right_party_contact_with_a_promise(http, auth, make_account, open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone)
    response = await _log(http, await auth("agent1"), account.id, outcome="RPC", result="PTP", reason="job_loss",
                          note="will pay Friday", duration_s=240, used="+12125550100", identity_verified=True,
                          disclosure_given=True, ptp={"amount": "150.50", "date": str(_today() + dt.timedelta(days=3))})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["outcome"], body["result"], body["reason"], body["party"], body["direction"]) == (
        "RPC", "PTP", "job_loss", "debtor", "outbound")
    assert body["ptp_amount"] == {"amount_minor": 15050, "currency": "USD"}
    assert body["ptp_date"] == str(_today() + dt.timedelta(days=3))
    assert body["counts"] == {"worked": True, "attempted": True, "contacted": True}
    assert (body["agent"], body["after_the_fact"], body["breach"]) == ("agent1", False, False)
    started = dt.datetime.fromisoformat(body["started_at"])
    assert started.tzinfo is not None and abs(started - _now()) < dt.timedelta(minutes=1)


async def test_outcome_counts(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    expected = {"NA": (True, True, False), "BSY": (True, False, False), "DISC": (True, False, False),
                "LM": (True, True, False), "TPC": (True, True, True)}
    for outcome, counts in expected.items():
        party = "third_party" if outcome == "TPC" else "debtor"
        body = (await _log(http, headers, account.id, channel="letter", outcome=outcome, party=party)).json()
        assert tuple(body["counts"].values()) == counts, outcome


async def test_outcome_result_promise_and_call_back_must_agree(http, auth, make_account, problem, count) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    tomorrow = str(_today() + dt.timedelta(days=1))
    cases = [
        ({"outcome": "RPC"}, {"result"}),
        ({"outcome": "NA", "result": "PTP", "ptp": {"amount": "1.00", "date": tomorrow}}, {"result"}),
        ({"outcome": "RPC", "result": "PTP"}, {"ptp"}),
        ({"outcome": "RPC", "result": "RTP", "ptp": {"amount": "1.00", "date": tomorrow}}, {"ptp"}),
        ({"outcome": "RPC", "result": "CB"}, {"callback_at"}),
        ({"outcome": "TPC", "party": "debtor"}, {"party"}),
        ({"outcome": "RPC", "result": "RTP", "party": "third_party"}, {"party"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "12.345", "date": tomorrow}}, {"ptp.amount"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "0", "date": tomorrow}}, {"ptp.amount"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "-5", "date": tomorrow}}, {"ptp.amount"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "5", "date": str(_today() - dt.timedelta(days=9))}},
         {"ptp.date"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "5", "date": str(_today() + dt.timedelta(days=400))}},
         {"ptp.date"}),
        ({"outcome": "RPC", "result": "PTP", "ptp": {"amount": "5", "date": "2024-02-30"}}, {"ptp.date"}),
        ({"outcome": "RPC", "result": "CB", "callback_at": _iso(_now() - dt.timedelta(hours=2))}, {"callback_at"}),
        ({"outcome": "RPC", "result": "CB", "callback_at": _iso(_now() + dt.timedelta(days=400))}, {"callback_at"}),
        ({"outcome": "RPC", "result": "CB", "callback_at": "2030-01-01T10:00:00"}, {"callback_at"}),  # naive
        ({"outcome": "XX"}, {"outcome"}),
        ({"channel": "pigeon"}, {"channel"}),
        ({"reason": "bored"}, {"reason"}),
        ({"duration_s": -1}, {"duration_s"}),
        ({"duration_s": 10**10}, {"duration_s"}),
        ({"note": "x" * 4001}, {"note"}),
        ({"note": "bad\x00note"}, {"note"}),
        ({"started_at": _iso(_now() + dt.timedelta(minutes=5))}, {"started_at"}),
        ({"started_at": _iso(_now() - dt.timedelta(days=400))}, {"started_at"}),
        ({"started_at": "0001-01-01T00:30:00+01:00"}, {"started_at"}),
        ({"started_at": "2030-01-01T10:00:00"}, {"started_at"}),  # naive
        ({"channel": "letter", "callback_at": "9999-12-31T23:59:59-23:59", "outcome": "RPC", "result": "CB"},
         {"callback_at"}),
    ]
    for change, blamed in cases:
        body = problem(await _log(http, headers, account.id, **change), 422)
        assert body["fields"] == blamed, (change, body)
    assert count(Contact, Contact.account_id == account.id) == 0


async def test_a_call_back_is_kept_in_utc(http, auth, make_account, open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone)  # an email is held to the call window too
    at = (_now() + dt.timedelta(days=1)).replace(microsecond=0).astimezone(dt.timezone(dt.timedelta(hours=8)))
    body = (await _log(http, await auth("agent1"), account.id, channel="email", outcome="RPC", result="CB",
                       callback_at=at.isoformat())).json()
    assert dt.datetime.fromisoformat(body["callback_at"]) == at


async def test_outside_the_call_window_now_is_409_naming_the_rule(http, auth, make_account, closed_zone, problem,
                                                                  count) -> None:  # noqa: ANN001
    account = make_account(timezone=closed_zone)
    headers = await auth("agent1")
    body = problem(await _log(http, headers, account.id), 409)
    assert body["rule"] == "call-window"
    assert dt.datetime.fromisoformat(body["until"]) > _now()
    assert count(Contact, Contact.account_id == account.id) == 0
    # Inbound calls and other channels are not outbound calls.
    assert (await _log(http, headers, account.id, direction="inbound")).status_code == 201
    assert (await _log(http, headers, account.id, channel="letter")).status_code == 201


async def test_after_the_fact_breach_is_kept_and_flagged(http, auth, make_account, closed_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=closed_zone)
    # Ten minutes ago it was (about) 3 a.m. there too: outside the window, but logged after the fact.
    response = await _log(http, await auth("agent1"), account.id, started_at=_iso(_now() - dt.timedelta(minutes=10)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["after_the_fact"] is True and body["breach"] is True and body["breach_rules"] == ["call-window"]


async def test_paused_and_ceased_accounts_refuse_calls_now(http, auth, make_account, open_zone, problem) -> None:  # noqa: ANN001
    paused = make_account(timezone=open_zone)
    ceased = make_account(timezone=open_zone)
    admin = await auth("admin")
    for account, flags in ((paused, {"bankruptcy": True}), (ceased, {"cease": ["phone"]})):
        version = (await http.get(f"/api/v1/accounts/{account.id}", headers=admin)).json()["version"]
        r = await http.patch(f"/api/v1/accounts/{account.id}", json={"flags": flags},
                             headers={**admin, "If-Match": str(version)})
        assert r.status_code == 200
    headers = await auth("agent1")
    assert problem(await _log(http, headers, paused.id), 409)["rule"] == "pause-bankruptcy"
    assert problem(await _log(http, headers, ceased.id), 409)["rule"] == "cease"
    assert (await _log(http, headers, ceased.id, channel="email")).status_code == 201


async def test_idempotency_key_retry_answers_the_first_response_once(http, auth, make_account, count) -> None:  # noqa: ANN001
    account = make_account()
    headers = {**await auth("agent1"), "Idempotency-Key": "desk-draft-41"}
    body = {"channel": "letter", "outcome": "RPC", "result": "PTP", "identity_verified": True, "disclosure_given": True,
            "ptp": {"amount": "20.00", "date": str(_today() + dt.timedelta(days=2))}}
    first = await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=headers)
    audits = count(AuditEntry, AuditEntry.entity == "contact")
    for _ in range(3):
        again = await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=headers)
        assert again.status_code == first.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count(Contact, Contact.account_id == account.id) == 1
    assert count(AuditEntry, AuditEntry.entity == "contact") == audits
    # Without a key, or with another key, it is another contact.
    await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers={**headers, "Idempotency-Key": "other"})
    no_key = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
    await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=no_key)
    assert count(Contact, Contact.account_id == account.id) == 3


async def test_idempotency_keys_are_scoped_to_user_and_route(http, auth, make_account, count) -> None:  # noqa: ANN001
    first, second = make_account(), make_account()
    key = {"Idempotency-Key": "same-key"}
    agent1, agent2 = {**await auth("agent1"), **key}, {**await auth("agent2"), **key}
    contact = {"channel": "letter", "outcome": "NA"}
    a = await http.post(f"/api/v1/accounts/{first.id}/contacts", json=contact, headers=agent1)
    b = await http.post(f"/api/v1/accounts/{first.id}/contacts", json=contact, headers=agent2)  # another user
    c = await http.post(f"/api/v1/accounts/{second.id}/contacts", json=contact, headers=agent1)  # another route
    d = await http.post(f"/api/v1/accounts/{first.id}/notes", json={"text": "hello"}, headers=agent1)  # another route
    assert [r.status_code for r in (a, b, c, d)] == [201, 201, 201, 201]
    assert len({a.json()["id"], b.json()["id"], c.json()["id"]}) == 3
    assert count(Contact) == 3 and count(Note) == 1


async def test_idempotency_keys_expire_after_a_day(http, auth, session, make_account, count) -> None:  # noqa: ANN001
    account = make_account()
    headers = {**await auth("agent1"), "Idempotency-Key": "yesterday"}
    await _log(http, headers, account.id, channel="letter")
    session.execute(update(IdempotencyKey).values(created_at=_now() - dt.timedelta(hours=25)))
    session.commit()
    again = await _log(http, headers, account.id, channel="letter")
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert count(Contact, Contact.account_id == account.id) == 2


async def test_a_refused_request_is_not_remembered(http, auth, make_account, count, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = {**await auth("agent1"), "Idempotency-Key": "fix-and-retry"}
    problem(await _log(http, headers, account.id, channel="letter", outcome="RPC"), 422)
    fixed = await _log(http, headers, account.id, channel="letter", outcome="RPC", result="RTP")
    assert fixed.status_code == 201 and fixed.json()["result"] == "RTP"
    assert count(IdempotencyKey) == 1


async def test_bad_idempotency_keys_are_422(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    for key in (b"", b"x" * 129, b"a\x01b", b"tab\there"):
        body = problem(await _log(http, {**headers, "Idempotency-Key": key}, account.id, channel="letter"), 422)
        assert body["fields"] == {"Idempotency-Key"}


async def test_notes(http, auth, make_account, problem, count, new_audit) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent2")  # a colleague in the same team
    response = await http.post(f"/api/v1/accounts/{account.id}/notes", json={"text": "Customer prefers mornings. 早上好"},
                               headers=headers)
    assert response.status_code == 201
    note = response.json()
    assert (note["account_id"], note["author"], note["text"]) == (account.id, "agent2", "Customer prefers mornings. 早上好")
    assert dt.datetime.fromisoformat(note["created_at"]).tzinfo is not None
    for bad, field in (({"text": ""}, "text"), ({"text": "x" * 4001}, "text"), ({"text": "\x00"}, "text"), ({}, "text"),
                       ({"text": 5}, "text")):
        assert problem(await http.post(f"/api/v1/accounts/{account.id}/notes", json=bad, headers=headers), 422)["fields"] == {field}
    problem(await http.post("/api/v1/accounts/999999/notes", json={"text": "x"}, headers=headers), 404)
    assert count(Note, Note.account_id == account.id) == 1
    assert len(new_audit(entity="note", entity_id=note["id"], action="create")) == 1


async def test_timeline_is_newest_first(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    for minutes in (50, 10, 30):  # logged out of order, after the fact
        r = await _log(http, headers, account.id, channel="letter", note=f"{minutes} min ago",
                       started_at=_iso(_now() - dt.timedelta(minutes=minutes)))
        assert r.status_code == 201, r.text
    await http.post(f"/api/v1/accounts/{account.id}/notes", json={"text": "a note just now"}, headers=headers)
    response = await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["kind"] for i in items] == ["note", "contact", "contact", "contact"]
    assert [i["contact"]["note"] for i in items[1:]] == ["10 min ago", "30 min ago", "50 min ago"]
    moments = [dt.datetime.fromisoformat(i["at"]) for i in items]
    assert moments == sorted(moments, reverse=True) and all(m.tzinfo is not None for m in moments)
    assert items[0]["note"]["text"] == "a note just now" and items[0]["actor"] == "agent1"
    assert items[1]["summary"] == "letter outbound NA"
    limited = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers, params={"limit": 2})).json()
    assert [i["id"] for i in limited["items"]] == [i["id"] for i in items[:2]]


async def test_timeline_views_are_audited(http, auth, session, make_account, new_audit) -> None:  # noqa: ANN001
    account = make_account()
    await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=await auth("agent2"))
    agent2 = session.scalar(select(User.id).where(User.username == "agent2"))
    assert len(new_audit(user_id=agent2, entity="timeline", entity_id=account.id, action="view")) == 1


async def test_a_contact_changes_the_priority(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(dpd=90)
    headers = await auth("agent1")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()["priority"]
    await _log(http, headers, account.id, channel="letter")
    after = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert after["priority"] < before
    assert "worked_recently" in {r["code"] for r in after["reasons"]}
