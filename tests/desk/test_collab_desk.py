"""Collaboration in the desk (issue 5 item 4), by keys at 80×24 against the real
backend: a note shared with ``ctrl+o`` is marked on the timeline and read by
customer service; ``h`` hands the account to another team with a note."""

from __future__ import annotations

import pytest

from tests.desk.conftest import notices, screen_text, settle

pytestmark = pytest.mark.desk


async def open_first_account(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "AccountScreen"


async def test_a_shared_note_is_marked_and_customer_service_reads_it(make_desk, accounts, login) -> None:  # noqa: ANN001
    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_first_account(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert "Your team only" in screen_text(desk)
        assert "^o Share" in screen_text(desk)  # the footer names the key
        await pilot.press(*"Fee dispute: sent to service", "ctrl+o")
        await settle(pilot)
        assert "Shared with other teams" in screen_text(desk)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert any("Shared note saved on A-0001." in n.message for n in notices(desk))
        await pilot.press("n", *"Private thought", "ctrl+s")
        await settle(pilot)
        text = screen_text(desk)
        assert "Shared note: Fee dispute: sent to service" in text
        assert "Note: Private thought" in text

    service = await login("service1")
    shared = await service.shared_notes(account_ref="A-0001")
    assert [n.text for n in shared.items] == ["Fee dispute: sent to service"]
    assert shared.account.customer_name == "Alice Moreno" and shared.account.agent == "agent1"


async def test_a_note_with_a_pasted_control_character_is_said_and_kept_unsent(make_desk, accounts, login) -> None:  # noqa: ANN001
    """A TextArea keeps a pasted BEL or C1 character; the wire refuses it (issue 15): the
    note form says so and keeps the text, and nothing is queued to jam the outbox."""
    from textual.widgets import TextArea

    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_first_account(pilot)
        await pilot.press("n")
        await settle(pilot)
        desk.screen.query_one("#note-text", TextArea).text = "Paid\x07 in full\x9f"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "NoteScreen"
        assert any("Cannot save: check text" in n.message for n in notices(desk))
        assert desk.screen.query_one("#note-text", TextArea).text == "Paid\x07 in full\x9f"
        assert desk.outbox.pending(desk.server, "agent1") == []
        desk.screen.query_one("#note-text", TextArea).text = "Paid in full"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"

    timeline = await (await login("agent1")).timeline(alice.id)
    assert [e.note.text for e in timeline.items if e.kind == "note"] == ["Paid in full"]


async def test_the_agent_hands_an_account_to_team_b_with_h(make_desk, accounts, login) -> None:  # noqa: ANN001
    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_first_account(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert type(desk.screen).__name__ == "HandoffScreen"
        assert "Now with: agent1 · team A" in screen_text(desk)
        for line in screen_text(desk).splitlines():
            assert len(line) <= 80
        await pilot.press("ctrl+s")  # nothing named: said, nothing sent
        await settle(pilot)
        assert "Name the agent or the team who takes the account." in screen_text(desk)
        await pilot.press(*"agent3", "tab", "tab", *"Moved to Taipei; team B speaks Mandarin", "ctrl+s")
        await settle(pilot)
        assert any("A-0001 handed off to agent3." in n.message for n in notices(desk))
        # Team B's now: back on the worklist, which no longer has it.
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert "A-0001" not in screen_text(desk)

    timeline = await (await login("agent3")).timeline(alice.id)
    entry = next(e for e in timeline.items if e.kind == "handoff")
    assert entry.actor == "agent1" and entry.data.note == "Moved to Taipei; team B speaks Mandarin"


async def test_a_pasted_control_character_is_said_and_the_handoff_form_kept(make_desk, accounts, login) -> None:  # noqa: ANN001
    """An Input takes a pasted line as it is, ESC and all; the wire refuses it (issue 15):
    the form says which field, keeps what was typed, and nothing is sent."""
    from textual.widgets import Input

    alice, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_first_account(pilot)
        await pilot.press("h")
        await settle(pilot)
        desk.screen.query_one("#handoff-team", Input).value = "B\x1b[2J"
        desk.screen.query_one("#handoff-note", Input).value = "Moved to Taipei"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "HandoffScreen"
        assert "Cannot save: check to_team" in screen_text(desk)
        assert desk.screen.query_one("#handoff-note", Input).value == "Moved to Taipei"

    timeline = await (await login("agent1")).timeline(alice.id)
    assert not [e for e in timeline.items if e.kind == "handoff"]


async def test_service1_looks_up_what_collections_shares(make_desk, accounts, login) -> None:  # noqa: ANN001
    alice, *_ = accounts()
    agent = await login("agent1")
    await agent.add_note(alice.id, "Customer asks for a fee refund: over to service", visibility="shared")
    await agent.add_note(alice.id, "Private: sounded evasive")
    desk = make_desk("service1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "No accounts in your worklist." in screen_text(desk)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"shared notes: look up")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SharedNotesScreen"
        await pilot.press(*"A-0001", "enter")
        await settle(pilot)
        text = screen_text(desk)
        assert "A-0001 · Alice Moreno" in text and "past due" in text and "handled by" in text
        assert "Customer asks for a fee refund: over to service" in text
        assert "evasive" not in text and "+1212" not in text and "$" not in text
        for line in text.splitlines():
            assert len(line) <= 80
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
