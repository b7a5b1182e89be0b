"""Letters from the desk (issue 14) at 80×24 against the real backend: an agent
sends a demand letter from the account (``l`` twice), which the timeline shows and
a legal referral then counts; a supervisor sends a segment's letters in one batch
and gets the print file; an account on legal hold says since when."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from backend.models import Account, Contact, User
from backend_client.models import EscalationCreate, SegmentCreate, SegmentFilter
from tests.desk.conftest import NOW, notices, screen_text, settle

pytestmark = pytest.mark.desk


async def test_an_agent_sends_a_demand_letter_from_the_account(make_desk, accounts, login, session) -> None:  # noqa: ANN001
    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Demand letter: send" in titles
        await pilot.press("l")
        await settle(pilot)
        assert any("Press l again to send a demand letter to 1 Main St, New York, NY" in n.message
                   for n in notices(desk))
        assert session.scalar(select(Contact.id).where(Contact.account_id == alice.id)) is None  # not yet
        await pilot.press("l")
        await settle(pilot)
        assert any(n.message.startswith("Demand letter sent to 1 Main St") for n in notices(desk))
        text = screen_text(desk)
        assert "letter · sent to 1 Main St, New York, NY" in text
        assert "Document: demand letter (PDF, en)" in text
    [letter] = session.scalars(select(Contact).where(Contact.account_id == alice.id)).all()
    assert (letter.channel, letter.direction, letter.document_id is not None) == ("letter", "outbound", True)
    # Fourteen days on (the contact dated back), with six attempts, legal takes the referral.
    session.execute(update(Contact).where(Contact.id == letter.id).values(started_at=NOW - dt.timedelta(days=15)))
    agent_id = session.scalar(select(User.id).where(User.username == "agent1"))
    for i in range(5):
        session.add(Contact(account_id=alice.id, agent_id=agent_id, channel="phone", direction="outbound",
                            party="debtor", outcome="NA", started_at=NOW - dt.timedelta(days=30 - i), note=""))
    session.commit()
    api = await login("agent1")
    referral = await api.escalate(alice.id, EscalationCreate(kind="legal", reason="no payment"))
    assert referral.status == "open"
    pack = {d.name for d in referral.documents}
    assert "demand_letter.pdf" in pack


async def test_a_supervisor_sends_a_segments_letters_and_gets_the_print_file(make_desk, accounts, login,
                                                                              drafts) -> None:  # noqa: ANN001
    accounts()  # dpd 95, 65, 35
    boss = await login("super1")
    await boss.create_segment(SegmentCreate(name="Ninety plus", filter=SegmentFilter(min_dpd=90, max_dpd=100)))
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"segments: open")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SegmentsScreen"
        await pilot.press("l")
        await settle(pilot)
        assert "Send a demand letter to each of the 1 accounts of Ninety plus?" in screen_text(desk)
        await pilot.press("enter")
        await settle(pilot)
        [said] = [n.message for n in notices(desk) if n.title == "Letters"]
        assert said.startswith("Demand letters for Ninety plus: 1 sent, 0 skipped. Print file: ")
        path = said.split("Print file: ", 1)[1]
        assert path.endswith(".pdf") and drafts.parent in Path(path).parents
        assert open(path, "rb").read(5) == b"%PDF-"


async def test_an_account_with_legal_says_since_when(make_desk, accounts, session) -> None:  # noqa: ANN001
    from backend.services.flags import set_legal_hold
    from tui.screens.account.account import AccountScreen

    alice, *_ = accounts()
    account = session.get(Account, alice.id)
    legal = session.scalar(select(User).where(User.username == "legal1"))
    set_legal_hold(session, account, True, legal)
    account.status = "legal"
    session.commit()
    desk = make_desk("legal1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await desk.push_screen(AccountScreen(alice.id))
        await settle(pilot)
        assert "A-0001 · Alice Moreno · with legal since Mar 11, 2026" in screen_text(desk)
