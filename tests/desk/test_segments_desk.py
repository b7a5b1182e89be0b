"""The segments screen (issue 6 item 4) driven by keys against the real backend
at 80×24: super1 opens it from the palette, saves a segment with the form, sees
its count, and moves its accounts to agent2 with ``a`` then ``enter``."""

from __future__ import annotations

import pytest

from tests.desk.conftest import notices, screen_text, settle

pytestmark = pytest.mark.desk


async def test_super1_saves_a_segment_and_assigns_it_from_the_desk(make_desk, accounts, login) -> None:  # noqa: ANN001
    alice, bob, wang = accounts()  # dpd 95, 65, 35; all agent1's
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Segments: open" in titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"segments: open")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SegmentsScreen"
        assert "No segments yet: n saves one." in screen_text(desk)
        await pilot.press("n")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SegmentFormScreen"
        for line in screen_text(desk).splitlines():
            assert len(line) <= 80
        # Name; buckets 60 and 90; (team: super1's); balance from 2,000 USD; DPD 60 and up; to agent2.
        await pilot.press(*"Late USD", "tab", *"60,90", "tab", "tab", *"2000", "tab", "tab", *"USD", "tab",
                          *"60", "tab", "tab", "tab", "tab", "tab", "tab", *"agent2", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SegmentsScreen", screen_text(desk)
        text = screen_text(desk)
        row = next(line for line in text.splitlines() if "Late USD" in line)
        for part in ("A", "60,90", "agent2", " 2"):
            assert part in row, (part, row)
        assert any("Segment Late USD saved: 2 accounts now." in n.message for n in notices(desk))
        await pilot.press("a")
        await settle(pilot)
        assert "Move the 2 accounts of Late USD to agent2? Enter moves, Esc cancels." in screen_text(desk)
        await pilot.press("enter")
        await settle(pilot)
        assert any("Moved 2 accounts of Late USD to agent2." in n.message for n in notices(desk))
        for line in screen_text(desk).splitlines():
            assert len(line) <= 80

    api = await login("agent2")
    mine = {item.account_ref for item in (await api.worklist()).items}
    assert mine == {"A-0001", "A-0002"}
    segments = (await (await login("super1")).segments()).items
    assert [(s.name, s.count, s.filter.min_balance_minor, s.filter.min_dpd) for s in segments] == \
        [("Late USD", 2, 200_000, 60)]


async def test_agents_have_no_segments_command(make_desk, accounts) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Segments: open" not in [c.title for c in desk.get_system_commands(desk.screen)]
