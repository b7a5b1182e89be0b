"""Escalations on the desk (issue 5): the agent escalates from the account screen,
a legal referral names what it still lacks before and after it is submitted (and
keeps what was typed), legal officers land on their referrals inbox, accept a
referral with two keys and open its legal pack; the account then leaves the
agent's worklist (only legal officers act on it, issue 13)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.desk.conftest import notices, screen_text, settle
from tui import labels

pytestmark = pytest.mark.desk


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def timeline_texts(desk) -> list[str]:  # noqa: ANN001
    """The account screen's timeline entries as the desk words them, newest first."""
    from tui.widgets.timeline import entry_text

    return [entry_text(e, desk.agent_tz) for e in desk.screen.timeline.items]


async def open_account(pilot, ref: str) -> None:  # noqa: ANN001
    """From the worklist: search for ``ref`` and open it."""
    await settle(pilot)
    await pilot.press("slash", *ref, "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "AccountScreen"
    assert pilot.app.screen.detail.account_ref == ref


async def test_escalate_legal_accepts_and_the_account_leaves_the_agents_worklist(make_desk, referrals, drafts,
                                                                                 login) -> None:
    ready, _lacking = referrals()

    # agent1 refers the account that meets every precondition.
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, "L-0001")
        await pilot.press("e")
        await settle(pilot)
        screen = desk.screen
        assert type(screen).__name__ == "EscalateScreen"
        await pilot.press("l")
        await settle(pilot)
        assert screen.kind == "legal" and screen.missing == []
        assert "Meets every precondition of a legal referral." in screen.checks
        await pilot.press(*"six calls, no answer")
        await pilot.press("tab", *"letter sent 20 days ago")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        escalation = screen.escalation
        assert escalation is not None and escalation.kind == "legal" and escalation.status == "open"
        assert escalation.reason == "six calls, no answer" and escalation.note == "letter sent 20 days ago"
        assert any(n.title == "Escalated" for n in notices(desk))
        assert desk.drafts.get(desk.draft_key(ready.id, "escalation")) is None
        texts = timeline_texts(desk)
        assert (f"Escalation #{escalation.id} legal: opened · six calls, no answer · letter sent 20 days ago"
                in texts)
        assert f"Document: demand letter (PDF, zh_CN), escalation #{escalation.id}" in texts
        assert f"Escalated: legal #{escalation.id}: opened" in screen_text(desk)

    # legal1 lands on the referrals inbox, accepts it with two keys and a note, and opens the pack.
    desk = make_desk("legal1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        inbox = desk.screen
        assert type(inbox).__name__ == "EscalationsScreen"
        assert [e.id for e in inbox.items] == [escalation.id]
        row = screen_text(desk)
        assert "L-0001" in row and "王小明" in row and "agent1" in row and "Legal referrals" in row
        await pilot.press("a")
        await pilot.press(*"proceedings to be filed", "enter")
        await settle(pilot)
        assert inbox.items[0].status == "accepted" and inbox.items[0].decision_note == "proceedings to be filed"
        assert inbox.items[0].decided_by == "legal1"
        await pilot.press("l")
        await settle(pilot)
        pack = desk.screen
        assert type(pack).__name__ == "LegalPackScreen"
        folder = drafts.parent / "legal-packs" / f"L-0001-{escalation.id}"
        assert pack.folder == folder
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted(f"{k}.{f}" for k in ("demand_letter", "statement", "contact_history", "plan_history")
                               for f in ("md", "pdf"))
        assert "王小明" in _pdf_text((folder / "demand_letter.pdf").read_bytes())
        assert "王小明" in pack.markdown["demand_letter"]
        shown = "".join(line.strip() for line in screen_text(desk).splitlines())
        assert f"PDF:{folder / 'demand_letter.pdf'}" in shown.replace("PDF: ", "PDF:")
        await pilot.press("2")
        await settle(pilot)
        assert pack.kind == "statement"
        await pilot.press("escape")
        await settle(pilot)
        assert desk.screen is inbox

    # Accepted for legal proceedings, only legal officers act on the account (issue 13): it has
    # left agent1's worklist, and the record, still readable, is in legal status.
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"L-0001", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert "L-0001" not in [item.account_ref for item in desk.screen.table.items]
    api = await login("agent1")
    assert (await api.account(ready.id)).status == "legal"
    answer = await api.compliance(ready.id)
    assert not answer.allowed and "legal" in [b.rule for b in answer.blocks]
    assert labels.verdict(answer.allowed, answer.next_allowed_at, answer.blocks, dt.UTC).startswith(
        "✗ Not now: accepted for legal proceedings: legal officers only")


async def test_a_referral_lacking_a_precondition_lists_what_is_missing_and_keeps_the_reason(
        make_desk, referrals, drafts) -> None:  # noqa: ANN001
    _ready, lacking = referrals()
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, "L-0002")
        await pilot.press("e")
        await settle(pilot)
        screen = desk.screen
        await pilot.press("l")
        await settle(pilot)
        # Before submitting: what is missing, in words.
        expected = ["Documented contact attempts: 3; a legal referral needs at least 6.",
                    "Demand letter: none sent; one must be sent at least 14 days before a legal referral."]
        for line in expected:
            assert line in screen.checks
        assert "Not possible yet" in screen.checks
        await pilot.press(*"refuses to pay")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The backend refuses it (409 missing): listed the same way, nothing typed lost.
        assert desk.screen is screen and screen.escalation is None
        assert len(screen.missing) == 2
        for line in expected:
            assert line in screen.checks
        refused = [n for n in notices(desk) if n.title == "Not escalated"]
        assert refused and "not possible yet: 2 missing" in refused[-1].message
        assert screen.query_one("#escalate-reason").value == "refuses to pay"
        shown = screen_text(desk)
        assert "Documented contact attempts: 3; a legal referral needs at least 6." in shown
        assert "Demand letter: none sent;" in shown
        # Escape keeps the draft; the form comes back with it.
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        draft = desk.drafts.get(desk.draft_key(lacking.id, "escalation"))
        assert draft["kind"] == "legal" and draft["reason"] == "refuses to pay"
        await pilot.press("e")
        await settle(pilot)
        again = desk.screen
        assert again.kind == "legal" and again.query_one("#escalate-reason").value == "refuses to pay"
        assert "Documented contact attempts: 3; a legal referral needs at least 6." in again.checks
        # Another kind needs no preconditions: a supervisor takes it.
        await pilot.press("escape")
        await settle(pilot)


async def test_supervisors_reach_the_inbox_from_the_worklist_and_return_with_a_note(
        make_desk, make_account) -> None:  # noqa: ANN001
    account = make_account(account_ref="S-0001", customer_name="Alice Moreno", dpd=65)
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, "S-0001")
        await pilot.press("e", "s")
        await pilot.press(*"asks for a manager", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert "Escalated: supervisor #" in screen_text(desk)

    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # A supervisor lands on the team overview; the worklist is one key away.
        assert type(desk.screen).__name__ == "SupervisorScreen"
        await pilot.press("w")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Escalations: open inbox" in titles
        await pilot.press("x")
        await settle(pilot)
        inbox = desk.screen
        assert type(inbox).__name__ == "EscalationsScreen"
        assert [e.account_ref for e in inbox.items] == ["S-0001"]
        # A return needs a note: Enter alone does not send it.
        await pilot.press("r", "enter")
        await settle(pilot)
        assert inbox.items[0].status == "open"
        assert any(n.title == "Not returned yet" for n in notices(desk))
        await pilot.press(*"call her back first", "enter")
        await settle(pilot)
        assert inbox.items[0].status == "returned"
        await pilot.press("o")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.account_id == account.id
        assert "returned by super1 (call her back first)" in screen_text(desk)
