"""``collectdesk report agent|team|portfolio|cases`` (issue 5, item 5): the same
figures as the API, as a table with bars and sparklines, CSV or Markdown."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from backend_client.report_format import bar, sparkline


@pytest.fixture
def worked(cli, migrated_url: str) -> str:  # noqa: ANN001
    """The demo users and two accounts of team A: agent1 reached the customer of
    the first (a promise of 100.00) after a no-answer; agent2 tried the second
    once, and its customer paid 500.00, the whole overdue amount (cured)."""
    run = cli("seed", "--accounts", "0", "--db", migrated_url)
    assert run.code == 0, run.err
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.models import Contact, User, utcnow
    from backend.services.accounts import create_account
    from backend.services.plans import record_payment
    from backend_client.models import AccountCreate, PaymentCreate

    engine = make_engine(migrated_url)
    now = utcnow()
    try:
        with Session(engine) as session:
            users = {u.username: u for u in session.scalars(select(User))}
            accounts = []
            for n, agent in ((1, "agent1"), (2, "agent2")):
                accounts.append(create_account(session, AccountCreate.model_validate({
                    "account_ref": f"R{n}", "customer_name": f"Customer {n}", "phones": ["+12125550100"],
                    "email": None, "address": "1 Main St, New York, NY", "country": "US", "timezone": "America/New_York",
                    "currency": "USD", "credit_limit": "5000.00", "balance": "1200.00", "overdue": "500.00",
                    "minimum_due": "500.00", "dpd": 40, "card_number": "4111111111111111", "team": "A",
                    "agent": agent}), None))
            session.flush()

            def contact(account, agent: str, outcome: str, minutes_ago: int, **extra: object) -> None:  # noqa: ANN001
                session.add(Contact(account_id=account.id, agent_id=users[agent].id, channel="phone",
                                    direction="outbound", party="debtor", outcome=outcome,
                                    started_at=now - dt.timedelta(minutes=minutes_ago), **extra))

            contact(accounts[0], "agent1", "NA", 30, duration_s=20)
            contact(accounts[0], "agent1", "RPC", 20, result="PTP", ptp_amount_minor=10000,
                    ptp_date=now.date() + dt.timedelta(days=3), duration_s=100, note="pays on Friday")
            contact(accounts[1], "agent2", "NA", 10)
            record_payment(session, users["admin"], PaymentCreate(bank_ref="B-1", account_ref="R2", amount="500.00",
                                                                  currency="USD", paid_at=now))
            session.commit()
    finally:
        engine.dispose()
    return migrated_url


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_agent_report_as_csv_by_name_never_by_amount(cli, worked: str) -> None:  # noqa: ANN001
    run = cli("report", "agent", "--format", "csv", "--db", worked)
    assert run.code == 0, run.err
    rows = _rows(run.out)
    assert [r["name"] for r in rows] == ["Agent One", "Agent Three", "Agent Two"]  # by name
    one, two = rows[0], rows[2]
    assert (one["attempts"], one["contacts"], one["right_party_contacts"], one["rpc_rate"]) == ("2", "1", "1", "0.5000")
    assert (one["promises"], one["promised"], one["collected"], one["average_handle_s"]) == ("1", "USD 100.00", "", "60.0")
    assert (two["attempts"], two["rpc_rate"], two["collected"], two["paying_accounts"]) == ("1", "0.0000", "USD 500.00", "1")
    assert one["attempts_by_day"].split() == ["0"] * 29 + ["2"]
    # Agent Two collected the most and is listed last: the order is not by amount collected.
    collected = [r["collected"] for r in rows]
    assert collected.index("USD 500.00") == 2


def test_agent_report_table_has_bars_and_sparklines(cli, worked: str) -> None:  # noqa: ANN001
    run = cli("report", "agent", "--days", "7", "--db", worked, "--as", "super1")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("Agents, team A: ") and lines[0].endswith("(7 days)")
    assert "never ranked by amount collected" in run.out
    one = next(line for line in lines if line.startswith("Agent One"))
    assert "███    50.0 %" in one and one.endswith("▁▁▁▁▁▁█")  # RPC rate bar; a week of attempts
    assert "Agent Three" not in run.out  # team B: not super1's


def test_team_and_portfolio_reports(cli, worked: str) -> None:  # noqa: ANN001
    teams = _rows(cli("report", "team", "--format", "csv", "--db", worked).out)
    a = next(t for t in teams if t["team"] == "A")
    assert (a["agents"], a["accounts"], a["attempts"], a["collected"]) == ("2", "2", "3", "USD 500.00")
    run = cli("report", "portfolio", "--format", "csv", "--db", worked, "--team", "A")
    assert run.code == 0, run.err
    rows = {r["bucket"]: r for r in _rows(run.out)}
    assert (rows["current"]["accounts"], rows["current"]["balance"]) == ("1", "USD 700.00")  # R2 paid its overdue
    assert (rows["30"]["accounts"], rows["30"]["balance"]) == ("1", "USD 1200.00")
    assert rows["all"]["accounts"] == "2"
    table = cli("report", "portfolio", "--db", worked).out
    assert "cure in the period: 1 of 2 accounts delinquent when it began are current now (50.0 %)" in table
    assert "█" in table


def test_cases_as_markdown_and_to_a_file(cli, worked: str, tmp_path: Path) -> None:  # noqa: ANN001
    out = tmp_path / "cases.md"
    run = cli("report", "cases", "--format", "md", "--output", str(out), "--db", worked, "--as", "legal1")
    assert run.code == 0, run.err
    assert run.out == "" and "report written to" in run.err
    text = out.read_text(encoding="utf-8")
    assert text.startswith("**Cases: ") and "## Successful cases (1)" in text
    assert "✔ cured: R2 Customer 2" in text and "cured from bucket 30 by a payment of USD 500.00 (B-1)" in text
    assert "## Difficult cases (0)" in text


def test_the_period_and_who_may_run_it(cli, worked: str) -> None:  # noqa: ANN001
    today = dt.datetime.now(dt.UTC).date()
    old = _rows(cli("report", "team", "--format", "csv", "--db", worked,
                    "--from", str(today - dt.timedelta(days=10)), "--to", str(today - dt.timedelta(days=5))).out)
    assert {t["attempts"] for t in old} == {"0"} and {t["collected"] for t in old} == {""}
    run = cli("report", "agent", "--db", worked, "--as", "agent1")
    assert run.code == 1 and "agent1 is an agent; reports are for supervisors" in run.err
    run = cli("report", "agent", "--db", worked, "--as", "super1", "--team", "B")
    assert run.code == 1 and "reports on their own team (A)" in run.err
    run = cli("report", "agent", "--db", worked, "--from", str(today), "--to", str(today - dt.timedelta(days=2)))
    assert run.code == 1 and "before" in run.err


def test_bars_and_sparklines() -> None:
    assert bar(1.0, 4) == "████" and bar(0.5, 4) == "██  " and bar(0.0, 4) == "    " and bar(None, 3) == "   "
    assert bar(0.5, 1) == "▌" and bar(0.125, 1) == "▏"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 0.5, 1.0]) == " ▅█" and sparkline([0, 0]) == "▁▁" and sparkline([]) == ""
