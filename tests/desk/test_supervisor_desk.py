"""The supervisor desk (issue 5, items 3 and 5): the team overview, assigning a
filtered set in one action, breaches, and the reports screen, driven with Pilot
against the real backend in-process."""

from __future__ import annotations

import datetime as dt

import pytest

from backend_client.models import AccountFilter, ContactCreate
from backend_client.report_format import format_agents
from tests.desk.conftest import NOW, burst, notices, screen_text, settle

pytestmark = pytest.mark.desk


def line_of(desk, start: str) -> list[str]:  # noqa: ANN001
    """The words of the first line on screen that starts with ``start``."""
    return next(line.split() for line in screen_text(desk).splitlines() if line.startswith(start))


async def test_super1_moves_twenty_accounts_from_agent1_to_agent2_in_one_action(make_desk, make_account,
                                                                                switch) -> None:  # noqa: ANN001
    """The issue's "done when": one action moves twenty accounts, and the overview and
    the agent report on screen change with it."""
    for n in range(20):
        make_account(account_ref=f"MV-{n:02d}", customer_name=f"Mover {n:02d}", dpd=35 + n, agent="agent1")
    make_account(account_ref="ST-01", customer_name="Stayer One", dpd=125, agent="agent1")  # outside the range
    make_account(account_ref="ST-02", customer_name="Stayer Two", dpd=10, agent="agent1")
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "SupervisorScreen"  # a supervisor lands on the team
        rows = {r.agent: r for r in desk.screen.rows}
        assert (rows["agent1"].accounts, rows["agent2"].accounts) == (22, 0)
        assert line_of(desk, "agent1")[:2] == ["agent1", "22"]
        assert line_of(desk, "agent2")[:2] == ["agent2", "·"]
        await pilot.press("enter")  # agent1's accounts
        await settle(pilot)
        assert type(desk.screen).__name__ == "AssignScreen"
        assert "22 accounts match (agent1 22)" in screen_text(desk)
        burst(desk, "ctrl+f", "tab", "tab", *"30", "tab", *"60")  # in one packet, as over SSH
        await settle(pilot)
        assert "20 accounts match (agent1 20)" in screen_text(desk)
        await pilot.press("ctrl+t", "enter", "down", "down", "enter")  # to agent2
        await settle(pilot)
        assert desk.screen.query_one("#assign-to").value == "agent2"
        switch.requests.clear()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "ConfirmAssign"
        assert "Move 20 accounts to agent2?" in screen_text(desk)
        await pilot.press("enter")
        await settle(pilot)
        moves = [r for r in switch.requests if r == ("POST", "/api/v1/accounts/assign")]
        assert len(moves) == 1  # one action, one request
        assert any(n.message == "Moved 20 accounts to agent2." for n in notices(desk))
        assert "Moved 20 accounts to agent2 · 0 accounts match" in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SupervisorScreen"
        rows = {r.agent: r for r in desk.screen.rows}
        assert (rows["agent1"].accounts, rows["agent2"].accounts) == (2, 20)
        assert line_of(desk, "agent1")[:2] == ["agent1", "2"] and line_of(desk, "agent2")[:2] == ["agent2", "20"]
        assert line_of(desk, "agent2")[4] == "20"  # all in bucket 30
        await pilot.press("r")  # the agent report: accounts assigned now
        await settle(pilot)
        assert type(desk.screen).__name__ == "ReportsScreen"
        assert line_of(desk, "agent1")[:2] == ["agent1", "2"] and line_of(desk, "agent2")[:2] == ["agent2", "20"]


async def test_marked_rows_move_and_the_rest_stay(make_desk, accounts, login) -> None:  # noqa: ANN001
    first, second, third = accounts()
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "3 accounts match (agent1 3)" in screen_text(desk)
        await pilot.press("space", "down", "down", "space")  # the first and the third (highest DPD first)
        await settle(pilot)
        assert "2 marked: only they move" in screen_text(desk)
        await pilot.press("ctrl+t", "enter", "down", "down", "enter", "ctrl+s")
        await settle(pilot)
        assert "Move 2 accounts to agent2?" in screen_text(desk)
        await pilot.press("escape")  # not yet: nothing moves
        await settle(pilot)
        assert "3 accounts match (agent1 3)" in screen_text(desk)
        await pilot.press("ctrl+s", "enter")
        await settle(pilot)
        assert any(n.message == "Moved 2 accounts to agent2." for n in notices(desk))
        assert "3 accounts match (agent1 1, agent2 2)" in screen_text(desk)
    moved = await (await login("super1")).assign_preview(AccountFilter(agent="agent2"))
    assert sorted(a.id for a in moved.items) == sorted([first.id, third.id])


async def test_a_pasted_control_character_in_the_assign_form_is_said(make_desk, accounts) -> None:  # noqa: ANN001
    """The wire refuses control characters (issue 15): the search and the note say so, and the form stays."""
    from textual.widgets import Input

    accounts()
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "3 accounts match (agent1 3)" in screen_text(desk)
        desk.screen.query_one("#assign-q", Input).value = "Alice\x1b[2J"
        await settle(pilot)
        assert "Cannot save: check q" in screen_text(desk)
        desk.screen.query_one("#assign-q", Input).value = ""
        desk.screen.query_one("#assign-note", Input).value = "rebalance\x07"
        await settle(pilot)
        await pilot.press("ctrl+t", "enter", "down", "down", "enter", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AssignScreen"
        assert "Cannot save: check note" in screen_text(desk)
        assert desk.screen.query_one("#assign-note", Input).value == "rebalance\x07"


async def test_breaches_list_a_back_dated_contact(make_desk, accounts, login) -> None:  # noqa: ANN001
    """A call logged after the fact at 03:00 in New York is kept, and listed as a breach."""
    first, *_ = accounts()
    agent = await login("agent1")
    logged = await agent.log_contact(first.id, ContactCreate(
        channel="phone", outcome="NA", used="+12125550101", started_at=dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC),
        note="rang before breakfast"))
    assert logged.breach and logged.after_the_fact
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Breaches on record: 1 (b)" in screen_text(desk)
        await pilot.press("b")
        await settle(pilot)
        assert type(desk.screen).__name__ == "BreachesScreen"
        text = screen_text(desk)
        row = line_of(desk, "Mar 10")
        assert "A-0001" in row and "agent1" in row and "NA" in row
        assert "outside the customer's" in text  # the rule, in words
        assert "Broke: outside the customer's calling hours" in text
        assert "logged after the fact" in text and "Note: rang before breakfast" in text
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"


async def test_reports_screen_shows_the_api_figures_and_exports_them(make_desk, accounts, login,
                                                                     tmp_path) -> None:  # noqa: ANN001
    first, second, _third = accounts()
    agent = await login("agent1")
    for account, outcome, minutes in ((first, "NA", 30), (second, "VM", 40), (first, "NA", 300)):
        await agent.log_contact(account.id, ContactCreate(
            channel="phone", outcome=outcome, used="+12125550101", duration_s=minutes,
            started_at=NOW - dt.timedelta(days=1, minutes=minutes)))
    supervisor = await login("super1")
    expected = await supervisor.report("agent")
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        desk.settings = desk.settings.model_copy(update={"exports_dir": tmp_path})
        for row in expected.agents:
            words = line_of(desk, row.display_name)
            assert words[1:3] == [f"{row.accounts}", f"{row.attempts}"], words
        one = next(a for a in expected.agents if a.agent == "agent1")
        assert one.attempts == 3 and "Attempts a day, 30 days" in screen_text(desk)
        assert desk.screen.query_one("#report-spark").data == one.attempts_by_day
        assert "Listed by name, never ranked by amount collected" in screen_text(desk)
        await pilot.press("c")
        await settle(pilot)
        [written] = tmp_path.glob("*.csv")
        assert written.read_text(encoding="utf-8") == format_agents(expected, "csv")
        assert any(n.message == f"Written to {written}" for n in notices(desk))  # the full path
        await pilot.press("3")  # the portfolio: accounts by bucket
        await settle(pilot)
        portfolio = await supervisor.report("portfolio")
        for b in portfolio.buckets:
            assert line_of(desk, b.bucket.value + " ")[1] == f"{b.accounts}"
        await pilot.press("m")
        await settle(pilot)
        [md] = tmp_path.glob("*.md")
        assert md.read_text(encoding="utf-8").startswith("**Portfolio, team A:")


async def test_an_agent_sees_their_own_figures_only(make_desk, accounts) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        command = next(c for c in desk.get_system_commands(desk.screen) if c.title == "Reports: show")
        command.callback()
        await settle(pilot)
        assert type(desk.screen).__name__ == "ReportsScreen"
        text = screen_text(desk)
        assert "My figures" in text and "Portfolio" not in text
        assert [r.agent for r in desk.screen.report.agents] == ["agent1"]
        await pilot.press("3")
        await settle(pilot)
        assert desk.screen.kind == "agent"
        assert not [c for c in desk.get_system_commands(desk.screen) if c.title.startswith("Team")]


async def test_the_team_overview_is_one_key_from_the_worklist(make_desk, accounts, tmp_path) -> None:  # noqa: ANN001
    accounts()
    boss = make_desk("super1")
    async with boss.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [type(s).__name__ for s in boss.screen_stack[-2:]] == ["WorklistScreen", "SupervisorScreen"]
        await pilot.press("w")
        await settle(pilot)
        assert type(boss.screen).__name__ == "WorklistScreen" and "s Team" in screen_text(boss)
        await pilot.press("s")
        await settle(pilot)
        assert type(boss.screen).__name__ == "SupervisorScreen"
        await pilot.press("x")  # the escalations inbox: the desk's, or a word that it is not here yet
        await settle(pilot)
        assert type(boss.screen).__name__ == "EscalationsScreen" or any(
            "escalations inbox" in n.message for n in notices(boss))
    desk = make_desk("agent1", drafts_dir=tmp_path / "agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "s Team" not in screen_text(desk)
        await pilot.press("s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert not [c for c in desk.get_system_commands(desk.screen) if c.title == "Team: overview"]


async def test_an_export_goes_to_the_download_directory_and_a_missing_one_is_said(make_desk, accounts, tmp_path,
                                                                                   monkeypatch) -> None:  # noqa: ANN001
    accounts()
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(downloads))  # what platformdirs reads on Linux
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        [written] = downloads.glob("*.csv")
        assert any(n.message == f"Written to {written}" for n in notices(desk))
        missing = tmp_path / "no-such-dir"
        desk.settings = desk.settings.model_copy(update={"exports_dir": missing})
        await pilot.press("m")
        await settle(pilot)
        assert not missing.exists()  # a mistyped directory is said, never made
        [refused] = [n for n in notices(desk) if n.title == "Not exported"]
        assert str(missing) in refused.message and refused.severity == "error"


async def test_a_move_and_enter_in_one_packet_open_the_breach_moved_to(make_desk, accounts, login) -> None:  # noqa: ANN001
    """The queues' tables move in order with their keys: "down enter" arriving at once (SSH)
    opens the second breach's account, not the first's."""
    first, second, *_ = accounts()
    agent = await login("agent1")
    for account, hour in ((first, 8), (second, 9)):
        await agent.log_contact(account.id, ContactCreate(
            channel="phone", outcome="NA", used="+12125550101",
            started_at=dt.datetime(2026, 3, 10, hour, 0, tzinfo=dt.UTC), note="before breakfast"))
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert type(desk.screen).__name__ == "BreachesScreen"
        rows = [b.contact.account_id for b in desk.screen.items]
        assert sorted(rows) == sorted([first.id, second.id])
        burst(desk, "down", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.account_id == rows[1]
