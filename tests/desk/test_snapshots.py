"""SVG snapshots of the desk at 80×24 (pytest-textual-snapshot).

Deterministic: both clocks are frozen (see conftest), the data is fixed and
shown by account reference (never by database id), cursors do not blink.
Update with ``python -m pytest tests/desk/test_snapshots.py --snapshot-update``
after looking at the new pictures.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import text

from backend_client.models import ContactCreate, PromiseIn
from tests.desk.conftest import NOW, settle

pytestmark = pytest.mark.desk


async def steady(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


def test_login_screen(snap_compare, make_desk) -> None:
    desk = make_desk(username=None)

    async def before(pilot) -> None:  # noqa: ANN001
        await pilot.press(*"agent1")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


def test_worklist_screen(snap_compare, make_desk, accounts) -> None:
    accounts()
    desk = make_desk()
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


def test_worklist_screen_in_chinese(snap_compare, make_desk, accounts) -> None:
    accounts()
    desk = make_desk(lang="zh_CN")
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


def _plan_ids_from_one(session) -> None:  # noqa: ANN001
    """The next plan is #1 on PostgreSQL too, as on SQLite: a sequence goes on counting
    past the rolled-back plans of earlier tests, and the screen shows the plan's id."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval('plans_id_seq', COALESCE((SELECT max(id) FROM plans), 0) + 1, false)"))


def test_account_screen(snap_compare, make_desk, accounts, session) -> None:  # noqa: ANN001
    first, *_ = accounts()
    _plan_ids_from_one(session)
    desk = make_desk()

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        api = pilot.app.api
        await api.log_contact(first.id, ContactCreate(
            channel="phone", outcome="NA", started_at=NOW - dt.timedelta(days=2, hours=1), used="+12125550101"))
        await api.log_contact(first.id, ContactCreate(
            channel="phone", outcome="RPC", result="PTP", reason="job_loss", identity_verified=True,
            disclosure_given=True, started_at=NOW - dt.timedelta(days=1), duration_s=312,
            ptp=PromiseIn(amount="200.00", date=dt.date(2026, 3, 13)), note="Lost his job in January; pays Friday"))
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


def test_call_screen(snap_compare, make_desk, accounts) -> None:
    accounts()
    desk = make_desk()

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("f3", "f4", "p", *"150", "tab", *"+7", "tab", *"Will pay from salary")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


async def form_with_focus_in(pilot, form_key: str, keys: tuple[str, ...], field: str) -> None:  # noqa: ANN001
    """The top account's form on ``form_key``, ``keys`` pressed there, then the focus in ``#field``."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press(form_key)
    await settle(pilot)
    await pilot.press(*keys)
    pilot.app.screen.set_focus(pilot.app.screen.query_one(f"#{field}"))
    await steady(pilot)


CALL_FIELDS = ["picker", "ptp-amount", "ptp-date", "callback", "note", "reason", "channel", "direction", "party",
               "used"]


@pytest.mark.parametrize(("lang", "field"), [*(("en", f) for f in CALL_FIELDS),
                                             *(("zh_CN", f) for f in ("picker", "ptp-amount", "note"))])
def test_call_form_keys_with_the_focus_in(snap_compare, make_desk, accounts, lang, field) -> None:
    """The call form's keys with the focus in each field (issue 14): f2, f3 and f4 in the footer and
    the checklist everywhere; the outcome keys bold where they work, dim with the way there where a
    text field has the focus (and ``?`` leaves the footer there: the field types it)."""
    accounts()
    desk = make_desk(lang=lang)

    if field == "callback":
        keys = ("f3", "b", *"16:30", "tab", *"Call back after lunch")
    else:
        keys = ("f3", "p", *"150", "tab", *"+7", "tab", *"Will pay from salary")
    assert snap_compare(desk, terminal_size=(80, 24), run_before=partial(form_with_focus_in, form_key="c", keys=keys,
                                                                         field=field))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("field", ["escalate-kinds", "escalate-reason", "escalate-note"])
def test_escalation_form_keys_with_the_focus_in(snap_compare, make_desk, accounts, lang, field) -> None:
    """The escalation form's kind keys bold on the kinds, dim in the reason and the note; f2 everywhere."""
    accounts()
    desk = make_desk(lang=lang)

    keys = ("h", *"lost her job", "tab", *"Asks for three months")
    assert snap_compare(desk, terminal_size=(80, 24), run_before=partial(form_with_focus_in, form_key="e", keys=keys,
                                                                         field=field))


def test_plan_screen(snap_compare, make_desk, accounts) -> None:
    """A settlement beyond an agent's authority: its schedule, the total, and why it needs approval."""
    accounts()
    desk = make_desk()

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("s", *"20", "tab", *"2", "tab", "tab", *"+7", "tab", *"Half now, half with the bonus")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


def test_escalate_screen(snap_compare, make_desk, referrals) -> None:
    """A legal referral the account is not ready for: what it still lacks, in words, with what was typed kept."""
    from tests.desk.test_escalations_desk import open_account

    referrals()
    desk = make_desk()

    async def before(pilot) -> None:  # noqa: ANN001
        await open_account(pilot, "L-0002")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("l", *"refuses to pay", "tab", *"Three calls, no answer")
        await pilot.press("ctrl+s")
        await settle(pilot)
        pilot.app.clear_notifications()  # the toast says it too; the panel is what is pictured
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


def test_team_overview_screen(snap_compare, make_desk, accounts, make_account) -> None:
    """A supervisor's first screen: the team by agent and bucket, what is due, what broke."""
    accounts()
    for n in range(4):
        make_account(account_ref=f"B-{n:04d}", customer_name=f"Beth Ng {n}", dpd=125 + n, agent="agent2")
    make_account(account_ref="P-0001", customer_name="Pat Pool", dpd=5, agent=None)
    desk = make_desk("super1")
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


def test_assign_screen(snap_compare, make_desk, accounts) -> None:
    """agent1's accounts from 30 to 100 days past due, one marked, about to go to agent2."""
    accounts()
    desk = make_desk("super1")

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+f", "tab", "tab", *"30", "tab", *"100", "ctrl+l", "down", "space")
        await pilot.press("ctrl+t", "enter", "down", "down", "enter")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


def test_escalations_inbox(snap_compare, make_desk, referrals, session) -> None:
    """legal1's referrals inbox, where a legal officer lands: one referral waiting, its pack listed."""
    from sqlalchemy import select

    from backend.models import User
    from backend.services import escalations
    from backend_client.models import EscalationCreate

    ready, _lacking = referrals()
    agent = session.scalar(select(User).where(User.username == "agent1"))
    escalations.create(session, agent, ready.id, EscalationCreate(kind="legal", reason="six calls, no answer",
                                                                  note="letter sent 20 days ago"),
                       "Collectdesk Demo Bank", "Customer care")
    session.commit()
    desk = make_desk("legal1")
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


def test_reports_screen(snap_compare, make_desk, accounts, login) -> None:
    """The agent report: measures side by side, rates as bars, attempts a day as a sparkline."""
    first, second, _third = accounts()
    desk = make_desk("super1")

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        api = await login("agent1")
        for account, outcome, days in ((first, "NA", 5), (second, "VM", 4), (first, "NA", 2), (second, "NA", 2)):
            await api.log_contact(account.id, ContactCreate(
                channel="phone", outcome=outcome, started_at=NOW - dt.timedelta(days=days), duration_s=40,
                used="+12125550101"))
        await api.log_contact(first.id, ContactCreate(
            channel="phone", outcome="RPC", result="PTP", identity_verified=True, disclosure_given=True,
            started_at=NOW - dt.timedelta(days=1), duration_s=300, used="+12125550101",
            ptp=PromiseIn(amount="200.00", date=dt.date(2026, 3, 13))))
        await pilot.press("r")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)
