"""Letters sent (issue 14): the demand letter from an account, lawful before it goes,
recorded as a ``letter`` contact with its PDF kept; counted by the legal referral
once 14 days old and filed in the legal pack as it went; and a supervisor's batch
for a segment, a contact per account and one print file."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from backend.models import Account, Contact, Document
from tests.api.conftest import PLAN_NOW


async def _signed_in(http, user: str) -> dict:  # noqa: ANN001
    r = await http.post("/api/v1/auth/login", json={"username": user, "password": user})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _send(http, headers, account_id: int, **body):  # noqa: ANN001, ANN003, ANN202
    return await http.post(f"/api/v1/accounts/{account_id}/letters", json={"kind": "demand_letter", **body},
                           headers=headers)


async def _flag(http, headers, account_id: int, flags: dict) -> None:  # noqa: ANN001
    detail = (await http.get(f"/api/v1/accounts/{account_id}", headers=headers)).json()
    r = await http.patch(f"/api/v1/accounts/{account_id}", json={"flags": flags},
                         headers={**headers, "If-Match": str(detail["version"])})
    assert r.status_code == 200, r.text


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_demand_letter_is_sent_recorded_and_kept(http, auth, make_account, session, new_audit) -> None:  # noqa: ANN001
    account = make_account(dpd=95, customer_name="Rosa Delgado")
    agent = await auth("agent1")
    r = await _send(http, {**agent, "Idempotency-Key": "letter-1"}, account.id)
    assert r.status_code == 201, r.text
    contact = r.json()
    assert (contact["channel"], contact["direction"], contact["party"], contact["outcome"]) == (
        "letter", "outbound", "debtor", "LM")
    assert contact["used"] == "1 Main St, New York, NY" and contact["agent"] == "agent1"
    # Replayed: the same answer, no second letter.
    again = await _send(http, {**agent, "Idempotency-Key": "letter-1"}, account.id)
    assert again.json() == contact
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == account.id)) == 1
    # The PDF as it went out, retrievable; its text beside it for the pack.
    pdf = await http.get(f"/api/v1/documents/{contact['document_id']}", headers=agent)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Rosa Delgado" in _text(pdf.content)
    kinds = {(d.format, d.lang) for d in session.scalars(select(Document).where(Document.account_id == account.id))}
    assert kinds == {("pdf", "en"), ("md", "en")}
    # On the timeline: the contact and its document.
    items = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    assert [e["contact"]["document_id"] for e in items if e["kind"] == "contact"] == [contact["document_id"]]
    assert any(e["kind"] == "escalation" and e["data"].get("document_kind") == "demand_letter" for e in items)
    assert [e.entity_id for e in new_audit(entity="contact", action="create")] == [contact["id"]]


async def test_the_letter_is_in_the_customers_language(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(dpd=95, customer_name="王小明", country="CN", region=None,
                           address="上海市浦东新区世纪大道100号", timezone="Asia/Shanghai", currency="CNY")
    agent = await auth("agent1")
    r = await _send(http, agent, account.id)
    assert r.status_code == 201, r.text
    pdf = await http.get(f"/api/v1/documents/{r.json()['document_id']}", headers=agent)
    assert "王小明" in _text(pdf.content)


async def test_the_law_and_the_record_are_asked_first(http, auth, make_account, session, problem) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    ceased = make_account(dpd=95)
    await _flag(http, agent, ceased.id, {"cease": ["letter"]})
    body = problem(await _send(http, agent, ceased.id), 409)
    assert body["rule"] == "cease" and "letter" in body["detail"]
    paused = make_account(dpd=95)
    await _flag(http, agent, paused.id, {"dispute": True})
    assert problem(await _send(http, agent, paused.id), 409)["rule"] == "pause-dispute"
    # No address on record: nowhere to send it.
    homeless = make_account(dpd=95, address=None)
    body = problem(await _send(http, agent, homeless.id), 422)
    assert body["fields"] == {"address"}
    assert session.scalar(select(func.count()).select_from(Contact).where(
        Contact.account_id.in_((ceased.id, paused.id, homeless.id)))) == 0
    # Another team's account is not found; a trainer sends nothing.
    other = make_account(team="B", agent="agent3")
    problem(await _send(http, agent, other.id), 404)
    problem(await _send(http, await auth("trainer1"), ceased.id), 403)


async def test_fourteen_days_on_the_referral_is_accepted_with_the_letter_in_its_pack(
        http, auth, make_account, session, clock) -> None:  # noqa: ANN001
    account = make_account(dpd=120)
    agent1 = session.scalar(select(Account.agent_id).where(Account.id == account.id))
    for i in range(6):  # the attempts the referral needs, straight into the table
        session.add(Contact(account_id=account.id, agent_id=agent1, channel="phone", direction="outbound",
                            party="debtor", outcome="NA", started_at=PLAN_NOW - dt.timedelta(days=30 - i), note=""))
    session.commit()
    agent = await auth("agent1")
    sent = (await _send(http, agent, account.id)).json()
    r = await http.post(f"/api/v1/accounts/{account.id}/escalations", json={"kind": "legal", "reason": "no payment"},
                        headers=agent)
    assert r.status_code == 409 and "sent 0 days ago" in r.json()["missing"][0]
    clock.to(PLAN_NOW + dt.timedelta(days=14))
    agent = await _signed_in(http, "agent1")
    r = await http.post(f"/api/v1/accounts/{account.id}/escalations", json={"kind": "legal", "reason": "no payment"},
                        headers=agent)
    assert r.status_code == 201, r.text
    referral = r.json()["id"]
    legal = await _signed_in(http, "legal1")
    r = await http.post(f"/api/v1/escalations/{referral}/accept", json={"note": "file it"}, headers=legal)
    assert r.status_code == 200, r.text
    letter = session.get(Document, sent["document_id"])
    packed = await http.get(f"/api/v1/escalations/{referral}/documents/demand_letter.pdf", headers=legal)
    assert packed.status_code == 200
    assert hashlib.sha256(packed.content).hexdigest() == letter.sha256  # the very letter that went


async def test_a_supervisor_sends_a_segments_letters_in_one_batch(http, auth, make_account, session,
                                                                problem) -> None:  # noqa: ANN001
    agent, boss = await auth("agent1"), await auth("super1")
    ready = [make_account(dpd=333, customer_name=f"Batch Person {n}") for n in range(3)]
    ceased = make_account(dpd=334, customer_name="Ceased Person")
    await _flag(http, agent, ceased.id, {"cease": ["letter"]})
    make_account(dpd=10)  # not in the segment
    r = await http.post("/api/v1/segments", headers=boss, json={
        "name": "Letters 333", "filter": {"min_dpd": 333, "max_dpd": 335}})
    assert r.status_code == 201, r.text
    segment = r.json()["id"]
    problem(await http.post(f"/api/v1/segments/{segment}/letters", json={}, headers=agent), 403)
    r = await http.post(f"/api/v1/segments/{segment}/letters", json={}, headers={**boss, "Idempotency-Key": "run-1"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["sent"], run["skipped"], run["segment_name"], run["created_by"]) == (3, 1, "Letters 333", "super1")
    by_account = {i["account_id"]: i for i in run["items"]}
    assert by_account[ceased.id]["rule"] == "cease" and by_account[ceased.id]["contact_id"] is None
    for account in ready:
        item = by_account[account.id]
        contact = session.get(Contact, item["contact_id"])
        assert (contact.channel, contact.document_id, contact.agent.username) == ("letter", item["document_id"],
                                                                                 "super1")
    # Replayed: the same run, no second letter.
    again = await http.post(f"/api/v1/segments/{segment}/letters", json={}, headers={**boss, "Idempotency-Key": "run-1"})
    assert again.json() == run
    assert session.scalar(select(func.count()).select_from(Contact).where(
        Contact.account_id.in_([a.id for a in ready]))) == 3
    # One print file: every letter, each from a fresh sheet (an even number of pages before the next).
    printed = await http.get(run["print_file_url"], headers=boss)
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    text = _text(printed.content)
    assert all(f"Batch Person {n}" in text for n in range(3)) and "Ceased Person" not in text
    assert len(PdfReader(io.BytesIO(printed.content)).pages) % 2 == 0
    assert (await http.get(f"/api/v1/letter-runs/{run['id']}", headers=boss)).json() == run
    problem(await http.get(run["print_file_url"], headers=agent), 404)
