"""A message by hand from the desk (issue 20 item 6) at 80×24 against the real backend, whose
SMS gateway and mail relay are on loopback: ``m`` on the account opens the message form, the
preview loads in the customer's language with the law's answer now, ``ctrl+s`` sends it, and
the gateway gets it once and the timeline shows it. Not now (23:00 in Shanghai): the send is
dimmed with the reason and nothing goes. A gateway that fails keeps the choice; sent later, once.
And the form in English and Chinese (SVG snapshots)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db import Database
from backend.models import Contact
from config.settings import BackendSettings
from tests.conftest import on_test_session
from tests.desk.conftest import NOW, notices, screen_text, settle
from tests.desk.cuts import cuts
from tests.loopback import Gateway, Relay, running_gateway, running_relay

pytestmark = pytest.mark.desk


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway(lambda: NOW) as gw:
        yield gw


@pytest.fixture
def relay() -> Iterator[Relay]:
    with running_relay(lambda: NOW) as store:
        yield store


@pytest.fixture
def app(engine: Engine, db_url: str, session: Session, frozen, gateway: Gateway, relay: Relay):  # noqa: ANN001, ANN201
    """The backend with its SMS gateway and mail relay on loopback."""
    settings = BackendSettings(
        db=db_url, sms_gateway_url=f"http://127.0.0.1:{gateway.port}/send", sms_auth_value="Bearer gw",
        sms_sender="DemoBank", sms_timeout_seconds=5, smtp_host="127.0.0.1", smtp_port=relay.port,
        smtp_starttls=False, smtp_from="Demo Bank <collections@bank.example>", smtp_timeout_seconds=5)
    return on_test_session(create_app(settings, Database(db_url, engine=engine)), session)


async def _message_form(pilot, *, row: int = 0) -> None:  # noqa: ANN001
    """The worklist's ``row``-th account open, then its message form, the preview loaded."""
    await settle(pilot)
    await pilot.press(*["down"] * row, "enter")
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)


def _sms_contacts(session: Session, account_id: int) -> list[Contact]:
    session.expire_all()
    return list(session.scalars(select(Contact).where(Contact.account_id == account_id, Contact.channel == "sms")))


async def test_an_agent_previews_and_sends_an_sms_from_the_account(make_desk, accounts, session,
                                                                   gateway: Gateway) -> None:
    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "Message: send" in [c.title for c in desk.get_system_commands(desk.screen)]
        await pilot.press("m")
        await settle(pilot)
        screen = desk.screen
        assert type(screen).__name__ == "MessageScreen"
        assert screen.preview is not None and screen.preview.allowed
        text = screen_text(desk)
        assert "Message to A-0001 · Alice Moreno" in text
        assert "To: +12125550101 · English · 1 SMS segment(s), GSM-7" in text
        assert (screen.channel, screen.template) == ("sms", "reminder_sms")  # the reminder first
        assert screen.preview.text.endswith("Reply STOP to opt out") and "Alice Moreno" in screen.preview.text
        assert "Reminder: payment past due" in text, text
        assert "May be sent now: ^s sends it." in text or "May be sent now: ctrl+s sends it." in text
        assert not gateway.received  # a preview sends nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert any(n.message == "SMS sent to +12125550101; it is on the timeline." for n in notices(desk))
        assert "sms · sent to +12125550101" in screen_text(desk) or "SMS" in screen_text(desk)
    assert len(gateway.received) == 1
    sent = gateway.received[0]["body"]
    assert sent["to"] == "+12125550101" and "Alice Moreno" in sent["text"]
    [contact] = _sms_contacts(session, alice.id)
    assert (contact.direction, contact.outcome, contact.note) == ("outbound", "LM", sent["text"])
    assert contact.agent.username == "agent1"


async def test_not_now_in_shanghai_the_send_is_dimmed_with_the_reason(make_desk, accounts, session,
                                                                      gateway: Gateway, relay: Relay) -> None:
    *_, wang = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _message_form(pilot, row=2)
        screen = desk.screen
        assert screen.account.account_ref == "A-0003"
        assert screen.preview is not None and not screen.preview.allowed and screen.preview.lang == "zh_CN"
        text = screen_text(desk)
        assert "退订" in text and "Chinese" in text
        assert "✗ Not now: outside the customer's calling hours · lawful from" in text
        assert screen.check_action("send", ()) is None
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "MessageScreen" and not gateway.received
        # The e-mail instead: the same law (the customer's hours), in Chinese too.
        await pilot.click("#message-channel")
        await settle(pilot)
        screen.query_one("#message-channel").value = "email"
        await settle(pilot)
        assert screen.preview is not None and screen.preview.channel == "email"
        assert screen.preview.to == "wang@example.cn" and "Subject: " in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
    assert not gateway.received and not relay.received and _sms_contacts(session, wang.id) == []


async def test_a_gateway_that_fails_keeps_the_choice_and_the_message_goes_once_later(
        make_desk, accounts, session, gateway: Gateway) -> None:
    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _message_form(pilot)
        screen = desk.screen
        screen.query_one("#message-template").value = "broken_promise_sms"
        await settle(pilot)
        assert screen.preview is not None and screen.preview.template == "broken_promise_sms"
        gateway.answer = 503
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert desk.screen is screen and (screen.channel, screen.template) == ("sms", "broken_promise_sms")
        [said] = [n.message for n in notices(desk) if n.severity == "error"]
        assert said.startswith("Not sent (try again later): the SMS gateway did not take the message")
        assert desk.status.connection == "ok"  # the gateway's failure, not the backend's
        assert _sms_contacts(session, alice.id) == []
        gateway.answer = 200
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
    assert len(gateway.received) == 1 and len(_sms_contacts(session, alice.id)) == 1


async def _steady(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    pilot.app.screen.refresh_bindings()
    await pilot.pause()
    await pilot.pause()
    problems = cuts(pilot.app)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_message_form(snap_compare, make_desk, accounts, lang) -> None:  # noqa: ANN001
    """The form over the account: the SMS chosen, its preview, and the law's answer."""
    accounts()
    desk = make_desk(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await _message_form(pilot)
        await _steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)
