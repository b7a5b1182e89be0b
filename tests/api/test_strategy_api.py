"""The ranked worklist explained (issue 6): the score from each account's own
history, reasons in words, champion and challenger side by side and compared."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from backend.domain.strategy import side_of
from backend.models import Account

HISTORY = {"limit": 50000, "status": [4, 3, 2, 2, 0, 0], "bill": [49000, 48000, 47000, 46000, 45000, 44000],
           "paid": [0, 0, 1000, 0, 2000, 2000], "currency": "TWD"}
GOOD = {"limit": 50000, "status": [-1, -1, -1, -1, -1, -1], "bill": [9000, 8000, 7000, 6000, 5000, 4000],
        "paid": [9000, 8000, 7000, 6000, 5000, 4000], "currency": "TWD"}


def _with_history(session, make_account, history: dict, **row):  # noqa: ANN001, ANN003, ANN202
    from backend.services.ranking import refresh_priority

    account = make_account(**row)
    account.history = history
    session.flush()
    refresh_priority(session, account)
    session.commit()
    return account


async def test_the_top_of_the_worklist_is_explained_in_words(http, auth, make_account, session) -> None:  # noqa: ANN001
    risky = _with_history(session, make_account, HISTORY, dpd=125, overdue="900.00", agent="agent2")
    steady = _with_history(session, make_account, GOOD, dpd=35, overdue="900.00", agent="agent2")
    items = (await http.get("/api/v1/worklist", headers=await auth("agent2"))).json()["items"]
    by_id = {i["id"]: i for i in items}
    words = [r["text"] for r in by_id[risky.id]["reasons"]]
    assert "4 months late now" in words and "125 days past due" in words
    assert any(r["code"] == "expected_recovery" for r in by_id[risky.id]["reasons"])
    # The same overdue amount, far likelier to be paid: ranked higher.
    assert by_id[steady.id]["priority"] > by_id[risky.id]["priority"]
    session.expire_all()
    stored = session.scalar(select(Account).where(Account.id == risky.id))
    assert 0.5 < stored.risk < 1 and stored.strategy in ("champion", "challenger")
    assert stored.strategy == side_of(stored.account_ref, 20)


async def test_champion_and_challenger_compared(http, auth, make_account, session) -> None:  # noqa: ANN001
    made = [make_account(account_ref=f"CC{n:05d}", agent="agent2") for n in range(40)]
    sides = {a.id: side_of(a.account_ref, 20) for a in made}
    assert set(sides.values()) == {"champion", "challenger"}
    agent = await auth("agent2")
    challenger = next(a for a in made if sides[a.id] == "challenger")
    r = await http.post(f"/api/v1/accounts/{challenger.id}/contacts", headers=agent, json={
        "channel": "letter", "outcome": "RPC", "result": "PTP", "identity_verified": True, "disclosure_given": True,
        "ptp": {"amount": "25.00", "date": str(dt.date.today() + dt.timedelta(days=3))}})
    assert r.status_code == 201, r.text
    report = (await http.get("/api/v1/reports/strategies", headers=await auth("super1"))).json()
    rows = {row["strategy"]: row for row in report["strategies"]}
    assert rows["champion"]["accounts"] >= list(sides.values()).count("champion")
    assert rows["challenger"]["accounts"] >= list(sides.values()).count("challenger")
    assert rows["challenger"]["promises"] >= 1 and rows["challenger"]["right_party_contacts"] >= 1
    assert {"USD"} <= {m["currency"] for m in rows["challenger"]["promised"]}
    assert (await http.get("/api/v1/reports/strategies", headers=agent)).status_code == 403


async def test_a_payment_reaches_the_score_and_its_reasons(http, auth, make_account, session) -> None:  # noqa: ANN001
    """The statement history the score reads counts a payment (issue 6 item 2): paying
    the overdue amount makes the account current, and the score and reasons follow."""
    account = _with_history(session, make_account, HISTORY, dpd=125, balance="1531.25", overdue="900.00",
                            minimum_due="950.00", agent="agent2", currency="USD")
    before = account.risk
    agent2 = await auth("agent2")
    words = [r["text"] for r in (await http.get(f"/api/v1/accounts/{account.id}", headers=agent2)).json()["reasons"]]
    assert "4 months late now" in words
    paid = await http.post("/api/v1/payments", headers=await auth("admin"), json={
        "bank_ref": "HIST-1", "account_ref": account.account_ref, "amount": "900.00", "currency": "USD",
        "paid_at": dt.datetime.now(dt.UTC).isoformat()})
    assert paid.status_code == 201, paid.text
    session.expire_all()
    stored = session.get(Account, account.id)
    # 900.00 USD at the history's fixed 32 NT$ per USD, in the newest month; now paying, not late.
    assert stored.history["paid"] == [28800, *HISTORY["paid"][1:]]
    assert stored.history["status"] == [0, *HISTORY["status"][1:]]
    assert stored.history["bill"] == HISTORY["bill"]
    assert stored.risk < before
    words = [r["text"] for r in (await http.get(f"/api/v1/accounts/{account.id}", headers=agent2)).json()["reasons"]]
    assert "4 months late now" not in words
