"""A treatment day (issue 20, done when): the champion path run on a seeded portfolio
against a real SMTP server (``aiosmtpd``) and an SMS gateway, both on loopback, with the
clock the test's own.

- The expected messages arrive once each, and none outside the customer's window, judged
  at the instant each was handed to its channel.
- None goes to a ceased channel: skipped, with the rule.
- A message that may not go now waits for the next lawful minute and goes then.
- A replayed run sends nothing new.
- A "STOP" reply on the signed webhook ceases the channel, and the next run skips it; a
  replayed webhook request is refused.
- The path walks on: a text at 1 day past due, the e-mail at 5, the letter at 15 in the
  run's print file; a temporary failure is retried with back-off, and a gateway that refuses
  our login is an outage, not a failure of the customer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.channels import sms
from backend.db import Database
from backend.models import Account, Contact, TreatmentRun, TreatmentSend
from backend.services import treatments
from config.settings import BackendSettings
from tests.conftest import on_test_session
from tests.loopback import Gateway, Relay, running_gateway, running_relay

NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York, 23:00 in Shanghai
SECRET = "webhook-secret-for-tests"
NY = ZoneInfo("America/New_York")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The test's clock, which the backend reads too (its ``utcnow`` wherever imported)."""
    import sys

    import backend.models

    clock = Clock(NOW)
    original = backend.models.utcnow
    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", clock)
    return clock


@pytest.fixture
def relay(clock: Clock) -> Iterator[Relay]:
    with running_relay(clock) as store:
        yield store


@pytest.fixture
def gateway(clock: Clock) -> Iterator[Gateway]:
    with running_gateway(clock) as gw:
        yield gw


@pytest.fixture
def settings(relay: Relay, gateway: Gateway, db_url: str) -> BackendSettings:
    return BackendSettings(
        db=db_url, smtp_host="127.0.0.1", smtp_port=relay.port, smtp_starttls=False,
        smtp_from="Demo Bank <collections@bank.example>", smtp_timeout_seconds=5,
        sms_gateway_url=f"http://127.0.0.1:{gateway.port}/send", sms_auth_value="Bearer gw-token",
        sms_sender="DemoBank", sms_webhook_secret=SECRET, sms_timeout_seconds=5)


@pytest.fixture
def day(session: Session, settings: BackendSettings, clock: Clock) -> Callable[..., treatments.RunReport]:
    """``day(ids)``: one run on the test's session, as the scheduler would run it, at the clock."""

    def _run(ids: list[int], **kw: Any) -> treatments.RunReport:
        return treatments.run(lambda: contextlib.nullcontext(session), settings, clock=clock, account_ids=ids, **kw)

    return _run


def _walk(session: Session, accounts: list[Account], days: int, clock: Clock) -> None:
    """``days`` pass: the clock, and each account's days past due (as the bank's file would say)."""
    clock.now += dt.timedelta(days=days)
    for a in accounts:
        a.dpd += days
    session.commit()


def _local_hours(contacts: list[Contact], zone: ZoneInfo) -> set[int]:
    return {c.started_at.astimezone(zone).hour for c in contacts}


def test_a_treatment_day_sends_each_message_once_lawfully_and_a_stop_reply_ceases_texts(
        session: Session, make_account: Callable, settings: BackendSettings, relay: Relay,
        gateway: Gateway, clock: Clock, day: Callable[..., treatments.RunReport], engine, db_url: str) -> None:
    store = relay
    # In New York at 10:00: due a text today.
    ny = make_account(dpd=1, phones=["+12125550141"], email="ny@example.com")
    # In Shanghai at 23:00: a text is due but the window is shut until 08:00 there.
    sh = make_account(dpd=1, phones=["+8613800138000"], email="sh@example.com", country="CN", region=None,
                      timezone="Asia/Shanghai", currency="CNY", address="1 Nanjing Rd, Shanghai")
    # Texts ceased: skipped, and the path goes on without them.
    ceased = make_account(dpd=1, phones=["+12125550142"], email="ceased@example.com")
    ceased.flags = {"cease": ["sms"]}
    # The same number as ``ny``'s, not yet past due: its first text comes after the STOP.
    twin = make_account(dpd=0, phones=["+12125550141"], email="twin@example.com")
    session.commit()
    ids = [ny.id, sh.id, ceased.id, twin.id]

    first = day(ids)
    assert first.planned == 3
    assert first.counts["sent"] == 1 and first.counts["waiting"] == 1 and first.counts["skipped"] == 1
    assert len(gateway.texts_to("+12125550141")) == 1 and not gateway.texts_to("+8613800138000")
    sent = gateway.received[0]
    assert sent["headers"].get("Authorization") == "Bearer gw-token"
    assert sent["headers"].get("Idempotency-Key") == f"{ny.id}:sms_1:{(NOW.date()).isoformat()}"
    text = json.dumps(sent["body"], ensure_ascii=False)
    assert "STOP" in text  # the opt-out, in every text
    waiting = session.scalar(select(TreatmentSend).where(TreatmentSend.account_id == sh.id))
    assert waiting.status == "waiting" and waiting.next_attempt_at == dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)
    skipped = session.scalar(select(TreatmentSend).where(TreatmentSend.account_id == ceased.id))
    assert skipped.status == "skipped" and skipped.rule == "opt-out"

    # The same day again: nothing new anywhere.
    again = day(ids)
    assert again.planned == 0 and again.counts["sent"] == 0
    assert len(gateway.received) == 1 and not store.received

    # 08:00 in Shanghai: the waiting text goes, at the first lawful minute.
    clock.now = dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)
    later = day(ids)
    assert later.counts["sent"] == 1 and len(gateway.texts_to("+8613800138000")) == 1
    shanghai_text = json.dumps(gateway.texts_to("+8613800138000")[0]["body"], ensure_ascii=False)
    assert "退订" in shanghai_text and "¥" in shanghai_text  # in the customer's language and money

    # Every message went inside its customer's window, judged at the instant it was handed over.
    for account, zone in ((ny, NY), (sh, ZoneInfo("Asia/Shanghai"))):
        contacts = list(session.scalars(select(Contact).where(Contact.account_id == account.id,
                                                             Contact.channel == "sms")))
        assert len(contacts) == 1 and _local_hours(contacts, zone) <= set(range(8, 21))
        assert contacts[0].note and contacts[0].direction == "outbound"
    for received in gateway.received:
        assert received["at"].astimezone(ZoneInfo("Asia/Shanghai") if "+86" in json.dumps(received["body"])
                                         else NY).hour in range(8, 21)

    # A receipt for ny's text, and the customer's STOP on the signed webhook.
    app = on_test_session(create_app(settings, Database(db_url, engine=engine)), session)
    receipt_ref = session.scalar(select(TreatmentSend.provider_ref).where(TreatmentSend.account_id == ny.id))
    assert receipt_ref == "gw-1"

    async def post(payload: dict[str, Any], at: dt.datetime, replay: tuple[str, str] | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        stamp = int(at.timestamp())
        signature = replay[1] if replay else sms.sign(SECRET, stamp, body)
        headers = {"X-Collectdesk-Timestamp": replay[0] if replay else str(stamp), "X-Collectdesk-Signature": signature,
                   "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as client:
            return await client.post("/api/v1/inbound/sms", content=body, headers=headers)

    real_now = clock.now
    answer = asyncio.run(post({"type": "receipt", "id": "gw-1", "status": "delivered",
                               "at": real_now.isoformat()}, real_now))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "receipt", "matched": 1, "opted_out": False}
    session.expire_all()
    assert session.scalar(select(TreatmentSend.delivery).where(TreatmentSend.account_id == ny.id)) == "delivered"

    stop = {"type": "reply", "from": "+12125550141", "text": " Stop. ", "at": real_now.isoformat()}
    answer = asyncio.run(post(stop, real_now))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "reply", "matched": 2, "opted_out": True}
    body = json.dumps(stop).encode()
    stamp = int(real_now.timestamp())
    replayed = asyncio.run(post(stop, real_now, replay=(str(stamp), sms.sign(SECRET, stamp, body))))
    assert replayed.status_code == 409
    session.expire_all()
    for account in (ny, twin):
        session.refresh(account)
        assert "sms" in account.flags["cease"]

    # The twin falls due (a new file, then ``collectdesk treat``, which always looks for steps
    # due): its text is skipped for the cease the STOP set.
    twin.dpd = 1
    session.commit()
    after_stop = day(ids, plan_today=True)
    row = session.scalar(select(TreatmentSend).where(TreatmentSend.account_id == twin.id))
    assert row.status == "skipped" and row.rule == "opt-out"
    assert len(gateway.texts_to("+12125550141")) == 1

    # Four days on (5 days past due): the e-mail follows the text, for ny and for ceased (whose
    # text was skipped); never for twin (its text was skipped only today... a day before, so it too).
    _walk(session, [ny, sh, ceased, twin], 4, clock)
    clock.now = dt.datetime.combine(clock.now.date(), dt.time(15, 0), dt.UTC)
    fifth = day(ids)
    addressed = sorted(r["to"][0] for r in store.received)
    assert "ny@example.com" in addressed and "ceased@example.com" in addressed
    assert len(addressed) == len(set(addressed))
    message = next(r["msg"] for r in store.received if r["to"] == ["ny@example.com"])
    assert message["X-Collectdesk-Key"] == f"{ny.id}:email_5:{NOW.date().isoformat()}"
    assert "opt-out" in message["List-Unsubscribe"] or message["List-Unsubscribe"].startswith("<")
    assert fifth.counts["sent"] >= 2
    assert after_stop.counts.get("sent", 0) == 0


def test_a_letter_at_fifteen_days_goes_into_the_runs_print_file(
        session: Session, make_account: Callable, clock: Clock, day: Callable[..., treatments.RunReport]) -> None:
    account = make_account(dpd=15, phones=["+12125550143"], email="late@example.com")
    # The text and the e-mail went on earlier days of the cycle.
    cycle = NOW.date() - dt.timedelta(days=14)
    for step, channel, ago in (("sms_1", "sms", 14), ("email_5", "email", 10)):
        session.add(TreatmentSend(key=f"{account.id}:{step}:{cycle.isoformat()}", account_id=account.id,
                                  strategy="champion", step_id=step, channel=channel, template="x", cycle_on=cycle,
                                  due_on=NOW.date() - dt.timedelta(days=ago), status="sent",
                                  sent_at=NOW - dt.timedelta(days=ago)))
    session.commit()
    report = day([account.id])
    assert report.counts["sent"] == 1 and len(report.letters) == 1
    run = session.get(TreatmentRun, report.run_id)
    assert run is not None and run.letters == 1 and run.print_file and run.print_file.startswith(b"%PDF")
    contact = session.scalar(select(Contact).where(Contact.account_id == account.id, Contact.channel == "letter"))
    assert contact is not None and contact.document_id is not None
    # Again the same day: no second letter.
    assert day([account.id]).counts["sent"] == 0


def test_a_gateway_that_refuses_our_login_is_an_outage_and_a_busy_one_is_tried_again_later(
        session: Session, make_account: Callable, gateway: Gateway, clock: Clock,
        day: Callable[..., treatments.RunReport]) -> None:
    a = make_account(dpd=1, phones=["+12125550144"])
    b = make_account(dpd=1, phones=["+12125550145"])
    gateway.answer = 401
    report = day([a.id, b.id])
    assert report.outages and report.outages[0]["channel"] == "sms"
    session.expire_all()
    rows = session.scalars(select(TreatmentSend).where(TreatmentSend.account_id.in_([a.id, b.id]))).all()
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    gateway.answer = 503
    report = day([a.id, b.id])
    assert report.counts["retry"] == 2 and not gateway.received
    session.expire_all()
    rows = session.scalars(select(TreatmentSend).where(TreatmentSend.account_id.in_([a.id, b.id]))).all()
    assert {r.next_attempt_at for r in rows} == {NOW + treatments.backoff(1)}
    gateway.answer = 200
    assert day([a.id, b.id]).counts.get("sent", 0) == 0  # not before the back-off is over
    clock.now = NOW + treatments.backoff(1)
    assert day([a.id, b.id]).counts["sent"] == 2 and len(gateway.received) == 2


def test_the_scheduled_run_is_taken_by_one_server_process_at_a_time(tmp_path) -> None:  # noqa: ANN001
    """With several workers or hosts, the treatments run in the one holding the job's lease."""
    from backend.app import _treat
    from backend.db import upgrade

    url = f"sqlite:///{tmp_path / 'treat.db'}"
    upgrade(url)
    db = Database(url)
    try:
        settings = BackendSettings(db=url)
        first = _treat(db, settings, "host:1:aaaa")
        assert first is not None and first.run_id is not None
        assert _treat(db, settings, "host:2:bbbb") is None  # the first still holds it
        assert _treat(db, settings, "host:1:aaaa") is not None  # its holder renews it
    finally:
        db.engine.dispose()


def test_a_waiting_reminder_to_a_customer_who_pays_meanwhile_is_not_sent(
        session: Session, make_account: Callable, gateway: Gateway, clock: Clock,
        day: Callable[..., treatments.RunReport]) -> None:
    account = make_account(dpd=1, phones=["+8613800138001"], country="CN", region=None, timezone="Asia/Shanghai",
                           currency="CNY", address="2 Nanjing Rd, Shanghai")
    assert day([account.id]).counts["waiting"] == 1  # 23:00 in Shanghai
    account.dpd, account.overdue_minor = 0, 0  # paid before the morning
    session.commit()
    clock.now = dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)
    report = day([account.id])
    assert report.counts["skipped"] == 1 and not gateway.received
    session.expire_all()
    row = session.scalar(select(TreatmentSend).where(TreatmentSend.account_id == account.id))
    assert (row.status, row.rule) == ("skipped", "paid")
