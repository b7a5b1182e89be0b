"""The front door on the desk (issue 15 item 3): a session that the backend ended
after 30 idle minutes brings the sign-in back over whatever was open, keeping
every draft and the outbox; signing in again returns to where the agent was, and
what was kept is sent. ``Session: sign out`` ends the session on the backend.
The real backend in-process, its clock moved by the test."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from backend.models import ApiToken, Note
from tests.desk.conftest import SERVER, notices, screen_text, settle

pytestmark = pytest.mark.desk


async def test_an_idle_session_ends_and_the_desk_keeps_every_draft_and_the_outbox(
        make_desk, accounts, backend_clock, session) -> None:  # noqa: ANN001
    alice = accounts()[0]
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("2", "tab", *"call draft typed before the break", "escape")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"note typed before the break")
        backend_clock.later(minutes=31)  # the agent went away: 31 minutes without a request
        await pilot.press("ctrl+s")
        await settle(pilot)

        # The backend said 401: the sign-in is over the account, for the same user.
        assert type(desk.screen).__name__ == "LoginScreen" and desk.screen.again
        assert desk.screen.query_one("#username").value == "agent1"
        assert "Your session has ended; sign in again." in screen_text(desk)
        # Nothing is lost: the note waits in the outbox, the call form's draft in the store.
        [kept] = desk.outbox.pending(SERVER, "agent1")
        assert (kept.kind, kept.account_id, kept.body["text"]) == ("note", alice.id, "note typed before the break")
        assert desk.drafts.get(desk.draft_key(alice.id, "call"))["note"] == "call draft typed before the break"
        assert desk.status.unsent == 1
        assert session.scalar(select(Note).where(Note.account_id == alice.id)) is None

        await pilot.press(*"agent1", "enter")
        await settle(pilot)
        # Back where the agent was; what was kept has been sent, once.
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.detail.account_ref == "A-0001"
        assert desk.outbox.pending(SERVER, "agent1") == [] and desk.status.unsent == 0
        notes = list(session.scalars(select(Note.text).where(Note.account_id == alice.id)))
        assert notes == ["note typed before the break"]
        await pilot.press("c")
        await settle(pilot)
        assert desk.screen.query_one("#note").text == "call draft typed before the break"


async def test_an_account_opened_after_the_session_ended_loads_once_signed_in_again(
        make_desk, accounts, backend_clock) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        backend_clock.later(minutes=45)
        await pilot.press("enter")  # open an account: 401
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen" and desk.screen.again
        await pilot.press(*"agent1", "enter")
        await settle(pilot)
        # The account that could not load while the session had ended loads now.
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.detail is not None and desk.screen.detail.account_ref == "A-0001"
        assert desk.screen.timeline is not None
        assert "Balance     $4,200.00" in screen_text(desk)


async def test_session_sign_out_ends_the_session_on_the_backend(make_desk, accounts, session) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        token = desk.api.token
        assert token
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Session: sign out" in titles and "Desk: sign out" not in titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"sign out")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen" and not desk.screen.again
        assert [n.title for n in notices(desk)][-1] == "Signed out"  # said, not only shown
        assert desk.api.token is None and desk.user is None
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.token_hash == digest)) is not None
        await pilot.press(*"agent1", "tab", *"agent1", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"


async def test_too_many_failed_sign_ins_say_when_to_try_again(make_desk, accounts) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk(username=None)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await pilot.press(*"agent2", "tab", *"wrong", "enter")
            await settle(pilot)
            await pilot.press("shift+tab", "ctrl+u")  # the user name again, emptied
            await pilot.press("tab", "ctrl+u", "shift+tab")  # and the password
        assert "Too many failed sign-ins: try again in 1 s." in screen_text(desk)
