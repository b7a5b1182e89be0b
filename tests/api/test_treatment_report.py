"""Treatments measured (issue 20, item 5): ``GET /api/v1/reports/treatments`` on treatment
rows, payments, ceases and replies seeded by hand in a team of its own (``TM``), every
figure worked out below; the windows judged both ways (a payment on day 8 is not within 7
days, a cease before the send is not one it caused) and a send too recent to judge left
out as ``not_yet``. No SMTP, no SMS gateway: the rows are written as the sender leaves them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from backend.domain.proportions import difference_bp, interval_bp, rate_bp
from backend.models import AuditEntry, Contact, FlagPeriod, Payment, TreatmentSend, User
from backend.services.reports import judge_send
from backend.services.users import add_user
from tests.api.conftest import PLAN_NOW

NOW = PLAN_NOW  # 2026-03-11 15:00 UTC: the report's as-of
T0 = dt.datetime(2026, 1, 20, 12, 0, tzinfo=dt.UTC)  # sent then: every window has passed by NOW
RECENT = NOW - dt.timedelta(days=3)  # sent then: no window has passed
PERIOD = {"from": "2026-01-01", "to": "2026-03-10"}
DAY = dt.timedelta(days=1)
_refs = itertools.count(1)


def _send(session, account, strategy: str, step: str, channel: str, status: str = "sent",  # noqa: ANN001
          at: dt.datetime = T0, delivery: str | None = None) -> TreatmentSend:
    row = TreatmentSend(key=f"{account.id}:{step}:{at.date().isoformat()}:{strategy}", account_id=account.id,
                        strategy=strategy, step_id=step, channel=channel, template=step, cycle_on=at.date(),
                        due_on=at.date(), status=status, sent_at=at if status == "sent" else None,
                        delivery=delivery, created_at=at, updated_at=at)
    session.add(row)
    return row


def _pay(session, account, at: dt.datetime, cured_from: str | None = None, to: str = "current") -> None:  # noqa: ANN001
    """A payment, and (``cured_from``) its audit entry as ``record_payment`` writes it."""
    payment = Payment(bank_ref=f"TMR-{next(_refs)}", account_id=account.id, amount_minor=5000,
                      currency=account.currency, paid_at=at, balance_after_minor=0, created_at=at)
    session.add(payment)
    session.flush()
    if cured_from is not None:
        session.add(AuditEntry(at=at, action="create", entity="payment", entity_id=payment.id,
                               detail={"account_id": account.id, "bucket_before": cured_from, "bucket": to}))


def _cease(session, account, channel: str, at: dt.datetime) -> None:  # noqa: ANN001
    session.add(FlagPeriod(account_id=account.id, flag="cease", channel=channel, started_at=at, set_recorded_at=at))


@pytest.fixture
def seeded(session, make_account, clock):  # noqa: ANN001, ANN201
    """Team TM (tmsuper); T0 = 2026-01-20 12:00, as of 2026-03-11 15:00.

    champion sms_1 (entry)
      A1 sent T0, delivered; paid T0+5d, 30 → current (cured)
      A2 sent T0, no receipt; paid T0+8d (not within 7), 60 → 30 (not cured); sms cease T0−1d (before)
      A3 sent T0, receipt failed; paid T0+7d exactly (within 7); replied CEASE by sms T0+2d
      A4 sent 3 days ago, delivered; paid the next day: every window not yet
      A5 failed (attempted, not sent); A6 pending (not counted); A7 sent before the period
    champion email_5 (after sms_1)
      A1 sent T0+4d; its cease on e-mail 30 days and an hour later (not within 30)
    champion broken_promise_sms (entry)
      C1 sent T0, delivered; paid T0+2d, no audit (paid, not seen cured)
    challenger email_1 (entry)
      B1 sent T0; e-mail cease T0+10d (opted out)
      B2 sent T0; paid T0+1d, X → current (cured)
      B3 skipped
    challenger broken_promise_sms (entry)
      B4 sent T0, no receipt, nothing after
    other team (A): one challenger email_1 sent T0, unseen by TM's supervisor
    """
    add_user(session, "tmsuper", "tmsuper", "supervisor", "TM", "Tess Super")
    add_user(session, "tmlegal", "tmlegal", "legal", None, "Lee Gal")
    session.commit()
    acc = {name: make_account(team="TM", agent=None) for name in
           ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "C1", "B1", "B2", "B3", "B4")}
    elsewhere = make_account(team="A", agent=None)
    _send(session, acc["A1"], "champion", "sms_1", "sms", delivery="delivered")
    _pay(session, acc["A1"], T0 + 5 * DAY, cured_from="30")
    _send(session, acc["A2"], "champion", "sms_1", "sms")
    _pay(session, acc["A2"], T0 + 8 * DAY, cured_from="60", to="30")
    _cease(session, acc["A2"], "sms", T0 - DAY)
    _send(session, acc["A3"], "champion", "sms_1", "sms", delivery="failed")
    _pay(session, acc["A3"], T0 + 7 * DAY)
    _pay(session, acc["A3"], T0)  # at the very instant of the send: not after it
    system = session.scalar(select(User).where(User.username == "admin"))
    session.add(Contact(account_id=acc["A3"].id, agent_id=system.id, channel="sms", direction="inbound",
                        party="debtor", outcome="RPC", result="CEASE", note="STOP", started_at=T0 + 2 * DAY,
                        logged_at=T0 + 2 * DAY))
    _send(session, acc["A4"], "champion", "sms_1", "sms", at=RECENT, delivery="delivered")
    _pay(session, acc["A4"], RECENT + DAY, cured_from="30")
    _send(session, acc["A5"], "champion", "sms_1", "sms", status="failed")
    _send(session, acc["A6"], "champion", "sms_1", "sms", status="pending")
    _send(session, acc["A7"], "champion", "sms_1", "sms", at=dt.datetime(2025, 12, 20, tzinfo=dt.UTC),
          delivery="delivered")
    _pay(session, acc["A7"], dt.datetime(2025, 12, 21, tzinfo=dt.UTC))
    _send(session, acc["A1"], "champion", "email_5", "email", at=T0 + 4 * DAY)
    _cease(session, acc["A1"], "email", T0 + 34 * DAY + dt.timedelta(hours=1))
    _send(session, acc["C1"], "champion", "broken_promise_sms", "sms", delivery="delivered")
    _pay(session, acc["C1"], T0 + 2 * DAY)
    _send(session, acc["B1"], "challenger", "email_1", "email")
    _cease(session, acc["B1"], "email", T0 + 10 * DAY)
    _send(session, acc["B2"], "challenger", "email_1", "email")
    _pay(session, acc["B2"], T0 + DAY, cured_from="X")
    _send(session, acc["B3"], "challenger", "email_1", "email", status="skipped")
    _send(session, acc["B4"], "challenger", "broken_promise_sms", "sms")
    _send(session, elsewhere, "challenger", "email_1", "email")
    _pay(session, elsewhere, T0 + DAY, cured_from="X")
    session.commit()
    return acc


def _measures(row: dict) -> dict[str, tuple[int, int, int]]:
    """measure → (count, of, not yet); ``attempted`` → (attempted, 0, 0)."""
    out = {m: (row[m]["count"], row[m]["of"], row[m]["not_yet"])
           for m in ("sent", "delivered", "opted_out", "paid_7d", "paid_30d", "cured_30d")}
    out["attempted"] = (row["attempted"], 0, 0)
    for m, (count, of, _wait) in out.items():
        if m != "attempted":
            assert row[m]["rate_bp"] == rate_bp(count, of)
    return out


async def test_each_measure_per_step_and_path(http, auth, seeded, new_audit) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/reports/treatments", params=PERIOD, headers=await auth("tmsuper"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["team"] == "TM" and body["as_of"].startswith("2026-03-11T15:00")
    assert body["period"]["since"].startswith("2026-01-01") and body["period"]["until"].startswith("2026-03-11T00:00")
    steps = {(s["strategy"], s["step_id"]): s for s in body["steps"]}
    sms_1 = _measures(steps[("champion", "sms_1")])
    assert steps[("champion", "sms_1")]["entry"] and steps[("champion", "sms_1")]["channel"] == "sms"
    assert sms_1 == {
        "attempted": (5, 0, 0),    # A1-A5: A6 pending, A7 before the period
        "sent": (4, 5, 0),         # A5 failed
        "delivered": (2, 4, 0),    # A1, A4 (A2 no receipt yet, A3's failed)
        "opted_out": (1, 3, 1),    # A3's STOP; A2's cease came before the send; A4 not yet
        "paid_7d": (2, 3, 1),      # A1 (day 5), A3 (day 7 exactly); A2 paid on day 8
        "paid_30d": (3, 3, 1),
        "cured_30d": (1, 3, 1),    # A1; A2 only rolled back to 30
    }
    email_5 = _measures(steps[("champion", "email_5")])
    assert not steps[("champion", "email_5")]["entry"]
    assert email_5 == {"attempted": (1, 0, 0), "sent": (1, 1, 0), "delivered": (1, 1, 0),  # an e-mail sent is delivered
                       "opted_out": (0, 1, 0),  # the cease came 30 days and an hour after
                       "paid_7d": (1, 1, 0), "paid_30d": (1, 1, 0), "cured_30d": (1, 1, 0)}
    assert _measures(steps[("challenger", "email_1")]) == {
        "attempted": (3, 0, 0), "sent": (2, 3, 0), "delivered": (2, 2, 0), "opted_out": (1, 2, 0),
        "paid_7d": (1, 2, 0), "paid_30d": (1, 2, 0), "cured_30d": (1, 2, 0)}  # not the other team's
    # Steps of the configured paths with nothing sent are there, with nothing to judge.
    empty = steps[("champion", "demand_60")]
    assert empty["attempted"] == 0 and empty["paid_7d"] == {"count": 0, "of": 0, "rate_bp": None, "not_yet": 0}
    order = [(s["strategy"], s["step_id"]) for s in body["steps"]]
    assert order.index(("champion", "sms_1")) < order.index(("champion", "email_5")) < order.index(
        ("challenger", "email_1"))

    paths = {p["strategy"]: p for p in body["paths"]}
    assert [p["step_id"] for p in body["paths"]] == [None, None]
    # champion: sms_1 and broken_promise_sms (C1: paid on day 2, no recorded cure)
    assert _measures(paths["champion"]) == {
        "attempted": (6, 0, 0), "sent": (5, 6, 0), "delivered": (3, 5, 0), "opted_out": (1, 4, 1),
        "paid_7d": (3, 4, 1), "paid_30d": (4, 4, 1), "cured_30d": (1, 4, 1)}
    # challenger: email_1 and broken_promise_sms (B4: no receipt, nothing after)
    assert _measures(paths["challenger"]) == {
        "attempted": (4, 0, 0), "sent": (3, 4, 0), "delivered": (2, 3, 0), "opted_out": (1, 3, 0),
        "paid_7d": (1, 3, 0), "paid_30d": (1, 3, 0), "cured_30d": (1, 3, 0)}

    compared = {c["step_id"]: {d["measure"]: d for d in c["differences"]} for c in body["comparisons"]}
    assert set(compared) == {None, "broken_promise_sms"}  # the one step id both paths have
    paid = compared[None]["paid_7d"]
    assert (paid["champion_bp"], paid["challenger_bp"]) == (7500, 3333)
    assert paid["difference_bp"] == difference_bp(1, 3, 3, 4) == -4167
    assert (paid["low_bp"], paid["high_bp"]) == interval_bp(1, 3, 3, 4)
    assert -10000 <= paid["low_bp"] <= paid["difference_bp"] <= paid["high_bp"] <= 10000
    bp = compared["broken_promise_sms"]
    assert bp["delivered"]["difference_bp"] == -10000  # 0 of 1 against 1 of 1
    assert (bp["delivered"]["low_bp"], bp["delivered"]["high_bp"]) == interval_bp(0, 1, 1, 1)

    audited = new_audit(entity="report")
    assert audited and audited[-1].detail["report"] == "treatments" and audited[-1].detail["team"] == "TM"


async def test_who_sees_which_accounts(http, auth, seeded) -> None:  # noqa: ANN001
    legal = await auth("tmlegal")
    r = await http.get("/api/v1/reports/treatments", params={**PERIOD, "team": "TM"}, headers=legal)
    assert r.status_code == 200, r.text
    only_tm = {(s["strategy"], s["step_id"]): s["attempted"] for s in r.json()["steps"]}
    assert only_tm[("challenger", "email_1")] == 3
    everyone = (await http.get("/api/v1/reports/treatments", params=PERIOD, headers=legal)).json()
    assert everyone["team"] is None
    assert {(s["strategy"], s["step_id"]): s["attempted"] for s in everyone["steps"]}[("challenger", "email_1")] >= 4
    r = await http.get("/api/v1/reports/treatments", params={**PERIOD, "team": "A"}, headers=await auth("tmsuper"))
    assert r.status_code == 403
    assert (await http.get("/api/v1/reports/treatments", headers=await auth("agent1"))).status_code == 403
    assert (await http.get("/api/v1/reports/treatments", params={"team": "nope"}, headers=legal)).status_code == 404
    assert (await http.get("/api/v1/reports/treatments")).status_code == 401
    r = await http.get("/api/v1/reports/treatments", params={"from": "2026-03-10", "to": "2026-03-01"}, headers=legal)
    assert r.status_code == 422


async def test_the_last_days_judge_only_what_has_had_its_time(http, auth, seeded) -> None:  # noqa: ANN001
    """The default period, the last 30 days to now: only A4 (3 days ago) was sent in it, and
    none of its windows has passed, so every windowed measure is not yet, none a failure."""
    r = await http.get("/api/v1/reports/treatments", params={"days": 30}, headers=await auth("tmsuper"))
    assert r.status_code == 200, r.text
    sms_1 = _measures({(s["strategy"], s["step_id"]): s for s in r.json()["steps"]}[("champion", "sms_1")])
    assert sms_1 == {"attempted": (1, 0, 0), "sent": (1, 1, 0), "delivered": (1, 1, 0), "opted_out": (0, 0, 1),
                     "paid_7d": (0, 0, 1), "paid_30d": (0, 0, 1), "cured_30d": (0, 0, 1)}


async def test_a_window_counts_once_it_has_passed(http, auth, seeded, clock) -> None:  # noqa: ANN001
    """Seven days after A4's send (and not a microsecond before) its 7-day payment is judged."""
    clock.to(RECENT + 7 * DAY - dt.timedelta(microseconds=1))
    headers = await auth("tmsuper")
    before = (await http.get("/api/v1/reports/treatments", params={"days": 30}, headers=headers)).json()
    clock.to(RECENT + 7 * DAY)
    after = (await http.get("/api/v1/reports/treatments", params={"days": 30}, headers=headers)).json()

    def paid(body: dict) -> dict:
        return {(s["strategy"], s["step_id"]): s for s in body["steps"]}[("champion", "sms_1")]["paid_7d"]

    assert paid(before) == {"count": 0, "of": 0, "rate_bp": None, "not_yet": 1}
    assert paid(after) == {"count": 1, "of": 1, "rate_bp": 10000, "not_yet": 0}


# -- the windows, both ways, without a database ------------------------------------

SENT = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
LATE = SENT + dt.timedelta(days=60)


def _judge(channel: str = "sms", status: str = "sent", delivery: str | None = "delivered",
           as_of: dt.datetime = LATE, payments: tuple[dt.datetime, ...] = (), cures: tuple[dt.datetime, ...] = (),
           ceases: tuple[dt.datetime, ...] = ()) -> dict:
    return judge_send(channel, status, SENT if status == "sent" else None, delivery, as_of,
                      payments=sorted(payments), cures=sorted(cures), ceases=sorted(ceases))


def test_payments_inside_and_outside_the_windows() -> None:
    assert _judge(payments=(SENT,))["paid_7d"] is False  # the same instant is not after the send
    assert _judge(payments=(SENT - DAY,))["paid_30d"] is False
    on_day_7 = _judge(payments=(SENT + 7 * DAY,))
    assert (on_day_7["paid_7d"], on_day_7["paid_30d"]) == (True, True)
    just_after = _judge(payments=(SENT + 7 * DAY + dt.timedelta(microseconds=1),))
    assert (just_after["paid_7d"], just_after["paid_30d"]) == (False, True)
    day_31 = _judge(payments=(SENT + 31 * DAY,))
    assert (day_31["paid_7d"], day_31["paid_30d"]) == (False, False)
    assert _judge(cures=(SENT + 30 * DAY,))["cured_30d"] is True
    assert _judge(cures=(SENT + 30 * DAY + dt.timedelta(seconds=1),))["cured_30d"] is False


def test_a_cease_before_the_send_was_not_caused_by_it() -> None:
    assert _judge(ceases=(SENT - DAY,))["opted_out"] is False
    assert _judge(ceases=(SENT,))["opted_out"] is False
    assert _judge(ceases=(SENT + DAY,))["opted_out"] is True
    assert _judge(ceases=(SENT - DAY, SENT + 29 * DAY))["opted_out"] is True


def test_not_yet_until_the_window_has_passed() -> None:
    young = _judge(as_of=SENT + 6 * DAY, payments=(SENT + DAY,), cures=(SENT + DAY,), ceases=(SENT + DAY,))
    assert young == {"sent": True, "delivered": True, "opted_out": None, "paid_7d": None, "paid_30d": None,
                     "cured_30d": None}
    week = _judge(as_of=SENT + 7 * DAY, payments=(SENT + DAY,))
    assert (week["paid_7d"], week["paid_30d"]) == (True, None)


def test_delivery_by_channel_and_what_was_not_sent() -> None:
    assert _judge(delivery=None)["delivered"] is False
    assert _judge(delivery="expired")["delivered"] is False
    assert _judge(channel="email", delivery=None)["delivered"] is True
    assert _judge(channel="letter", delivery=None)["delivered"] is True
    for status in ("failed", "skipped", "unknown"):
        assert _judge(status=status, payments=(SENT + DAY,)) == {"sent": False}
