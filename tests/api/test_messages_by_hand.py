"""Messages by hand (issue 20 item 6): on the account, one templated e-mail or SMS, previewed
in the customer's language and sent now through the real channel (a real SMTP server,
``aiosmtpd``, and an SMS gateway, both on loopback), through the same checks as treatments.

- A preview sends nothing, and is audited as a view.
- A send arrives once, is a contact on the timeline by the agent (``LM``, the message as its
  note), and a retry with the same ``Idempotency-Key`` sends nothing again.
- Outside the customer's window: 409 naming the rule, with the next lawful minute.
- No e-mail address on record, a channel not configured: 422 naming the field (the setting).
- A ceased channel: 409, nothing sent. Another team's account: 404.
- The gateway refusing: 502, temporary or not, nothing recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db import Database
from backend.models import Account, Contact
from config.settings import BackendSettings
from tests.conftest import on_test_session
from tests.loopback import Gateway, Relay, running_gateway, running_relay


@pytest.fixture
def relay(clock) -> Iterator[Relay]:  # noqa: ANN001
    with running_relay(lambda: clock.now) as store:
        yield store


@pytest.fixture
def gateway(clock) -> Iterator[Gateway]:  # noqa: ANN001
    with running_gateway(lambda: clock.now) as gw:
        yield gw


def _settings(db_url: str, relay: Relay | None, gateway: Gateway | None) -> BackendSettings:
    channels: dict[str, object] = {}
    if relay is not None:
        channels |= {"smtp_host": "127.0.0.1", "smtp_port": relay.port, "smtp_starttls": False,
                     "smtp_from": "Demo Bank <collections@bank.example>", "smtp_timeout_seconds": 5}
    if gateway is not None:
        channels |= {"sms_gateway_url": f"http://127.0.0.1:{gateway.port}/send", "sms_auth_value": "Bearer gw",
                     "sms_sender": "DemoBank", "sms_timeout_seconds": 5}
    return BackendSettings(db=db_url, **channels)


@pytest.fixture
def app(engine: Engine, db_url: str, session: Session, relay: Relay, gateway: Gateway):  # noqa: ANN201
    """The API with both channels configured (to the loopback relay and gateway)."""
    return on_test_session(create_app(_settings(db_url, relay, gateway), Database(db_url, engine=engine)), session)


def _contacts(session: Session, account_id: int) -> list[Contact]:
    session.expire_all()
    return list(session.scalars(select(Contact).where(Contact.account_id == account_id).order_by(Contact.id)))


async def _preview(http, headers, account_id: int, channel: str, template: str):  # noqa: ANN001, ANN202
    return await http.post(f"/api/v1/accounts/{account_id}/messages/preview",
                           json={"channel": channel, "template": template}, headers=headers)


async def _send(http, headers, account_id: int, channel: str, template: str):  # noqa: ANN001, ANN202
    return await http.post(f"/api/v1/accounts/{account_id}/messages",
                           json={"channel": channel, "template": template}, headers=headers)


async def test_the_templates_are_listed_per_channel_with_their_languages(http, auth) -> None:  # noqa: ANN001
    r = await http.get("/api/v1/message-templates", headers=await auth("agent1"))
    assert r.status_code == 200, r.text
    body = r.json()
    names = {(t["channel"], t["name"]): t["langs"] for t in body["templates"]}
    assert names[("sms", "reminder_sms")] == ["en", "zh_CN"]
    assert names[("email", "reminder_email")] == ["en", "zh_CN"]
    assert ("sms", "broken_promise_sms") in names and ("email", "pre_due_email") in names
    assert {c["channel"]: c["configured"] for c in body["channels"]} == {"email": True, "sms": True}


async def test_a_preview_shows_the_message_in_the_customers_language_and_sends_nothing(
        http, auth, make_account, clock, relay: Relay, gateway: Gateway, session, new_audit) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    ny = make_account(dpd=5, customer_name="Rosa Delgado", phones=["+12125550151"], email="rosa@example.com")
    r = await _preview(http, agent, ny.id, "sms", "reminder_sms")
    assert r.status_code == 200, r.text
    sms = r.json()
    assert sms["allowed"] is True and sms["rule"] is None and sms["lang"] == "en"
    assert sms["to"] == "+12125550151" and "Rosa Delgado" in sms["text"] and "STOP" in sms["text"]
    assert sms["segments"] >= 1 and sms["encoding"] == "GSM-7" and sms["subject"] is None
    r = await _preview(http, agent, ny.id, "email", "reminder_email")
    mail = r.json()
    assert mail["allowed"] is True and mail["to"] == "rosa@example.com"
    assert mail["subject"] and "$300.00" in mail["subject"] + mail["text"] and "Dear Rosa Delgado" in mail["text"]
    sh = make_account(dpd=5, customer_name="王小明", phones=["+8613800138001"], email="wang@example.cn", country="CN",
                      region=None, timezone="Asia/Shanghai", currency="CNY", address="上海市浦东新区世纪大道100号")
    shanghai = (await _preview(http, agent, sh.id, "sms", "reminder_sms")).json()
    # In Chinese, and it is 23:00 in Shanghai: not now, the next lawful minute is 08:00 there.
    assert shanghai["lang"] == "zh_CN" and "退订" in shanghai["text"] and shanghai["encoding"] == "UCS-2"
    assert shanghai["allowed"] is False and shanghai["rule"] == "call-window"
    assert shanghai["until"] == "2026-03-12T00:00:00Z"
    assert not relay.received and not gateway.received
    assert _contacts(session, ny.id) == [] and _contacts(session, sh.id) == []
    assert [(a.action, a.entity_id) for a in new_audit(entity="message_preview")] == [
        ("view", ny.id), ("view", ny.id), ("view", sh.id)]


async def test_an_sms_sent_by_hand_arrives_once_and_is_on_the_timeline(
        http, auth, make_account, clock, gateway: Gateway, session) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    account = make_account(dpd=5, customer_name="Rosa Delgado", phones=["+12125550152"])
    r = await _send(http, {**agent, "Idempotency-Key": "sms-by-hand-1"}, account.id, "sms", "reminder_sms")
    assert r.status_code == 201, r.text
    contact = r.json()
    assert (contact["channel"], contact["direction"], contact["party"], contact["outcome"], contact["agent"]) == (
        "sms", "outbound", "debtor", "LM", "agent1")
    assert contact["used"] == "+12125550152" and "Rosa Delgado" in contact["note"]
    assert len(gateway.received) == 1
    sent = gateway.received[0]
    assert sent["body"]["to"] == "+12125550152" and sent["body"]["text"] == contact["note"]
    assert sent["headers"]["Idempotency-Key"].endswith(":sms-by-hand-1")
    # A retry with the key answers the first answer and sends nothing.
    again = await _send(http, {**agent, "Idempotency-Key": "sms-by-hand-1"}, account.id, "sms", "reminder_sms")
    assert again.status_code == 201 and again.json() == contact
    assert len(gateway.received) == 1 and len(_contacts(session, account.id)) == 1
    items = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=agent)).json()["items"]
    assert [e["contact"]["id"] for e in items if e["kind"] == "contact"] == [contact["id"]]


async def test_an_email_sent_by_hand_reaches_the_relay_once(
        http, auth, make_account, clock, relay: Relay, session) -> None:  # noqa: ANN001
    supervisor = await auth("super1")
    account = make_account(dpd=5, customer_name="Rosa Delgado", email="rosa@example.com")
    headers = {**supervisor, "Idempotency-Key": "mail-by-hand-1"}
    r = await _send(http, headers, account.id, "email", "reminder_email")
    assert r.status_code == 201, r.text
    assert (await _send(http, headers, account.id, "email", "reminder_email")).json() == r.json()
    assert [m["to"] for m in relay.received] == [["rosa@example.com"]]
    message = relay.received[0]["msg"]
    assert message["X-Collectdesk-Key"].endswith(":mail-by-hand-1")
    assert r.json()["note"].startswith(message["Subject"]) and r.json()["agent"] == "super1"
    assert len(_contacts(session, account.id)) == 1


async def test_outside_the_customers_window_it_is_refused_with_the_next_lawful_minute(
        http, auth, make_account, clock, gateway: Gateway, session, problem) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    sh = make_account(dpd=5, phones=["+8613800138002"], country="CN", region=None, timezone="Asia/Shanghai",
                      currency="CNY", address="上海市浦东新区世纪大道100号")
    body = problem(await _send(http, agent, sh.id, "sms", "reminder_sms"), 409)
    assert body["rule"] == "call-window" and body["until"] == "2026-03-12T00:00:00+00:00"
    assert not gateway.received and _contacts(session, sh.id) == []


async def test_nowhere_to_send_it_or_a_channel_not_configured_is_422_naming_the_field(
        http, auth, make_account, clock, relay: Relay, engine, db_url, session, problem) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    account = make_account(dpd=5, email=None)
    body = problem(await _send(http, agent, account.id, "email", "reminder_email"), 422)
    assert body["fields"] == {"email"}
    preview = (await _preview(http, agent, account.id, "email", "reminder_email")).json()
    assert preview["allowed"] is False and preview["rule"] == "no-address" and preview["to"] is None
    body = problem(await _send(http, agent, account.id, "sms", "no_such_sms"), 422)
    assert body["fields"] == {"template"}
    assert not relay.received
    # No SMS gateway configured: 422 on the channel, naming the setting; the preview says so too.
    bare = on_test_session(create_app(_settings(db_url, relay, None), Database(db_url, engine=engine)), session)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://backend") as other:
        body = problem(await _send(other, agent, account.id, "sms", "reminder_sms"), 422)
        assert body["fields"] == {"channel"} and "sms_gateway_url" in body["detail"]
        preview = (await _preview(other, agent, account.id, "sms", "reminder_sms")).json()
        assert preview["allowed"] is False and preview["configured"] is False
        assert preview["missing"] == ["sms_gateway_url"] and preview["rule"] == "not-configured"
        listed = (await other.get("/api/v1/message-templates", headers=agent)).json()["channels"]
        assert {c["channel"]: c["missing"] for c in listed} == {"email": [], "sms": ["sms_gateway_url"]}
    assert _contacts(session, account.id) == []


async def test_a_ceased_channel_is_refused_and_the_other_goes(
        http, auth, make_account, clock, relay: Relay, gateway: Gateway, session, problem) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    account = make_account(dpd=5, phones=["+12125550153"], email="ceased@example.com")
    detail = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()
    r = await http.patch(f"/api/v1/accounts/{account.id}", json={"flags": {"cease": ["sms"]}},
                         headers={**agent, "If-Match": str(detail["version"])})
    assert r.status_code == 200, r.text
    preview = (await _preview(http, agent, account.id, "sms", "reminder_sms")).json()
    assert preview["allowed"] is False and preview["until"] is None
    body = problem(await _send(http, agent, account.id, "sms", "reminder_sms"), 409)
    assert body["rule"] == preview["rule"] and body.get("until") is None
    assert not gateway.received
    assert (await _send(http, agent, account.id, "email", "reminder_email")).status_code == 201
    assert len(relay.received) == 1
    assert [c.channel for c in _contacts(session, account.id)] == ["email"]


async def test_an_agent_of_another_team_finds_nothing_and_a_trainer_may_not_send(
        http, auth, make_account, clock, gateway: Gateway, problem) -> None:  # noqa: ANN001
    account = make_account(dpd=5, team="A", agent="agent1")
    other = await auth("agent3")
    problem(await _preview(http, other, account.id, "sms", "reminder_sms"), 404)
    problem(await _send(http, other, account.id, "sms", "reminder_sms"), 404)
    problem(await _send(http, await auth("trainer1"), account.id, "sms", "reminder_sms"), 403)
    assert not gateway.received


@pytest.mark.parametrize(("status", "temporary"), [(503, True), (401, False)])
async def test_a_gateway_that_does_not_take_it_is_502_and_nothing_is_recorded(
        http, auth, make_account, clock, gateway: Gateway, session, problem, status: int, temporary: bool,
        count: Callable) -> None:  # noqa: ANN001
    agent = await auth("agent1")
    account = make_account(dpd=5, phones=["+12125550154"])
    gateway.answer = status
    headers = {**agent, "Idempotency-Key": f"refused-{status}"}
    body = problem(await _send(http, headers, account.id, "sms", "reminder_sms"), 502)
    assert body["temporary"] is temporary and body["channel"] == "sms"
    assert _contacts(session, account.id) == []
    # The key was not spent on the failure: once the gateway takes it, the same request goes.
    gateway.answer = 200
    r = await _send(http, headers, account.id, "sms", "reminder_sms")
    assert r.status_code == 201, r.text
    assert len(gateway.received) == 1 and json.loads(json.dumps(gateway.received[0]["body"]))["to"] == "+12125550154"
    assert count(Contact, Contact.account_id == account.id) == 1
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == account.id)) == 1
    assert dt.datetime.fromisoformat(r.json()["started_at"]) == clock.now


async def test_on_legal_hold_only_a_legal_officer_sends(
        http, auth, make_account, clock, gateway: Gateway, session, problem) -> None:  # noqa: ANN001
    account = make_account(dpd=125, phones=["+12125550155"])
    session.execute(update(Account).where(Account.id == account.id).values(status="legal"))
    session.commit()
    body = problem(await _send(http, await auth("agent1"), account.id, "sms", "reminder_sms"), 409)
    assert body["rule"] == "legal" and not gateway.received
    legal = await auth("legal1")
    assert (await _preview(http, legal, account.id, "sms", "reminder_sms")).json()["allowed"] is True
    r = await _send(http, legal, account.id, "sms", "reminder_sms")
    assert r.status_code == 201, r.text
    assert r.json()["agent"] == "legal1" and len(gateway.received) == 1
    # Closed is closed, for everyone.
    session.execute(update(Account).where(Account.id == account.id).values(status="closed"))
    session.commit()
    assert problem(await _send(http, legal, account.id, "sms", "reminder_sms"), 409)["rule"] == "closed"
