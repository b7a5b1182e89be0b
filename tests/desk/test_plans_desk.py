"""Plans in the desk, driven by keys against the real backend at 80×24: drafting
with a live schedule and every authority problem explained inline, a
supervisor's approvals queue deciding in two keys, and the agent seeing it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from backend_client.models import PlanCreate
from tests.desk.conftest import notices, screen_text, settle

pytestmark = pytest.mark.desk


def plan_line(desk) -> str:  # noqa: ANN001
    return next((line.strip() for line in screen_text(desk).splitlines() if "Plan #" in line), "")


async def open_plan_form(pilot) -> None:  # noqa: ANN001
    """Worklist → the top account (A-0001, balance $4,200.00) → its plan form."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "PlanScreen"


async def test_an_over_limit_settlement_goes_to_the_supervisor_who_approves_it(make_desk, accounts, login,
                                                                             tmp_path) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        # s: a settlement; 20 % off; tab past the payments (one); the first due in a week.
        await pilot.press("s", *"20", "tab", "tab", *"+7")
        await settle(pilot)
        text = screen_text(desk)
        assert "→ Wed, Mar 18, 2026" in text
        assert "Total $3,360.00 · discount $840.00" in text
        assert re.search(r"1  Mar 18, 2026 +\$3,360.00", text)
        # Which limit, what is allowed, what was asked, and that it needs approval.
        assert "Needs approval: beyond your authority" in text
        assert "discount: allowed 10%, asked 20.00%" in text
        await pilot.press("ctrl+t")  # save and submit
        await settle(pilot)
        plan = desk.screen.plan
        assert plan is not None and plan.status == "pending"
        assert f"Plan #{plan.id} is pending approval" in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert plan_line(desk).endswith(": pending approval")
        for line in screen_text(desk).splitlines():
            assert len(line) <= 80

    boss = make_desk("super1", drafts_dir=tmp_path / "super1")
    async with boss.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "a Approvals" in screen_text(boss)  # the team overview's footer (a supervisor lands there)
        await pilot.press("a")
        await settle(pilot)
        assert type(boss.screen).__name__ == "ApprovalsScreen"
        text = screen_text(boss)
        row = next(line for line in text.splitlines() if "A-0001" in line and "settlement" in line)
        for part in ("Alice", "$3,360.00", "20%", "Mar 18", "agent1", "discount"):
            assert part in row, part
        assert "discount: allowed 10%, asked 20.00%" in text  # the details: why it is here
        assert "Balance $4,200.00 · overdue $950.00" in text  # the account summary
        await pilot.press("a", "enter")  # approve, with no note: two keys
        await settle(pilot)
        assert "No plans are waiting for approval." in screen_text(boss)
        assert any(f"Plan #{plan.id} on A-0001 approved" in n.message for n in notices(boss))

    api = await login("agent1")
    decided = await api.plan(plan.id)
    assert decided.status == "active" and decided.decided_by == "super1"

    again = make_desk()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert plan_line(again) == f"Plan #{plan.id} · settlement · $3,360.00 · due Mar 18, 2026: active"
        assert f"Plan #{plan.id} settlement $3,360.00: active" in screen_text(again)  # on the timeline


async def test_the_account_screen_shows_a_decision_when_shown_again(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    agent = await login("agent1")
    drafted = await agent.draft_plan(first.id, PlanCreate(kind="settlement", discount_percent="20",
                                                          first_due=dt.date(2026, 3, 18)))
    await agent.plan_action(drafted.id, "submit")
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert plan_line(desk).endswith(": pending approval")
        boss = await login("super1")
        await boss.plan_action(drafted.id, "reject", note="Too much off")
        await pilot.press("n")  # any form over the account, then back
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert plan_line(desk).endswith(": rejected (Too much off)")


async def test_the_preview_follows_what_is_typed(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        assert "Choose the kind of plan with its key" in screen_text(desk)
        # i: instalments of the balance; four of them, monthly from next week.
        await pilot.press("i", *"4", "tab", "tab", *"+7")
        await settle(pilot)
        text = screen_text(desk)
        assert "Total $4,200.00" in text and "4 payments, Mar 18, 2026 to Jun 18, 2026" in text
        assert text.count("$1,050.00") == 4
        assert "✓ Within your authority" in text
        # Six instead of four: the schedule follows.
        await pilot.press("shift+tab", "shift+tab", "backspace", "6")
        await settle(pilot)
        text = screen_text(desk)
        assert "Total $4,200.00" in text and "6 payments, Mar 18, 2026 to Aug 18, 2026" in text
        assert text.count("$700.00") == 6
        # Thirty payments: the first is the smallest first payment (5 % of the balance),
        # the rest shared; longer than an agent may agree, so it needs approval.
        await pilot.press("backspace", *"30")
        await settle(pilot)
        text = screen_text(desk)
        assert "$210.00" in text and "Needs approval" in text
        assert "term: allowed 24 months, asked 30 months" in desk.screen.verdict
        # A date that cannot be read is said at once, without asking the backend.
        await pilot.press("tab", "tab", "ctrl+u", *"someday")
        await settle(pilot)
        assert "Not a date: someday" in screen_text(desk)
        assert desk.screen.preview is None


async def test_a_plan_beyond_every_authority_cannot_be_saved(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        await pilot.press("s", *"40", "tab", "tab", *"+7")
        await settle(pilot)
        text = screen_text(desk)
        assert "Beyond every authority: cannot be saved." in text
        assert "discount: allowed 30%, asked 40.00%" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PlanScreen" and desk.screen.plan is None
        assert any(n.title == "Not saved" for n in notices(desk))
    api = await login("agent1")
    assert (await api.plans(account_id=first.id)).items == []


async def test_escape_keeps_the_plan_draft(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        await pilot.press("s", *"15", "tab", "tab", *"+10", "tab", *"half now, half from the bonus")
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        await pilot.press("p")
        await settle(pilot)
        screen = desk.screen
        assert screen.kind == "settlement"
        assert screen.values()["discount"] == "15" and screen.values()["first_due"] == "+10"
        assert screen.values()["note"] == "half now, half from the bonus"
        assert "Total $3,570.00" in screen_text(desk)
    # A new desk (the process was killed) finds the draft on disk.
    again = make_desk()
    async with again.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        assert again.screen.kind == "settlement" and again.screen.values()["discount"] == "15"


async def test_a_saved_draft_is_submitted_as_it_is_or_replaced_when_changed(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        await pilot.press("p", *"500", "tab", *"+3", "ctrl+s")
        await settle(pilot)
        saved = desk.screen.plan
        assert saved is not None and saved.status == "draft"
        assert f"Draft #{saved.id} is saved on the account" in screen_text(desk)
        # Still the form: a change, then submit; the changed plan replaces the draft.
        await pilot.press("ctrl+u", *"+5", "ctrl+t")  # the focus is still on the date
        await settle(pilot)
        submitted = desk.screen.plan
        assert submitted is not None and submitted.status == "active" and submitted.id != saved.id
        assert submitted.schedule[0].due == dt.date(2026, 3, 16)
        assert f"Plan #{submitted.id} is active; the first payment is due Mar 16, 2026" in screen_text(desk)
    api = await login("agent1")
    statuses = {p.id: p.status for p in (await api.plans(account_id=first.id)).items}
    assert statuses == {saved.id: "cancelled", submitted.id: "active"}


async def test_a_changed_draft_is_replaced_and_submitted_in_one_request(make_desk, accounts, login) -> None:
    """Issue 16 item 4: the desk used to cancel, draft and submit in three requests, and could
    lose the old draft between them; now the form's change is one write."""
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        await pilot.press("p", *"500", "tab", *"+3", "ctrl+s")
        await settle(pilot)
        saved = desk.screen.plan
        assert saved is not None and saved.status == "draft"
        writes: list[str] = []
        send = desk.api._request

        async def counted(method: str, path: str, **kwargs):  # noqa: ANN003, ANN202
            if method != "GET" and not path.endswith("/preview"):  # a preview POST writes nothing
                writes.append(f"{method} {path}")
            return await send(method, path, **kwargs)

        desk.api._request = counted
        await pilot.press("ctrl+u", *"+5", "ctrl+t")
        await settle(pilot)
        submitted = desk.screen.plan
        assert submitted is not None and submitted.status == "active" and submitted.id != saved.id
        assert writes == [f"POST /api/v1/accounts/{saved.account_id}/plans"]
        # The preview asked while the draft was open does not call the replaced draft a problem.
        assert "still open" not in screen_text(desk)


async def test_a_promise_on_the_call_is_tracked_as_a_plan_in_a_few_keys(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("f3", "f4", "p", *"150", "tab", *"+7", "ctrl+s")
        await settle(pilot)
        # No plan form to fill: the backend made the promise with the contact.
        assert type(desk.screen).__name__ == "AccountScreen"
        [said] = [n.message for n in notices(desk) if n.title == "Promise"]
        assert said.startswith("Promise #") and said.endswith("of $150.00 by Mar 18, 2026 is tracked: a payment keeps it.")
        await settle(pilot)
        assert plan_line(desk).endswith("· promise · $150.00 · due Mar 18, 2026: active")
        assert "promise #" in screen_text(desk)  # the contact's line on the timeline names it
    api = await login("agent1")
    assert [(p.kind, p.status, p.total.amount_minor) for p in (await api.plans(account_id=first.id)).items] == [
        ("promise", "active", 15000)]


async def _pending_settlement(accounts, login):  # noqa: ANN001, ANN202
    """agent1's 25 % settlement on their first account, submitted: beyond an agent's authority, so pending."""
    first, *_ = accounts()
    agent = await login("agent1")
    drafted = await agent.draft_plan(first.id, PlanCreate(kind="settlement", discount_percent="25",
                                                          first_due=dt.date(2026, 3, 20)))
    await agent.plan_action(drafted.id, "submit")
    return agent, drafted


async def test_a_rejection_needs_a_note(make_desk, accounts, login, tmp_path) -> None:
    agent, drafted = await _pending_settlement(accounts, login)
    boss = make_desk("super1", drafts_dir=tmp_path / "super1")
    async with boss.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert "discount: allowed 10%, asked 25.00%" in screen_text(boss)
        await pilot.press("r", "enter")
        await settle(pilot)
        assert any("Say why" in n.message for n in notices(boss))
        assert "Reject #" in screen_text(boss)
        await pilot.press(*"25% is too much", "enter")
        await settle(pilot)
        assert "No plans are waiting for approval." in screen_text(boss)
    decided = await agent.plan(drafted.id)
    assert decided.status == "rejected" and decided.decision_note == "25% is too much"


async def test_only_supervisors_have_the_queue(make_desk, accounts, tmp_path) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Approvals" not in screen_text(desk)
        await pilot.press("a")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert not [c for c in desk.get_system_commands(desk.screen) if "pprovals" in c.title]
    boss = make_desk("super1", drafts_dir=tmp_path / "super1")
    async with boss.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in boss.get_system_commands(boss.screen)]
        assert "Plans: approvals" in titles and all(": " in t for t in titles)
        await pilot.press("w")  # from the team overview to the worklist beneath it
        await settle(pilot)
        assert type(boss.screen).__name__ == "WorklistScreen" and "a Approvals" in screen_text(boss)
        await pilot.press("enter")  # an account: a is not the queue there, but the palette is
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert type(boss.screen).__name__ == "AccountScreen"
        command = next(c for c in boss.get_system_commands(boss.screen) if c.title == "Plans: approvals")
        command.callback()
        await settle(pilot)
        assert type(boss.screen).__name__ == "ApprovalsScreen"
        assert "No plans are waiting for approval." in screen_text(boss)
        titles = [c.title for c in boss.get_system_commands(boss.screen)]
        assert "Approvals: Approve" in titles and "Approvals: Reject" in titles


async def test_an_open_plan_is_named_and_cancelled_with_two_presses(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    agent = await login("agent1")
    active = await agent.draft_plan(first.id, PlanCreate(kind="promise", amount="300.00",
                                                         first_due=dt.date(2026, 3, 13)))
    await agent.plan_action(active.id, "submit")
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        assert f"This account has a plan active: #{active.id}, promise, $300.00" in screen_text(desk)
        await pilot.press("m", *"+5")  # the minimum due, in five days
        await settle(pilot)
        assert f"Plan #{active.id} (active) is still open on this account: cancel it first (^x)" in desk.screen.verdict
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert (await agent.plan(active.id)).status == "active"  # once only warns
        assert any("again to cancel" in n.message for n in notices(desk))
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert (await agent.plan(active.id)).status == "cancelled"
        assert "Total $50.00" in screen_text(desk) and "✓ Within your authority" in screen_text(desk)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert desk.screen.plan is not None and desk.screen.plan.status == "active"
        assert desk.screen.plan.kind == "minimum"


async def test_with_the_backend_away_the_plan_form_is_kept(make_desk, accounts, switch, drafts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        switch.down = True
        await pilot.press("p", *"250", "tab", *"+2")
        await settle(pilot)
        assert "The backend is not answering: no schedule yet." in desk.screen.verdict
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert desk.screen.plan is None and type(desk.screen).__name__ == "PlanScreen"
        assert any(n.title == "Not saved" for n in notices(desk))
    switch.down = False
    again = make_desk()
    async with again.run_test(size=(80, 24)) as pilot:
        await open_plan_form(pilot)
        assert again.screen.values()["amount"] == "250" and again.screen.values()["first_due"] == "+2"
        assert "Total $250.00" in screen_text(again)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert again.screen.plan is not None and again.screen.plan.status == "draft"


async def test_a_decision_the_backend_refuses_is_said_and_the_queue_reloads(make_desk, accounts, login,
                                                                              tmp_path) -> None:
    """The plan was cancelled after the queue was shown: approving it is refused (409);
    the desk says why, keeps nothing stale on screen, and the decision row is left open
    with its note, not lost."""
    agent, drafted = await _pending_settlement(accounts, login)
    boss = make_desk("super1", drafts_dir=tmp_path / "super1")
    async with boss.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert f"Plan #{drafted.id}" in screen_text(boss)
        await agent.plan_action(drafted.id, "cancel")
        await pilot.press("a", *"fine by me", "enter")
        await settle(pilot)
        refusals = [n for n in notices(boss) if n.title == "Not decided"]
        assert refusals and refusals[0].message.startswith(f"Plan #{drafted.id}: "), notices(boss)
        assert "No plans are waiting for approval." in screen_text(boss)
        assert boss.screen.decision_row.note.value == "fine by me"
    assert (await agent.plan(drafted.id)).status == "cancelled"
