"""The collector's loop, driven by keys against the real backend: sign in →
worklist → account → log a right-party contact with a promise → save and next →
the contact is on the first account's timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from textual import events

from tests.desk.conftest import burst, notices, screen_text, settle

pytestmark = pytest.mark.desk

AMOUNT, DATE, NOTE = "150", "2026-03-20", "Will pay Friday from salary"


class KeyCounter:
    """A Pilot message hook that sees every key the app is sent (each once)."""

    def __init__(self) -> None:
        self.keys: list[events.Key] = []

    def __call__(self, message: object) -> None:
        if isinstance(message, events.Key) and not any(message is k for k in self.keys):
            self.keys.append(message)


async def test_sign_in_shows_the_ranked_worklist(make_desk, accounts) -> None:
    accounts()
    desk = make_desk(username=None)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen"
        assert desk.focused is not None and desk.focused.id == "username"
        await pilot.press(*"agent1", "tab", *"agent1", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        table = desk.screen.table
        assert [item.account_ref for item in table.items] == ["A-0001", "A-0002", "A-0003"]
        text = screen_text(desk)
        assert "Alice Moreno" in text and "$950.00" in text and "CN¥2,600.00" in text
        # Contactable now are marked, and the Shanghai account says when it will be (08:00 there = 19:00 Chicago).
        line = next(line for line in text.splitlines() if "A-0003" in line and "王小明" in line)
        assert "19:00" in line and "✓" not in line
        assert "✓" in next(line for line in text.splitlines() if "A-0001" in line)


async def test_wrong_password_keeps_what_was_typed(make_desk, accounts) -> None:
    desk = make_desk(username=None)
    async with desk.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"agent1", "tab", *"nope", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen"
        assert "Wrong user name or password." in screen_text(desk)
        assert desk.screen.query_one("#username").value == "agent1"
        assert desk.screen.query_one("#password").value == "nope"
        # Fix the password and sign in.
        await pilot.press("ctrl+u", *"agent1", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"


async def test_whole_loop_within_the_keystroke_budget(make_desk, accounts, login) -> None:
    first, second, _third = accounts()
    counter = KeyCounter()
    desk = make_desk()
    async with desk.run_test(size=(80, 24), message_hook=counter) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        typed = 0

        async def type_text(text: str) -> None:
            nonlocal typed
            await pilot.press(*text)
            typed += len(text)

        await pilot.press("enter")  # open the top account
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.detail is not None and desk.screen.detail.account_ref == "A-0001"
        await pilot.press("c")  # log a contact
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        await pilot.press("f3", "f4")  # identity verified, disclosure given
        await pilot.press("p")  # result PTP (so: right party); the focus goes to the amount
        assert desk.focused is not None and desk.focused.id == "ptp-amount"
        await type_text(AMOUNT)
        await pilot.press("tab")
        await type_text(DATE)
        await pilot.press("tab")
        assert desk.focused is not None and desk.focused.id == "note"
        await type_text(NOTE)
        await pilot.press("ctrl+n")  # save, and open the next account
        await settle(pilot)

        # Landed on the next account, already loaded (detail and timeline).
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.detail is not None and desk.screen.detail.account_ref == "A-0002"
        assert desk.screen.timeline is not None
        assert "Bob Okafor" in screen_text(desk)
        # The stack is worklist → next account: the old account and the call are gone.
        assert [type(s).__name__ for s in desk.screen_stack[1:]] == ["WorklistScreen", "AccountScreen"]

        keys = len(counter.keys) - typed
        assert keys <= 8, f"{keys} keys beyond typing: {[k.key for k in counter.keys]}"
        assert keys == 8  # enter c f3 f4 p tab tab ctrl+n: counted, so a regression shows

    api = await login("agent1")
    timeline = await api.timeline(first.id)
    contacts = [e.contact for e in timeline.items if e.kind == "contact"]
    assert len(contacts) == 1
    contact = contacts[0]
    assert (contact.outcome, contact.result, contact.channel, contact.party) == ("RPC", "PTP", "phone", "debtor")
    assert contact.ptp_amount is not None and contact.ptp_amount.amount_minor == 15000
    assert contact.ptp_amount.currency == "USD"
    assert contact.ptp_date == dt.date(2026, 3, 20)
    assert contact.note == NOTE
    assert contact.agent == "agent1" and contact.used == "+12125550101"
    assert not (await api.timeline(second.id)).items
    # Saved: no draft and nothing in the outbox.
    assert desk.outbox.pending(desk.server, "agent1") == []
    assert desk.drafts.get(desk.draft_key(first.id, "call")) is None


async def test_outcome_keys_never_swallow_the_note(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("2")  # no answer
        await pilot.press("tab")  # to the note
        assert desk.focused is not None and desk.focused.id == "note"
        # Every outcome and result key, typed into the note, is text.
        text = "1 2 p l $ r u h b z a k m i d ? j k n c"
        await pilot.press(*text)
        assert desk.screen.query_one("#note").text == text
        assert desk.screen.outcome == "NA" and desk.screen.result is None
        assert not desk.screen.query_one("#identity").value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        # The timeline now shows the contact (reloaded after saving).
        assert "no answer" in screen_text(desk)
    api = await login("agent1")
    contacts = [e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact"]
    assert [(c.outcome, c.result, c.note) for c in contacts] == [("NA", None, text)]


async def test_promise_needs_identity_and_disclosure(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("p", *"100", "tab", *"+7", "ctrl+s")
        await settle(pilot)
        # Refused by the desk before anything is sent; the form is still there, filled in.
        assert type(desk.screen).__name__ == "CallScreen"
        assert desk.screen.query_one("#ptp-amount").value == "100"
        assert any("identity" in n.message for n in notices(desk))
        # The focus went back to the outcome keys; f3 and f4 tick from there as from any field.
        assert desk.focused is not None and desk.focused.id == "picker"
        await pilot.press("f3", "f4", "ctrl+s")
        await settle(pilot)
        # Saved, and tracked as a promise by the backend: back on the account, which shows it.
        assert type(desk.screen).__name__ == "AccountScreen"
        assert any("is tracked: a payment keeps it" in n.message for n in notices(desk))
    api = await login("agent1")
    contact = next(e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact")
    assert contact.ptp_date == dt.date(2026, 3, 18) and contact.ptp_amount.amount_minor == 10000


async def test_escape_keeps_the_draft(make_desk, accounts, drafts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("4", "tab", *"left a voicemail", "escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        await pilot.press("c")
        await settle(pilot)
        assert desk.screen.outcome == "VM"
        assert desk.screen.query_one("#note").text == "left a voicemail"
    # A new desk (the process was killed) finds the draft on disk.
    again = make_desk()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        assert again.screen.outcome == "VM"
        assert again.screen.query_one("#note").text == "left a voicemail"


async def test_keys_in_one_burst_land_where_they_were_typed(make_desk, accounts, login) -> None:
    """Over a slow SSH link a whole sequence can arrive in one packet: each key
    still goes where it would have gone typed slowly, across focus moves and
    screens opening."""
    first, second, _third = accounts()
    desk = make_desk(username=None)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(desk, *"agent1", "tab", *"agent1", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        # The whole loop, and on into the next account: no answer there, saved.
        burst(desk, "enter", "c", "f3", "f4", "p", *AMOUNT, "tab", *DATE, "tab", *NOTE, "ctrl+n",
              "c", "2", "tab", *"rang out", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.detail is not None and desk.screen.detail.account_ref == "A-0002"
    api = await login("agent1")
    contacts = [e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact"]
    assert [(c.outcome, c.result, c.ptp_amount and c.ptp_amount.amount_minor, c.ptp_date, c.note)
            for c in contacts] == [("RPC", "PTP", 15000, dt.date(2026, 3, 20), NOTE)]
    contacts = [e.contact for e in (await api.timeline(second.id)).items if e.kind == "contact"]
    assert [(c.outcome, c.note) for c in contacts] == [("NA", "rang out")]
