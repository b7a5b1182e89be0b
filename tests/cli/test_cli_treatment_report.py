"""``collectdesk report treatments`` (issue 20, item 5): the API's treatment report as
text, CSV or JSON, on treatment rows and payments seeded by hand (no SMTP, no gateway)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest


@pytest.fixture
def treated(cli, migrated_url: str) -> str:  # noqa: ANN001
    """Team A (the demo users). Champion sms_1: R1 sent 40 days ago, delivered, paid 3 days
    later (cured from 30); R2 sent 40 days ago, no receipt, paid on day 9 (within 30, not 7);
    R3 sent 2 days ago (every window not yet). Challenger email_1: R4 sent 40 days ago,
    nothing after; R5 skipped."""
    run = cli("seed", "--accounts", "0", "--db", migrated_url)
    assert run.code == 0, run.err
    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.models import AuditEntry, Payment, TreatmentSend, utcnow
    from backend.services.accounts import create_account
    from backend_client.models import AccountCreate

    engine = make_engine(migrated_url)
    now = utcnow()
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=2)
    try:
        with Session(engine) as session:
            acc = {}
            for n in range(1, 6):
                acc[n] = create_account(session, AccountCreate.model_validate({
                    "account_ref": f"R{n}", "customer_name": f"Customer {n}", "phones": ["+12125550100"],
                    "email": f"c{n}@example.com", "address": "1 Main St, New York, NY", "country": "US",
                    "timezone": "America/New_York", "currency": "USD", "credit_limit": "5000.00",
                    "balance": "1200.00", "overdue": "500.00", "minimum_due": "500.00", "dpd": 40,
                    "card_number": "4111111111111111", "team": "A", "agent": "agent1"}), None)
            session.flush()

            def send(n: int, strategy: str, step: str, channel: str, at: dt.datetime, status: str = "sent",
                     delivery: str | None = None) -> None:
                session.add(TreatmentSend(key=f"{acc[n].id}:{step}:x", account_id=acc[n].id, strategy=strategy,
                                          step_id=step, channel=channel, template=step, cycle_on=at.date(),
                                          due_on=at.date(), status=status, sent_at=at if status == "sent" else None,
                                          delivery=delivery, created_at=at, updated_at=at))

            def pay(n: int, at: dt.datetime, cured: bool = False) -> None:
                payment = Payment(bank_ref=f"P{n}", account_id=acc[n].id, amount_minor=50000, currency="USD",
                                  paid_at=at, balance_after_minor=70000)
                session.add(payment)
                session.flush()
                if cured:
                    session.add(AuditEntry(action="create", entity="payment", entity_id=payment.id,
                                           detail={"bucket_before": "30", "bucket": "current"}))

            send(1, "champion", "sms_1", "sms", old, delivery="delivered")
            pay(1, old + dt.timedelta(days=3), cured=True)
            send(2, "champion", "sms_1", "sms", old)
            pay(2, old + dt.timedelta(days=9))
            send(3, "champion", "sms_1", "sms", recent, delivery="delivered")
            send(4, "challenger", "email_1", "email", old)
            send(5, "challenger", "email_1", "email", old, status="skipped")
            session.commit()
    finally:
        engine.dispose()
    return migrated_url


def test_treatments_as_csv(cli, treated: str) -> None:  # noqa: ANN001
    run = cli("report", "treatments", "--days", "60", "--format", "csv", "--db", treated)
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert list(rows[0]) == ["scope", "step", "channel", "strategy", "measure", "count", "of", "not_yet", "rate_bp",
                             "difference_bp", "low_bp", "high_bp"]
    sms_1 = {r["measure"]: (r["count"], r["of"], r["not_yet"], r["rate_bp"]) for r in rows
             if r["scope"] == "step" and r["step"] == "sms_1" and r["strategy"] == "champion"}
    assert sms_1 == {
        "attempted": ("3", "", "", ""),
        "sent": ("3", "3", "0", "10000"),
        "delivered": ("2", "3", "0", "6667"),
        "opted_out": ("0", "2", "1", "0"),
        "paid_7d": ("1", "2", "1", "5000"),     # R2 paid on day 9
        "paid_30d": ("2", "2", "1", "10000"),
        "cured_30d": ("1", "2", "1", "5000"),
    }
    path = {r["measure"]: r for r in rows if r["scope"] == "path" and r["strategy"] == "challenger-champion"}
    assert path["paid_30d"]["difference_bp"] == "-10000"  # challenger 0 of 1, champion 2 of 2
    assert int(path["paid_30d"]["low_bp"]) <= -10000 + 9999 and path["paid_30d"]["high_bp"].lstrip("-").isdigit()
    assert path["sent"]["difference_bp"] == "-5000"  # 1 of 2 against 3 of 3


def test_treatments_as_text_and_json(cli, treated: str) -> None:  # noqa: ANN001
    run = cli("report", "treatments", "--days", "60", "--db", treated, "--as", "super1")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("Treatments measured: ") and lines[0].endswith(", team A")
    assert "Paths as a whole (their entry steps)" in lines
    start = lines.index("Step sms_1 (sms; entry of champion)")
    block = lines[start:start + 9]
    assert block[1].split() == ["champion", "challenger"]
    assert block[2].split() == ["attempted", "3"]
    assert block[5].split()[:5] == ["opted", "out", "30d", "0/2", "0.0"] and block[5].endswith("(+1)")
    assert block[6].split() == ["paid", "7d", "1/2", "50.0", "%", "(+1)"]
    paths = lines[lines.index("Paths as a whole (their entry steps)"):start]
    sent = next(line for line in paths if line.startswith("sent"))
    assert "3/3 100.0 %" in sent and "1/2 50.0 %" in sent and "-50.0 (" in sent
    assert any(line.startswith("Nothing settled in the period: ") and "demand_60" in line for line in lines)
    assert max(len(line) for line in lines) <= 80  # at these counts, 80 columns
    body = json.loads(cli("report", "treatments", "--from", (dt.date.today() - dt.timedelta(days=59)).isoformat(),
                          "--format", "json", "--db", treated).out)
    assert {p["strategy"] for p in body["paths"]} == {"champion", "challenger"}
    assert body["comparisons"][0]["step_id"] is None


def test_treatments_who_and_which_period(cli, treated: str) -> None:  # noqa: ANN001
    run = cli("report", "treatments", "--db", treated, "--as", "agent1")
    assert run.code == 1 and "reports are for supervisors" in run.err
    run = cli("report", "treatments", "--db", treated, "--as", "super1", "--team", "B")
    assert run.code == 1 and "own team (A)" in run.err
    with pytest.raises(SystemExit):
        cli("report", "treatments", "--days", "5", "--from", "2026-01-01", "--db", treated)
    # The last 30 days hold R3 alone, none of whose windows has passed.
    rows = list(csv.DictReader(io.StringIO(cli("report", "treatments", "--format", "csv", "--db", treated).out)))
    paid = next(r for r in rows if r["scope"] == "step" and r["step"] == "sms_1" and r["strategy"] == "champion"
                and r["measure"] == "paid_7d")
    assert (paid["count"], paid["of"], paid["not_yet"], paid["rate_bp"]) == ("0", "0", "1", "")
