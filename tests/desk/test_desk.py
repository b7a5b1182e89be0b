"""The desk's keys, help, palette, paging, team isolation, low-bandwidth mode
and start-up weight."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from textual.binding import Binding
from textual.command import CommandPalette

from config.settings import DeskSettings
from tests.conftest import repo_root
from tests.desk.conftest import notices, screen_text, settle

pytestmark = pytest.mark.desk


def desk_classes() -> list[type]:
    from tui.app import CollectDesk
    from tui.screens.account.account import AccountScreen
    from tui.screens.account.handoff import HandoffScreen
    from tui.screens.account.note import NoteScreen
    from tui.screens.account.phones import PhonesScreen
    from tui.screens.account.timezone import TimezoneScreen
    from tui.screens.call.call import CallScreen
    from tui.screens.common.help import HelpScreen
    from tui.screens.common.login import LoginScreen
    from tui.screens.common.shared import SharedNotesScreen
    from tui.screens.common.why import WhyScreen
    from tui.screens.escalation.escalate import EscalateScreen
    from tui.screens.escalation.escalations import EscalationsScreen
    from tui.screens.legal.legal_pack import LegalPackScreen
    from tui.screens.plan.plan import PlanScreen
    from tui.screens.supervisor.approvals import ApprovalsScreen
    from tui.screens.supervisor.assign import AssignScreen, ConfirmAssign
    from tui.screens.supervisor.breaches import BreachesScreen
    from tui.screens.supervisor.overview import SupervisorScreen
    from tui.screens.supervisor.reports import ReportsScreen
    from tui.screens.supervisor.segments import SegmentFormScreen, SegmentsScreen
    from tui.screens.supervisor.treatments import PauseStepScreen, TreatmentsScreen
    from tui.screens.training.training import ResultsScreen, TrainerScreen, TrainingScreen
    from tui.screens.worklist.worklist import WorklistScreen
    from tui.widgets.worklist_table import WorklistTable

    # The screens in the order the help lists them after the one the agent is on.
    return [CollectDesk, LoginScreen, WorklistScreen, WorklistTable, AccountScreen, CallScreen, NoteScreen, PlanScreen,
            HandoffScreen, TimezoneScreen, PhonesScreen, SharedNotesScreen, EscalateScreen, EscalationsScreen,
            LegalPackScreen, SupervisorScreen, ApprovalsScreen, BreachesScreen, AssignScreen, ConfirmAssign,
            SegmentsScreen, SegmentFormScreen, ReportsScreen, TreatmentsScreen, PauseStepScreen, TrainingScreen, ResultsScreen, TrainerScreen,
            WhyScreen, HelpScreen]


def test_importing_the_desk_stays_light() -> None:
    code = ("import sys, json, tui.app; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root())
    loaded = set(json.loads(out.stdout))
    for heavy in ("backend", "sqlalchemy", "fastapi", "faker", "starlette", "uvicorn", "alembic", "babel"):
        assert heavy not in loaded, f"importing tui.app imports {heavy}"


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    ids: set[str] = set()
    for cls in desk_classes():
        for item in cls.__dict__.get("BINDINGS", []):
            binding = item if isinstance(item, Binding) else Binding(*item)
            if binding.system:
                continue
            assert binding.id, f"{cls.__name__}: {binding.key} has no id"
            assert binding.tooltip, f"{cls.__name__}: {binding.id} has no tooltip"
            assert binding.description, f"{cls.__name__}: {binding.id} has no description"
            ids.add(binding.id)
    assert {"desk.quit", "desk.help", "desk.palette", "worklist.search", "account.contact", "call.save_next",
            "plan.save", "plan.submit", "approvals.approve", "approvals.reject", "desk.approvals",
            "supervisor.treatments", "treatments.pause", "treatments.day_before", "treatments.day_after",
            "treatments.reload", "pause.save"} <= ids


async def test_help_lists_every_key_of_every_screen_starting_with_this_one(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert type(desk.screen).__name__ == "HelpScreen"
        help_screen = desk.screen
        titles = ["Sign-in", "Worklist", "Account", "Call", "Note", "Plan", "Handoff", "Time zone", "Phones",
                  "Shared notes", "Escalation", "Escalations", "Legal pack", "Team", "Approvals", "Breaches", "Assign",
                  "Assign", "Segments", "Segment", "Reports", "Treatments", "Pause step", "Training", "Results",
                  "Trainer", "Why", "Keys"]
        # The screen the agent is on first, then what every screen has, then the others.
        assert [title for title, _rows in help_screen.rows] == [
            "Worklist", "Every screen", *[t for t in titles if t != "Worklist"]]
        assert "Worklist" in screen_text(desk).split("Keys of every screen", 1)[1].splitlines()[1]  # seen first
        listed = {(title, description) for title, rows in help_screen.rows for _k, description, _t in rows}
        from tui.keys import class_bindings, describe

        classes = [c for c in desk_classes() if c.__name__ not in ("WorklistTable", "CollectDesk")]
        for title, cls in zip(titles, classes, strict=True):
            assert class_bindings(cls), cls
            for binding in class_bindings(cls):
                assert (title, describe(binding)) in listed, (title, binding.description)
        keys = {description: key for _t, rows in help_screen.rows for key, description, _tt in rows}
        assert keys["Save+next"] == "^n" and keys["PTP · promise to pay"] == "p" and keys["Log call"] == "c"
        assert keys["Keys"] == "?" and keys["Search"] == "/"
        body = help_screen.query_one("#help-body")
        assert body.virtual_size.height > body.size.height  # long: it scrolls
        assert "Every screen" in screen_text(desk) and "Quit the desk" in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        await pilot.press("question_mark")
        await settle(pilot)
        assert [title for title, _rows in desk.screen.rows][:2] == ["Account", "Every screen"]


async def test_the_keymap_remaps_keys_everywhere(make_desk, accounts) -> None:
    accounts()
    desk = make_desk(keymap={"account.contact": "l", "call.result.ptp": "P"})
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "l Log call" in screen_text(desk)  # the footer
        await pilot.press("c")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"  # c is no longer bound
        await pilot.press("l")
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        await pilot.press("p")
        assert desk.screen.result is None
        assert "P PTP" in screen_text(desk)  # the outcome legend shows the agent's key
        await pilot.press("question_mark")
        await settle(pilot)
        keys = {description: key for _t, rows in desk.screen.rows for key, description, _tt in rows}
        assert keys["Log call"] == "l" and keys["PTP · promise to pay"] == "P"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("P")
        assert desk.screen.result == "PTP"


async def test_the_palette_has_every_action_as_noun_verb(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        for title in ("Account: Log call", "Account: Note", "Account: Plan", "Account: Escalate", "Account: Back",
                      "Desk: Quit", "Desk: Keys", "Desk: Send unsent", "Session: sign out", "Worklist: show"):
            assert title in titles, title
        assert all(": " in t for t in titles)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert CommandPalette.is_open(desk)
        await pilot.press(*"log call")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        # The call screen's outcome keys are in the palette too, even from the note.
        await pilot.press("tab")
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Call: PTP · promise to pay" in titles and "Call: Save+next" in titles


async def test_plan_opens_the_plan_form_and_escalate_the_escalation_form(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert type(desk.screen).__name__ == "EscalateScreen"
        assert desk.screen.account.account_ref == "A-0001" and desk.screen.kind is None
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        await pilot.press("p")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PlanScreen"
        assert desk.screen.account.account_ref == "A-0001" and desk.screen.kind is None


async def test_worklist_pages_come_from_the_server_as_you_scroll(make_desk, make_account, switch) -> None:
    for n in range(120):
        make_account(account_ref=f"P-{n:04d}", customer_name=f"Customer {n}", dpd=10 + n)
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = desk.screen.table
        assert table.row_count == 50
        assert table.items[0].priority == max(i.priority for i in table.items)  # the server's order
        pages = [p for m, p in switch.requests if p == "/api/v1/worklist"]
        assert len(pages) == 1
        for _ in range(40):
            await pilot.press("j")
        await settle(pilot)
        assert table.row_count == 100
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 120 and not table.has_more
        assert {i.account_ref for i in table.items} == {f"P-{n:04d}" for n in range(120)}
        priorities = [i.priority for i in table.items]
        assert priorities == sorted(priorities, reverse=True)
        assert len([p for m, p in switch.requests if p == "/api/v1/worklist"]) == 3
        # Search goes to the server too.
        await pilot.press("slash", *"P-0007", "enter")
        await settle(pilot)
        assert [i.account_ref for i in table.items] == ["P-0007"]
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == 50


async def test_an_agent_sees_only_their_own_team(make_desk, accounts, make_account) -> None:
    accounts()
    make_account(account_ref="B-0001", customer_name="Team B Customer", team="B", agent="agent3", dpd=40)
    desk = make_desk("agent3")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [i.account_ref for i in desk.screen.table.items] == ["B-0001"]
        text = screen_text(desk)
        assert "A-0001" not in text and "Alice Moreno" not in text
        await pilot.press("slash", *"A-0001", "enter")
        await settle(pilot)
        assert "Nothing matches “A-0001”." in screen_text(desk)
        assert desk.screen.table.items == []


async def test_another_teams_account_is_not_found_in_the_desk(make_desk, accounts) -> None:
    first, *_ = accounts()
    desk = make_desk("agent3")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        from tui.screens.account.account import AccountScreen

        await desk.push_screen(AccountScreen(first.id))
        await settle(pilot)
        assert any("Not found, or not yours to see." in n.message for n in notices(desk))
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert "Alice Moreno" not in screen_text(desk)


async def test_next_from_the_worklist_leases_the_top_account(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.detail.account_ref == "A-0001" and desk.screen.timeline is not None


async def test_a_lapsed_session_asks_to_sign_in_again_and_keeps_the_form(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("2", "tab", *"typed before the session lapsed", "escape")
        await settle(pilot)
        desk.api.token = "expired-token"
        await pilot.press("r")  # reload the account: 401
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen" and desk.screen.again
        assert desk.screen.query_one("#username").value == "agent1"
        assert desk.focused is not None and desk.focused.id == "password"
        await pilot.press(*"agent1", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        await pilot.press("c")
        await settle(pilot)
        assert desk.screen.query_one("#note").text == "typed before the session lapsed"


async def test_low_bandwidth_mode(make_desk, accounts) -> None:
    from tui.app import run_options

    accounts()
    desk = make_desk(low_bandwidth=True)
    assert desk.theme == "ansi-dark" and desk.animation_level == "none"
    assert desk.console.color_system == "standard"
    assert run_options(DeskSettings(low_bandwidth=True)) == {"mouse": False}
    assert run_options(DeskSettings()) == {"mouse": True}
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        assert not desk.screen.query_one("#note").cursor_blink
        assert desk.native_ansi_color
    normal = make_desk()
    assert normal.console.color_system != "standard" or normal.theme != "ansi-dark"


async def test_on_a_thin_link_there_is_no_why_line_and_w_says_why(make_desk, accounts) -> None:
    """Each cursor move repaints the line under the worklist that says why the highlighted
    account is there: on a thin link it is not shown (the table has its rows) and ``w`` says
    why; otherwise it follows the cursor."""
    accounts()
    for low in (True, False):
        desk = make_desk(low_bandwidth=low)
        async with desk.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("down")
            await settle(pilot)
            line = desk.screen.query_one("#worklist-why")
            item = desk.screen.table.current_item
            assert line.display is not low
            if not low:
                assert str(line.render()).startswith(f"{item.account_ref} {item.customer_name}: ")
            await pilot.press("w")
            await settle(pilot)
            assert type(desk.screen).__name__ == "WhyScreen"
            assert item.account_ref in screen_text(desk)


async def test_on_a_thin_link_the_call_timer_draws_whole_minutes(make_desk, accounts) -> None:
    """Drawn every second, the call timer kept an SSH link busy: sshd's ClientAliveInterval
    never found it quiet, so a dropped connection went unnoticed while a call form was open."""
    import datetime as dt

    from tests.desk.conftest import NOW

    accounts()
    desk = make_desk(low_bandwidth=True)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        timer = desk.screen.query_one("#call-timer")
        assert str(timer.render()) == "⏱ 0 min"
        assert not [t for t in desk.screen._timers if t._interval == 1.0]  # nothing ticking each second
        desk.clock = lambda: NOW + dt.timedelta(seconds=125)
        desk.screen._tick()
        assert str(timer.render()) == "⏱ 2 min"
    normal = make_desk()
    async with normal.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        assert str(normal.screen.query_one("#call-timer").render()) == "⏱ 00:00"


async def test_someone_else_signing_in_over_a_lapsed_session_starts_afresh(make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        desk.api.token = "expired-token"
        await pilot.press("r")
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen"
        await pilot.press("shift+tab", "ctrl+u", *"agent2", "tab", *"agent2", "enter")
        await settle(pilot)
        assert [type(s).__name__ for s in desk.screen_stack[1:]] == ["WorklistScreen"]
        assert "No accounts in your worklist." in screen_text(desk)
        assert "Alice Moreno" not in screen_text(desk)


async def test_a_toast_never_covers_the_status_line(make_desk, accounts) -> None:  # noqa: ANN001
    from textual.widgets._toast import Toast

    from tui.widgets.status import StatusLine

    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        for screen_key in ("", "enter"):  # the worklist, then the account screen
            if screen_key:
                await pilot.press(screen_key)
                await settle(pilot)
            desk.notify("A long message that takes three lines of the toast to say, as some of them do.",
                        title="Saved")
            await settle(pilot)
            status = desk.screen.query_one(StatusLine).region
            toasts = [t.region for t in desk.screen.query(Toast)]
            assert toasts and status.y == 22, (toasts, status)
            assert all(t.bottom <= status.y for t in toasts), (toasts, status)
            assert desk.status.who in screen_text(desk).splitlines()[status.y]
            desk.clear_notifications()
