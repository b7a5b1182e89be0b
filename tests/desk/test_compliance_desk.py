"""The backend's compliance verdict in the desk (issue 3): why an account cannot
be called and from when, on the worklist, the account and the call screen; a
forbidden call refused with the rule and the form kept; the third-party mode
that hides every debt detail and shows the location-only script, lawful on the
debtor's own number in China too (issue 13)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.desk.conftest import NOW, notices, screen_text, settle

pytestmark = pytest.mark.desk


async def _open(pilot, row: int) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press(*["down"] * row, "enter")
    await settle(pilot)


async def test_the_worklist_puts_the_callable_first_and_says_when_the_others_open(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = desk.screen.query_one("WorklistTable")
        refs = [item.account_ref for item in table.items]
        # Shanghai is shut at NOW (23:00 there): last, whatever its figures.
        assert refs[-1] == "A-0003" and not table.items[-1].contactable_now
        await pilot.press("down", "down")
        await settle(pilot)
        text = " ".join(screen_text(desk).split())  # the line wraps
        assert "A-0003 王小明" in text and "Not now: outside the customer's calling hours" in text
        # 08:00 in Shanghai on the 12th, in the agent's own (New York) time.
        assert "lawful from Mar 11 19:00" in text


async def test_the_account_and_call_screens_say_why_not_and_a_call_now_is_refused(make_desk, accounts, login) -> None:
    *_, shanghai = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open(pilot, 2)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert "✗ Not now: outside the customer's calling hours" in screen_text(desk)
        await pilot.press("c")
        await settle(pilot)
        verdict = str(desk.screen.query_one("#call-verdict").render())
        assert verdict.startswith("✗ Not now: outside the customer's calling hours · lawful from")
        assert desk.screen.query_one("#call-verdict").has_class("-blocked")
        await pilot.press("2")  # no answer
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Refused by the backend with the rule; the form stays as it was.
        assert type(desk.screen).__name__ == "CallScreen" and desk.screen.outcome == "NA"
        assert any("calling hours" in n.message for n in notices(desk))
    api = await login("agent1")
    assert not [e for e in (await api.timeline(shanghai.id)).items if e.kind == "contact"]


async def test_third_party_mode_hides_the_debt_and_shows_the_location_script(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open(pilot, 0)
        await pilot.press("c")
        await settle(pilot)
        call = desk.screen
        assert not call.has_class("-third-party") and call.query_one("#ptp-row").display
        await pilot.press("8")  # third party on the line
        await settle(pilot)
        assert call.has_class("-third-party")
        for hidden in ("#ptp-row", "#checklist", "#disclosure-text"):
            assert not call.query_one(hidden).display, hidden
        text = screen_text(desk)
        assert "location only" in text and "Never mention the debt" in text
        assert "collect a debt" not in text and "$950.00" not in text and "Promise" not in text
        # Asked afresh for a third party: the US allows one location contact.
        assert str(call.query_one("#call-verdict").render()).startswith("✓")


async def test_a_third_party_on_the_debtors_own_number_in_china_may_be_recorded(make_desk, accounts) -> None:
    """China forbids dialling a third party's number or discussing the debt with one;
    someone else answering the debtor's own number is lawful to record (within hours),
    location only."""
    accounts()
    # 11:00 in Shanghai (03:00 UTC): within its calling hours.
    desk = make_desk(at=NOW - dt.timedelta(hours=12))
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = desk.screen.query_one("WorklistTable")
        row = [item.account_ref for item in table.items].index("A-0003")
        await pilot.press(*["down"] * row, "enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        call = desk.screen
        assert call.query_one("#used").value == "+8613812345678"  # the debtor's own number
        await pilot.press("8")  # someone else answers it
        await settle(pilot)
        assert call.query_one("#party").value == "third_party" and call.has_class("-third-party")
        verdict_line = str(call.query_one("#call-verdict").render())
        assert verdict_line.startswith("✓ May be called now · Shanghai (customer)"), verdict_line
        text = screen_text(desk)
        assert "location only" in text and "Never mention the debt" in text
        assert "collect a debt" not in text and "¥2,600.00" not in text
