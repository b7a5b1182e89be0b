"""No free-text field carries a card number anywhere (issue 15 item 1).

Every string field of every request body the OpenAPI schema declares (free text,
not an enum, a date or a pattern) is listed; each is sent, on a body otherwise
valid, holding a Luhn-valid card number written as people paste them (groups,
dots, slashes, no-break and zero-width spaces, full-width digits, newlines). Then
every row of every table, every answer, every log line, the PDF letters made from
what was stored and the CSV and Markdown exports of the cases report are searched
for the card's middle digits: none may hold them. A new route or field with free
text fails the test until it is walked here too.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import unicodedata
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from backend.app import create_app
from backend.domain.accounts import _groups
from backend.models import Base, Document, Plan
from config.settings import BackendSettings

CARD = "4539827361504820"  # Luhn-valid
WRITTEN = ["4539 8273 6150 4820", "4539.8273.6150.4820", "4539\u00a08273\u200b6150/4820", "４５３９８２７３６１５０４８２０",
           "4539-8273-\n6150-4820", "4539,8273,6150,4820"]
MIDDLE = CARD[6:-4]


def _schema() -> dict[str, Any]:
    return create_app(BackendSettings(db="sqlite:///:memory:")).openapi()


def _free_text(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> list[str]:
    comps = schema["components"]["schemas"]
    while "$ref" in node:
        node = comps[node["$ref"].split("/")[-1]]
    out: list[str] = []
    for alt in node.get("anyOf", []):
        out += _free_text(schema, alt, prefix)
    if node.get("type") == "object" or "properties" in node:
        for key, sub in node.get("properties", {}).items():
            out += _free_text(schema, sub, f"{prefix}.{key}" if prefix else key)
    elif node.get("type") == "array":
        out += _free_text(schema, node.get("items", {}), f"{prefix}[]")
    elif node.get("type") == "string" and not {"enum", "format", "const", "pattern"} & set(node):
        out.append(prefix)
    return sorted(set(out))


SCHEMA = _schema()
FIELDS = sorted(
    (method.upper(), path, field)
    for path, ops in SCHEMA["paths"].items() for method, op in ops.items()
    for field in _free_text(SCHEMA, op.get("requestBody", {}).get("content", {}).get("application/json", {})
                            .get("schema", {}))
)


def _set(body: dict, field: str, value: str) -> dict:
    """``body`` with ``field`` (``a.b``, ``phones[]``, ``phones[].number``) holding ``value``."""
    head, _, rest = field.partition(".")
    copy = dict(body)
    if head.endswith("[]"):
        key = head[:-2]
        items = list(copy.get(key) or [{}] if rest else copy.get(key) or [""])
        items[0] = _set(items[0], rest, value) if rest else value
        copy[key] = items
    elif rest:
        copy[head] = _set(copy.get(head) or {}, rest, value)
    else:
        copy[head] = value
    return copy


def _digits(blob: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in blob if c.isdecimal())


def _leaks(blob: str) -> bool:
    """Whether ``blob`` holds the card's middle digits in one run of digits (however
    they are broken up), escaped newlines read back as such."""
    blob = blob.replace("\\n", "\n").replace("\\\\n", "\n")
    return any(MIDDLE in "".join(group[2] for group in run) for run in _groups(blob))


def test_every_free_text_field_is_walked() -> None:
    """The walk below covers every free-text field the API takes (a new one must be added)."""
    assert {(m, p) for m, p, _f in FIELDS} <= set(BODIES), sorted({(m, p) for m, p, _f in FIELDS} - set(BODIES))


TODAY = dt.datetime.now(dt.UTC).date()
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/auth/login"): {"username": "agent1", "password": "agent1"},
    ("PATCH", "/api/v1/accounts/{account_id}"): {
        "email": "a@example.com", "address": "1 Main St", "timezone": "America/Chicago", "agent": "agent1",
        "team": "A", "flags": {"hardship": True}, "flags_note": "said so", "phones": [{"number": "+12125550100"}]},
    ("POST", "/api/v1/accounts"): {
        "account_ref": "WALK-{n}", "customer_name": "Walk Customer", "phones": ["+12125550100"],
        "email": "w@example.com", "address": "1 Main St", "country": "US", "region": "NY",
        "timezone": "America/New_York", "currency": "USD", "credit_limit": "5000.00", "balance": "1200.00",
        "overdue": "300.00", "minimum_due": "50.00", "dpd": 45, "card_number": "5425 2334 3010 9903", "team": "A",
        "agent": "agent1"},
    ("POST", "/api/v1/accounts/{account_id}/contacts"): {
        "channel": "phone", "direction": "inbound", "party": "debtor", "outcome": "RPC", "result": "PTP",
        "note": "promised", "ptp": {"amount": "10.00", "date": str(TODAY + dt.timedelta(days=3))},
        "used": "+12125550100", "identity_verified": True, "disclosure_given": True},
    ("POST", "/api/v1/accounts/{account_id}/notes"): {"text": "a note"},
    ("POST", "/api/v1/accounts/{account_id}/plans/preview"): {
        "kind": "promise", "amount": "10.00", "first_due": str(TODAY + dt.timedelta(days=3)), "note": "n"},
    ("POST", "/api/v1/accounts/{account_id}/plans"): {
        "kind": "promise", "amount": "10.00", "first_due": str(TODAY + dt.timedelta(days=3)), "note": "n"},
    ("POST", "/api/v1/plans/{plan_id}/submit"): {"note": "n"},
    ("POST", "/api/v1/plans/{plan_id}/approve"): {"note": "n"},
    ("POST", "/api/v1/plans/{plan_id}/reject"): {"note": "n"},
    ("POST", "/api/v1/plans/{plan_id}/cancel"): {"note": "n"},
    ("POST", "/api/v1/payments"): {"bank_ref": "WALK-PAY-{n}", "account_ref": "{account_ref}", "amount": "1.00",
                                   "currency": "USD", "paid_at": "{now}"},
    ("POST", "/api/v1/accounts/assign"): {"filter": {"q": "walk", "agent": "agent1", "team": "A"},
                                          "to_agent": "agent2", "note": "n"},
    ("POST", "/api/v1/accounts/assign/preview"): {"q": "walk", "agent": "agent1", "team": "A"},
    ("POST", "/api/v1/accounts/{account_id}/escalations"): {"kind": "supervisor", "reason": "r", "note": "n"},
    ("POST", "/api/v1/escalations/{escalation_id}/review"): {"note": "n"},
    ("POST", "/api/v1/escalations/{escalation_id}/accept"): {"note": "n"},
    ("POST", "/api/v1/escalations/{escalation_id}/return"): {"note": "n"},
    ("POST", "/api/v1/escalations/{escalation_id}/close"): {"note": "n"},
    ("POST", "/api/v1/segments"): {"name": "Walk {n}", "filter": {"team": "A"}, "to_agent": "agent2", "note": "n"},
    ("PATCH", "/api/v1/segments/{segment_id}"): {"name": "Walk {n}", "note": "n", "to_agent": "agent2"},
    ("POST", "/api/v1/accounts/{account_id}/handoff"): {"to_agent": "agent2", "note": "n"},
    ("POST", "/api/v1/treatments/pauses"): {"strategy": "champion", "step_id": "sms_1", "note": "n"},
}
AS = {"/api/v1/accounts": "admin", "/api/v1/payments": "admin", "/api/v1/plans/{plan_id}/approve": "super1",
      "/api/v1/plans/{plan_id}/reject": "super1", "/api/v1/accounts/assign": "super1",
      "/api/v1/accounts/assign/preview": "super1", "/api/v1/segments": "super1",
      "/api/v1/segments/{segment_id}": "super1", "/api/v1/escalations/{escalation_id}/review": "super1",
      "/api/v1/escalations/{escalation_id}/accept": "super1", "/api/v1/escalations/{escalation_id}/return": "super1",
      "/api/v1/escalations/{escalation_id}/close": "super1", "/api/v1/accounts/{account_id}": "admin",
      "/api/v1/treatments/pauses": "super1"}


def _filled(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, dict):
        return {k: _filled(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, names) for v in value]
    return value


async def test_no_free_text_field_carries_a_card_number_anywhere(http, auth, session, make_account, caplog) -> None:  # noqa: ANN001, C901
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    n = 0

    async def send(method: str, url: str, user: str, body: dict, **headers: str):  # noqa: ANN202
        r = await http.request(method, url, json=body, headers={**await auth(user), **headers})
        assert r.status_code < 500, (method, url, r.text)
        answers.append(r.text)
        return r

    async def state(path: str) -> dict[str, str]:
        """A fresh account (and what the route acts on) for one request."""
        account = make_account(account_ref=f"WALK-A{n:04d}", agent="agent1", dpd=95, balance="1200.00",
                               overdue="300.00")
        names = {"account_id": str(account.id), "account_ref": account.account_ref, "n": str(n),
                 "now": dt.datetime.now(dt.UTC).isoformat()}
        agent = await auth("agent1")
        if "{plan_id}" in path:
            pending = path.endswith(("/approve", "/reject"))
            body = ({"kind": "settlement", "discount_percent": "25", "first_due": str(TODAY + dt.timedelta(days=5))}
                    if pending else {"kind": "promise", "amount": "10.00", "first_due": str(TODAY + dt.timedelta(days=3))})
            plan = (await http.post(f"/api/v1/accounts/{account.id}/plans", json=body, headers=agent)).json()
            if pending:
                await http.post(f"/api/v1/plans/{plan['id']}/submit", json={"note": ""}, headers=agent)
            names["plan_id"] = str(plan["id"])
        if "{escalation_id}" in path:
            esc = (await http.post(f"/api/v1/accounts/{account.id}/escalations", headers=agent,
                                   json={"kind": "supervisor", "reason": "r"})).json()
            boss = await auth("super1")
            if path.endswith(("/accept", "/return", "/close")):
                await http.post(f"/api/v1/escalations/{esc['id']}/review", json={"note": ""}, headers=boss)
            if path.endswith("/close"):
                await http.post(f"/api/v1/escalations/{esc['id']}/accept", json={"note": "ok"}, headers=boss)
            names["escalation_id"] = str(esc["id"])
        if "{segment_id}" in path:
            seg = (await http.post("/api/v1/segments", headers=await auth("super1"),
                                   json={"name": f"Walk seg {n}", "filter": {"team": "A"}})).json()
            names["segment_id"] = str(seg["id"])
        return names

    for method, path, field in FIELDS:
        for written in WRITTEN:
            n += 1
            names = await state(path)
            body = _set(_filled(BODIES[(method, path)], names), field, f"pasted {written} here")
            url = path.format(**names)
            user = AS.get(path, "agent1")
            headers = {"Idempotency-Key": f"walk-{n}"}
            if method == "PATCH" and "{account_id}" in path:
                headers["If-Match"] = str((await http.get(url, headers=await auth("admin"))).json()["version"])
            await send(method, url, user, body, **headers)

    # Letters made from what was stored, and the exports of the cases report.
    admin = await auth("admin")
    for (account_id,) in session.execute(text("SELECT id FROM accounts WHERE account_ref LIKE 'WALK-A%' LIMIT 3")):
        r = await http.post(f"/api/v1/accounts/{account_id}/documents", json={"kind": "contact_history"},
                            headers=admin)
        assert r.status_code == 201, r.text
    for doc in session.scalars(select(Document).where(Document.format == "pdf")):
        pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(doc.content)).pages)
        assert not _leaks(pdf), doc.name
    from backend_client.models import CasesReport
    from backend_client.report_format import format_cases

    cases = CasesReport.model_validate((await http.get("/api/v1/reports/cases", headers=await auth("super1"))).json())
    for fmt in ("csv", "md"):
        assert not _leaks(format_cases(cases, fmt)), fmt
    # Nothing anywhere holds the card's middle digits.
    leaked = [a[:300] for a in answers if _leaks(a)]
    assert leaked == [], "\n".join(leaked)
    assert [line for line in caplog.text.splitlines() if _leaks(line)] == []
    for table in Base.metadata.sorted_tables:
        if table.name == "documents":
            continue  # the PDFs are read above; their bytes are compressed
        rows = session.execute(text(f"SELECT * FROM {table.name}")).all()
        assert not _leaks(repr(rows)), table.name
    assert session.scalar(select(Plan.id).limit(1)) is not None  # the walk reached the services


@pytest.mark.parametrize("written", WRITTEN)
def test_each_written_form_is_a_card(written: str) -> None:
    from backend.domain.accounts import mask_card_numbers

    assert _digits(mask_card_numbers(written)) == CARD[:6] + CARD[-4:]
