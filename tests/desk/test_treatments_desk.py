"""The supervisor's treatments screen (issue 20 item 4), driven with Pilot at 80×24 against
the real backend in-process: it opens from the team overview, shows the day's steps and
messages, pauses a step with a note (and keeps the note when the backend refuses) and
resumes it, and an agent cannot open it. SVG snapshots in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.desk.conftest import NOW, notices, screen_text, settle

pytestmark = pytest.mark.desk

LANGS = ["en", "zh_CN"]


def seed_day(session, make_account) -> dict[str, int]:  # noqa: ANN001
    """Team A's accounts with a day of treatment rows (as a run leaves them, written directly so
    that every time on screen is fixed): an SMS waiting for the customer's calling hours, an
    e-mail still to send (its channel not configured), a letter sent in this morning's run, an SMS
    skipped (the customer opted out); and that run, which made one letter."""
    from backend.models import TreatmentRun, TreatmentSend

    a = make_account(account_ref="T-0001", customer_name="Alice Moreno", dpd=1, agent="agent1")
    b = make_account(account_ref="T-0002", customer_name="Bob Okafor", dpd=5, agent="agent1")
    c = make_account(account_ref="T-0003", customer_name="王小明", dpd=15, agent="agent2", currency="CNY",
                     country="CN", region=None, timezone="Asia/Shanghai", phones=["+8613812345678"],
                     address="上海市浦东新区世纪大道100号")
    today = NOW.date()
    morning = NOW.replace(hour=13)
    run = TreatmentRun(as_of=today, started_at=morning, finished_at=morning + dt.timedelta(minutes=1), planned=True,
                       counts={"planned": 4, "sent": 1, "waiting": 1, "skipped": 1, "not configured": 1}, outages=[],
                       letters=1, print_file=b"%PDF-1.4 seeded", sha256="0" * 64)
    session.add(run)
    session.flush()
    rows = [
        TreatmentSend(key=f"{a.id}:champion:sms_1:{today}", account_id=a.id, strategy="champion", step_id="sms_1",
                      channel="sms", template="reminder_sms", cycle_on=today, due_on=today, status="waiting",
                      attempts=0, next_attempt_at=NOW + dt.timedelta(hours=18), rule="call-window",
                      reason="08:00-21:00 in the customer's zone", to=None,
                      created_at=morning, updated_at=morning + dt.timedelta(seconds=10)),
        TreatmentSend(key=f"{b.id}:champion:email_5:{today}", account_id=b.id, strategy="champion",
                      step_id="email_5", channel="email", template="reminder_email", cycle_on=today, due_on=today,
                      status="pending", attempts=0, created_at=morning, updated_at=morning + dt.timedelta(seconds=20)),
        TreatmentSend(key=f"{c.id}:champion:letter_15:{today}", account_id=c.id, strategy="champion",
                      step_id="letter_15", channel="letter", template="reminder_letter", cycle_on=today,
                      due_on=today, status="sent", attempts=1, to="上海市浦东新区…", sent_at=morning,
                      run_id=run.id, created_at=morning, updated_at=morning + dt.timedelta(seconds=30)),
        TreatmentSend(key=f"{b.id}:challenger:sms_4:{today}", account_id=b.id, strategy="challenger",
                      step_id="sms_4", channel="sms", template="reminder_sms", cycle_on=today, due_on=today,
                      status="skipped", attempts=0, rule="opt-out", reason="the customer replied STOP",
                      created_at=morning, updated_at=morning + dt.timedelta(seconds=40)),
    ]
    session.add_all(rows)
    session.commit()
    return {"run": run.id}


async def open_treatments(pilot) -> None:  # noqa: ANN001
    """From the team overview (a supervisor's first screen), ``t``."""
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "SupervisorScreen"
    await pilot.press("t")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "TreatmentsScreen"


def pauses(session) -> list[tuple[str, str, str, str]]:  # noqa: ANN001
    from backend.models import TreatmentPause

    session.expire_all()
    return [(p.strategy, p.step_id, p.paused_by.username, p.note) for p in session.scalars(select(TreatmentPause))]


async def test_the_screen_opens_from_the_team_and_shows_the_days_steps_and_messages(make_desk, make_account,
                                                                                    session) -> None:  # noqa: ANN001
    seed_day(session, make_account)
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_treatments(pilot)
        screen = desk.screen
        text = screen_text(desk)
        assert "Treatments · Wed, Mar 11, 2026 (today) · UTC" in text
        assert "Schedule off" in text and "not configured: e-mail, SMS" in text
        assert "Last run 08:00: planned 4, sent 1, waiting 1, skipped 1, not configured 1" in text
        assert "letters to print: 1" in text
        steps = {(s.strategy, s.step_id): s for s in screen.items}
        assert steps[("champion", "sms_1")].counts == {"waiting": 1}
        assert steps[("champion", "email_5")].counts == {"pending": 1}
        assert len(steps) >= 10  # both paths
        # Newest first; team A's, the supervisor's team only (T-0003 is agent2's, team A too).
        assert [m.account_ref for m in screen.sends] == ["T-0002", "T-0003", "T-0002", "T-0001"]
        lines = text.splitlines()
        sms_1 = next(line for line in lines if "sms_1" in line and "champion" in line)
        assert sms_1.split()[:5] == ["champion", "sms_1", "SMS", "DPD", "1"]
        waiting = next(line for line in lines if line.startswith("T-0001"))
        assert "waiting" in waiting and "Mar 12 04:00" in waiting  # 09:00 UTC tomorrow in Chicago
        await pilot.press("tab")  # to the messages
        await settle(pilot)
        assert screen.focused is screen.sends_table
        await pilot.press("j")
        await settle(pilot)
        assert "T-0003 champion/letter_15 · sent" in screen_text(desk)
        await pilot.press("f5")  # loaded again: the messages keep their place
        await settle(pilot)
        assert screen.sends_table.cursor_row == 1 and "T-0003 champion/letter_15 · sent" in screen_text(desk)
        # A day back: nothing due then, the open rows still shown; and back to today.
        await pilot.press("left")
        await settle(pilot)
        assert "Treatments · Tue, Mar 10, 2026 · UTC" in screen_text(desk)
        assert [m.account_ref for m in screen.sends] == ["T-0002", "T-0001"]  # the ones still open
        await pilot.press("right")
        await settle(pilot)
        assert "(today)" in screen_text(desk)
        await pilot.press("right")  # no further than today
        await settle(pilot)
        assert "Treatments · Wed, Mar 11, 2026 (today)" in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "SupervisorScreen"


async def test_pausing_a_step_asks_for_a_note_and_resuming_it_removes_the_pause(make_desk, make_account, session,
                                                                                switch) -> None:  # noqa: ANN001
    seed_day(session, make_account)
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_treatments(pilot)
        screen = desk.screen
        assert (screen.current.strategy, screen.current.step_id) == ("champion", "sms_1")
        await pilot.press("j")  # email_5
        await settle(pilot)
        assert screen.current.step_id == "email_5"
        await pilot.press("p")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PauseStepScreen"
        await pilot.press(*"mail relay moved")
        # The backend is not there: the note stays as typed, the step is not paused.
        switch.down = True
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PauseStepScreen"
        assert desk.screen.note == "mail relay moved"
        assert any("cannot be reached" in n.message for n in notices(desk))
        assert pauses(session) == []
        switch.down = False
        switch.requests.clear()
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TreatmentsScreen"
        assert ("POST", "/api/v1/treatments/pauses") in switch.requests
        assert pauses(session) == [("champion", "email_5", "super1", "mail relay moved")]
        assert screen.current.step_id == "email_5" and screen.current.paused  # the list kept its place
        line = next(x for x in screen_text(desk).splitlines() if "email_5" in x and "champion" in x)
        assert line.rstrip().endswith("PAUSED")
        assert any(n.message.startswith("Paused champion · email_5") for n in notices(desk))
        await pilot.press("p")  # paused: p resumes it
        await settle(pilot)
        assert ("DELETE", "/api/v1/treatments/pauses/champion/email_5") in switch.requests
        assert pauses(session) == []
        assert not screen.current.paused and screen.current.step_id == "email_5"
        assert "PAUSED" not in screen_text(desk)


async def test_escape_pauses_nothing(make_desk, make_account, session) -> None:  # noqa: ANN001
    seed_day(session, make_account)
    desk = make_desk("super1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_treatments(pilot)
        await pilot.press("p", *"typo", "escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TreatmentsScreen"
        assert pauses(session) == []


async def test_an_agent_cannot_open_it(make_desk, make_account, session) -> None:  # noqa: ANN001
    seed_day(session, make_account)
    desk = make_desk("agent1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Treatments: open" not in [c.title for c in desk.get_system_commands(desk.screen)]
        await pilot.press("t")  # not a key of the worklist
        desk.nav.treatments()  # nor by any other way
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert any("watched by supervisors" in n.message for n in notices(desk))


async def test_the_palette_opens_it_and_legal_officers_watch_without_pausing(make_desk, make_account,
                                                                             session) -> None:  # noqa: ANN001
    seed_day(session, make_account)
    desk = make_desk("legal1")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        command = next(c for c in desk.get_system_commands(desk.screen) if c.title == "Treatments: open")
        command.callback()
        await settle(pilot)
        assert type(desk.screen).__name__ == "TreatmentsScreen"
        assert desk.screen.sends  # every team's, for a legal officer
        assert "(Un)pause" not in screen_text(desk)  # not in the footer
        await pilot.press("p")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TreatmentsScreen"
        assert pauses(session) == []


@pytest.mark.parametrize("lang", LANGS)
def test_treatments_screen(snap_compare, make_desk, make_account, session, lang) -> None:  # noqa: ANN001
    from tests.desk.test_snapshots import steady

    seed_day(session, make_account)
    desk = make_desk("super1", lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("t")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)
