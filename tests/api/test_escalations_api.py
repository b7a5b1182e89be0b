"""Escalations and documents through the HTTP API (SPEC §3, §5; issue 5, items 1
and 2): the workflow by the right roles, queues by kind, the legal referral's
preconditions named in ``missing``, complaints and disputes pausing collection,
and generated documents (a Chinese demand letter read back from its PDF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from sqlalchemy import select, update

from backend.models import Contact, Document, Escalation, User

CHINESE = {
    "customer_name": "王小明", "phones": ["+8613800138000"], "country": "CN", "region": None,
    "timezone": "Asia/Shanghai", "currency": "CNY", "address": "北京市朝阳区建国路1号", "email": "wxm@example.cn",
}


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _escalate(http, headers, account_id: int, kind: str, reason: str = "needs a decision", **extra):  # noqa: ANN001, ANN003, ANN202
    return await http.post(f"/api/v1/accounts/{account_id}/escalations",
                           json={"kind": kind, "reason": reason, **extra}, headers=headers)


async def _act(http, headers, escalation_id: int, action: str, note: str = ""):  # noqa: ANN001, ANN202
    return await http.post(f"/api/v1/escalations/{escalation_id}/{action}", json={"note": note}, headers=headers)


def _attempts(session, account_id: int, n: int, days_ago: int = 20) -> None:  # noqa: ANN001
    """``n`` outbound attempts on record, a day apart (straight into the table: the
    compliance rules on logging them are tested elsewhere)."""
    agent = session.scalar(select(User.id).where(User.username == "agent1"))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    for i in range(n):
        session.add(Contact(account_id=account_id, agent_id=agent, channel="phone", direction="outbound",
                            party="debtor", outcome="NA", started_at=start + dt.timedelta(days=i), note=""))
    session.commit()


def _backdate_letters(session, account_id: int, days: int) -> None:  # noqa: ANN001
    """The letters sent on the account, as if sent ``days`` ago (their contacts and documents)."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    session.execute(update(Document).where(Document.account_id == account_id, Document.kind == "demand_letter")
                    .values(created_at=then))
    session.execute(update(Contact).where(Contact.account_id == account_id, Contact.channel == "letter")
                    .values(started_at=then))
    session.commit()


async def _send_letter(http, headers, account_id: int) -> dict:  # noqa: ANN001
    r = await http.post(f"/api/v1/accounts/{account_id}/letters", json={"kind": "demand_letter"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_supervisor_escalation_goes_open_in_review_accepted_closed(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    agent, supervisor, legal = await auth("agent1"), await auth("super1"), await auth("legal1")
    r = await _escalate(http, agent, account.id, "supervisor", "customer asks for a manager", note="called twice")
    assert r.status_code == 201, r.text
    esc = r.json()
    assert (esc["status"], esc["queue"], esc["kind"], esc["created_by"]) == ("open", "supervisor", "supervisor", "agent1")
    assert [e["status"] for e in esc["events"]] == ["open"] and esc["documents"] == []

    queue = (await http.get("/api/v1/escalations", params={"status": "open"}, headers=supervisor)).json()["items"]
    assert esc["id"] in [e["id"] for e in queue]
    legal_queue = (await http.get("/api/v1/escalations", headers=legal)).json()["items"]
    assert esc["id"] not in [e["id"] for e in legal_queue]
    mine = (await http.get("/api/v1/escalations", params={"kind": "supervisor"}, headers=agent)).json()["items"]
    assert [e["id"] for e in mine] == [esc["id"]]

    assert (await _act(http, agent, esc["id"], "accept")).status_code == 403
    assert (await _act(http, legal, esc["id"], "review")).status_code == 403
    r = await _act(http, supervisor, esc["id"], "review")
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    assert (await _act(http, supervisor, esc["id"], "review")).status_code == 409
    r = await _act(http, supervisor, esc["id"], "accept", "spoke to the customer")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"], r.json()["decision_note"]) == (
        "accepted", "super1", "spoke to the customer")
    r = await _act(http, supervisor, esc["id"], "close")
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_at"]
    assert [e["status"] for e in r.json()["events"]] == ["open", "in_review", "accepted", "closed"]

    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    assert [e["data"]["status"] for e in timeline if e["kind"] == "escalation"] == [
        "closed", "accepted", "in_review", "open"]


async def test_a_returned_escalation_needs_a_note_and_its_raiser_closes_it(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    agent, supervisor = await auth("agent1"), await auth("super1")
    esc = (await _escalate(http, agent, account.id, "hardship", "lost job")).json()
    assert esc["queue"] == "supervisor"
    body = problem(await _act(http, supervisor, esc["id"], "return"), 422)
    assert body["fields"] == {"note"}
    r = await _act(http, supervisor, esc["id"], "return", "send the income proof first")
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert (await _act(http, supervisor, esc["id"], "accept")).status_code == 409
    r = await _act(http, agent, esc["id"], "close")
    assert r.status_code == 200 and r.json()["status"] == "closed"


async def test_one_undecided_escalation_of_a_kind_per_account(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    agent = await auth("agent1")
    assert (await _escalate(http, agent, account.id, "fraud")).status_code == 201
    problem(await _escalate(http, agent, account.id, "fraud"), 409)
    assert (await _escalate(http, agent, account.id, "agency")).status_code == 201


async def test_another_teams_account_and_escalation_are_not_found(http, auth, make_account, problem) -> None:  # noqa: ANN001
    theirs = make_account(team="B", agent="agent3")
    ours = make_account()
    problem(await _escalate(http, await auth("agent1"), theirs.id, "supervisor"), 404)
    esc = (await _escalate(http, await auth("agent3"), theirs.id, "supervisor")).json()
    supervisor = await auth("super1")  # team A
    problem(await http.get(f"/api/v1/escalations/{esc['id']}", headers=supervisor), 404)
    problem(await _act(http, supervisor, esc["id"], "accept"), 404)
    queue = (await http.get("/api/v1/escalations", headers=supervisor)).json()["items"]
    assert esc["id"] not in [e["id"] for e in queue]
    problem(await _escalate(http, await auth("trainer1"), ours.id, "supervisor"), 403)
    problem(await http.get(f"/api/v1/accounts/{theirs.id}/documents", headers=await auth("agent1")), 404)


async def test_a_legal_referral_names_each_missing_precondition(http, auth, make_account, session, problem) -> None:  # noqa: ANN001
    account = make_account(dpd=35)
    agent = await auth("agent1")
    body = problem(await _escalate(http, agent, account.id, "legal", "no payment for months"), 409)
    missing = body["missing"]
    assert len(missing) == 3, missing
    assert "days past due: 35" in missing[0] and "90" in missing[0]
    assert "contact attempts: 0" in missing[1] and "6" in missing[1]
    assert "demand letter: none sent" in missing[2] and "14" in missing[2]
    assert session.scalar(select(Escalation.id).where(Escalation.account_id == account.id)) is None
    r = await http.get(f"/api/v1/accounts/{account.id}/escalations/check", params={"kind": "legal"}, headers=agent)
    assert r.status_code == 200 and r.json() == {"kind": "legal", "ready": False, "missing": missing}

    ready = make_account(dpd=120)
    _attempts(session, ready.id, 5)
    # A letter only generated was never sent: it does not count.
    r = await http.post(f"/api/v1/accounts/{ready.id}/documents", json={"kind": "demand_letter"}, headers=agent)
    assert r.status_code == 201, r.text
    missing = problem(await _escalate(http, agent, ready.id, "legal"), 409)["missing"]
    assert "demand letter: none sent" in missing[-1]
    await _send_letter(http, agent, ready.id)  # the letter is an attempt too: 6 now
    missing = problem(await _escalate(http, agent, ready.id, "legal"), 409)["missing"]
    assert len(missing) == 1 and "sent 0 days ago" in missing[0]
    _backdate_letters(session, ready.id, 15)
    r = await http.get(f"/api/v1/accounts/{ready.id}/escalations/check", headers=agent)
    assert r.json() == {"kind": "legal", "ready": True, "missing": []}
    r = await _escalate(http, agent, ready.id, "legal", "no payment for months")
    assert r.status_code == 201, r.text
    esc = r.json()
    assert esc["queue"] == "legal"
    assert sorted(d["name"] for d in esc["documents"]) == sorted(
        f"{k}.{f}" for k in ("demand_letter", "statement", "contact_history", "plan_history") for f in ("md", "pdf"))

    supervisor, legal = await auth("super1"), await auth("legal1")
    assert esc["id"] not in [e["id"] for e in (await http.get("/api/v1/escalations", headers=supervisor)).json()["items"]]
    assert esc["id"] in [e["id"] for e in (await http.get("/api/v1/escalations", params={"kind": "legal"},
                                                          headers=legal)).json()["items"]]
    problem(await _act(http, supervisor, esc["id"], "accept"), 403)
    r = await _act(http, legal, esc["id"], "accept", "proceedings to be filed")
    assert r.status_code == 200 and r.json()["status"] == "accepted"

    r = await http.get(f"/api/v1/escalations/{esc['id']}/documents/contact_history.md", headers=legal)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert "Outbound contact attempts on record: **6**" in r.text
    r = await http.get(f"/api/v1/escalations/{esc['id']}/documents/statement.pdf", headers=legal)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    problem(await http.get(f"/api/v1/escalations/{esc['id']}/documents/contract.pdf", headers=legal), 404)


async def test_a_complaint_pauses_collection_until_it_is_closed(http, auth, make_account, open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone)
    agent, supervisor = await auth("agent1"), await auth("super1")

    async def rules() -> set[str]:
        r = await http.get(f"/api/v1/accounts/{account.id}/compliance", headers=agent)
        assert r.status_code == 200, r.text
        return {b["rule"] for b in r.json()["blocks"]}

    assert "pause-complaint" not in await rules()
    esc = (await _escalate(http, agent, account.id, "complaint", "rude call")).json()
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    assert detail["flags"]["complaint"] is True and detail["contactable_now"] is False
    verdict = (await http.get(f"/api/v1/accounts/{account.id}/compliance", headers=agent)).json()
    assert verdict["allowed"] is False and "pause-complaint" in await rules()
    await _act(http, supervisor, esc["id"], "review")
    await _act(http, supervisor, esc["id"], "accept", "apology sent")
    assert "pause-complaint" in await rules()
    await _act(http, supervisor, esc["id"], "close")
    assert "pause-complaint" not in await rules()
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]["complaint"] is False


async def test_a_dispute_pauses_collection_until_it_is_reviewed(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    agent, supervisor = await auth("agent1"), await auth("super1")
    esc = (await _escalate(http, agent, account.id, "dispute", "merchant never delivered")).json()
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]["dispute"] is True
    await _act(http, supervisor, esc["id"], "review")
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]["dispute"] is True
    await _act(http, supervisor, esc["id"], "return", "the charge is valid; receipt attached")
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]["dispute"] is False


async def test_documents_are_stored_listed_and_on_the_timeline(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(dpd=95, balance="1234.50", overdue="456.70")
    agent = await auth("agent1")
    made = {}
    for kind in ("demand_letter", "statement", "contact_history", "plan_history"):
        r = await http.post(f"/api/v1/accounts/{account.id}/documents", json={"kind": kind, "format": "md"},
                            headers=agent)
        assert r.status_code == 201, r.text
        made[kind] = r.json()
        assert made[kind]["lang"] == "en" and made[kind]["name"] == f"{kind}.md"
    listed = (await http.get(f"/api/v1/accounts/{account.id}/documents", headers=agent)).json()["items"]
    assert {d["id"] for d in listed} == {d["id"] for d in made.values()}
    letter = made["demand_letter"]
    r = await http.get(letter["url"], headers=agent)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == letter["sha256"]
    text = r.text
    # Art. 69: name, amount due, reason and legal basis, rights and duties, how to check/repay/dispute, contact.
    # A US customer: no jurisdiction's rules named but the agreement and its law (issue 17 item 4).
    for needed in ("Customer 1", "$456.70", "$1,234.50", "95 days past due",
                   "cardholder agreement and the law that governs it", "Your rights and your duties",
                   "How to check your account, repay or dispute", "+1 800 555 0100", "•••• •••• •••• 1111"):
        assert needed in text, needed
    assert "4111111111111111" not in text and "411111" not in text
    timeline = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    docs = [e for e in timeline if e["kind"] == "escalation" and "document_id" in e["data"]]
    assert {e["data"]["document_id"] for e in docs} == {d["id"] for d in made.values()}


async def test_a_chinese_demand_letter_pdf_shows_the_chinese_name(http, auth, make_account, login) -> None:  # noqa: ANN001
    from backend_client.models import DocumentCreate

    account = make_account(dpd=100, balance="8800.00", overdue="3200.00", **CHINESE)
    api = await login("agent1")
    doc = await api.make_document(account.id, DocumentCreate(kind="demand_letter"))
    assert doc.lang == "zh_CN" and doc.format == "pdf" and doc.media_type == "application/pdf"
    data = await api.document_bytes(doc)
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == doc.sha256
    text = _pdf_text(data).replace("\n", "")
    assert "王小明" in text and "催收函" in text and "第六十九条" in text
    assert "8,800.00" in text and "3,200.00" in text
    assert (await api.documents(account.id)).items[0].id == doc.id


async def test_a_flag_set_by_hand_outlives_other_escalations(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    agent, supervisor = await auth("agent1"), await auth("super1")
    r = await http.patch(f"/api/v1/accounts/{account.id}", json={"flags": {"dispute": True}},
                         headers={**agent, "If-Match": str(account.version)})
    assert r.status_code == 200, r.text
    esc = (await _escalate(http, agent, account.id, "complaint", "rude letter")).json()
    await _act(http, supervisor, esc["id"], "close")
    flags = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]
    assert flags["dispute"] is True and flags["complaint"] is False


async def test_the_demo_portfolio_has_referrals_ready_and_not_yet(http, auth, make_account, session) -> None:  # noqa: ANN001
    from backend.models import utcnow
    from backend.seed import seed_legal_demo

    accounts = [make_account(account_ref=f"LD-{n}", dpd=120, **CHINESE) for n in range(4)]
    assert seed_legal_demo(session, "LD-", utcnow(), ready=2, lacking=1) == 3
    session.commit()
    assert seed_legal_demo(session, "LD-", utcnow(), ready=2, lacking=1) == 0
    agent = await auth("agent1")
    r = await _escalate(http, agent, accounts[0].id, "legal", "六次催收无果")
    assert r.status_code == 201, r.text
    pdf = await http.get(f"/api/v1/escalations/{r.json()['id']}/documents/demand_letter.pdf", headers=await auth("legal1"))
    assert "王小明" in _pdf_text(pdf.content)
    missing = (await _escalate(http, agent, accounts[2].id, "legal")).json()["missing"]
    assert len(missing) == 2 and "contact attempts: 3" in missing[0] and "none sent" in missing[1]
    assert len((await _escalate(http, agent, accounts[3].id, "legal")).json()["missing"]) == 2


async def test_an_accepted_legal_referral_puts_the_account_in_legal_status(http, auth, make_account, session,  # noqa: ANN001
                                                                           problem) -> None:
    """Legal accepting a referral takes the account for proceedings (status ``legal``,
    a new version); a returned referral, and any other kind accepted, leave the
    status as it was, and so does closing the accepted referral later."""
    from backend.models import AuditEntry

    agent, legal, supervisor = await auth("agent1"), await auth("legal1"), await auth("super1")

    async def ready_referral() -> tuple[int, dict]:
        account = make_account(dpd=120)
        _attempts(session, account.id, 6)
        await _send_letter(http, agent, account.id)
        _backdate_letters(session, account.id, 15)
        r = await _escalate(http, agent, account.id, "legal", "no payment for months")
        assert r.status_code == 201, r.text
        return account.id, r.json()

    async def status_and_version(account_id: int) -> tuple[str, int]:
        body = (await http.get(f"/api/v1/accounts/{account_id}", headers=agent)).json()
        return body["status"], body["version"]

    returned_id, returned = await ready_referral()
    before = await status_and_version(returned_id)
    assert before[0] == "open"
    r = await _act(http, legal, returned["id"], "return", "the demand letter went to an old address")
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert await status_and_version(returned_id) == before
    assert (await _act(http, agent, returned["id"], "close")).status_code == 200
    assert (await status_and_version(returned_id))[0] == "open"

    accepted_id, accepted = await ready_referral()
    _status, version = await status_and_version(accepted_id)
    assert (await _act(http, legal, accepted["id"], "review")).status_code == 200
    assert (await status_and_version(accepted_id))[0] == "open"
    r = await _act(http, legal, accepted["id"], "accept", "proceedings to be filed")
    assert r.status_code == 200, r.text
    status, new_version = await status_and_version(accepted_id)
    assert status == "legal" and new_version > version
    legal_id = session.scalar(select(User.id).where(User.username == "legal1"))
    changes = session.scalars(select(AuditEntry).where(AuditEntry.entity == "account", AuditEntry.action == "update",
                                                       AuditEntry.entity_id == accepted_id)).all()
    assert [(a.user_id, a.detail.get("status"), a.detail.get("was")) for a in changes] == [(legal_id, "legal", "open")]
    assert (await _act(http, legal, accepted["id"], "close")).status_code == 200
    assert (await status_and_version(accepted_id))[0] == "legal"

    # Another kind, accepted, changes no status.
    other = make_account(dpd=120)
    esc = (await _escalate(http, agent, other.id, "supervisor", "asks for a manager")).json()
    assert (await _act(http, supervisor, esc["id"], "accept", "called back")).status_code == 200
    assert (await status_and_version(other.id))[0] == "open"
