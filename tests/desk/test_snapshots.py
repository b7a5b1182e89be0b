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
from sqlalchemy import text, update

from backend_client.models import ContactCreate, PromiseIn
from tests.desk.conftest import NOW, settle
from tests.desk.cuts import cuts
from tests.desk.test_training_desk import make_trainer  # noqa: F401 - a fixture, used by name

pytestmark = pytest.mark.desk

LANGS = ["en", "zh_CN"]
"""Every screen in both of the desk's languages (issue 17)."""
each_lang = pytest.mark.parametrize("lang", LANGS)


async def steady(pilot) -> None:  # noqa: ANN001
    """Settled, cursors still; and nothing on the screen cut that matters (``tests/desk/cuts.py``)."""
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    # The footer shows a key dim until the screen says it works (an item highlighted): asked
    # again here, so the picture never catches it half-way (seen on PostgreSQL under load).
    pilot.app.screen.refresh_bindings()
    await pilot.pause()
    await pilot.pause()
    problems = cuts(pilot.app)
    assert not problems, "\n".join(problems)


@each_lang
def test_login_screen(snap_compare, make_desk, lang) -> None:
    desk = make_desk(username=None, lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await pilot.press(*"agent1")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_worklist_screen(snap_compare, make_desk, accounts, lang) -> None:
    accounts()
    desk = make_desk(lang=lang)
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


def _plan_ids_from_one(session) -> None:  # noqa: ANN001
    """The next plan is #1 on PostgreSQL too, as on SQLite: a sequence goes on counting
    past the rolled-back plans of earlier tests, and the screen shows the plan's id."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval('plans_id_seq', COALESCE((SELECT max(id) FROM plans), 0) + 1, false)"))


@each_lang
def test_account_screen(snap_compare, make_desk, accounts, session, lang) -> None:  # noqa: ANN001
    first, *_ = accounts()
    _plan_ids_from_one(session)
    desk = make_desk(lang=lang)

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


@each_lang
def test_call_screen(snap_compare, make_desk, accounts, lang) -> None:
    accounts()
    desk = make_desk(lang=lang)

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


@each_lang
def test_plan_screen(snap_compare, make_desk, accounts, lang) -> None:
    """A settlement beyond an agent's authority: its schedule, the total, and why it needs approval."""
    accounts()
    desk = make_desk(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("s", *"20", "tab", *"2", "tab", "tab", *"+7", "tab", *"Half now, half with the bonus")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_escalate_screen(snap_compare, make_desk, referrals, lang) -> None:
    """A legal referral the account is not ready for: what it still lacks, in words, with what was typed kept."""
    from tests.desk.test_escalations_desk import open_account

    referrals()
    desk = make_desk(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await open_account(pilot, "L-0002")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("l", *"refuses to pay", "tab", *"Three calls, no answer")
        await pilot.press("ctrl+s")
        await settle(pilot)
        pilot.app.clear_notifications()  # the toast says it too; the panel is what is pictured
        await settle(pilot)
        # Where the refusal leaves the focus is the last field typed in: said, not left to timing.
        pilot.app.screen.set_focus(pilot.app.screen.query_one("#escalate-note"))
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_team_overview_screen(snap_compare, make_desk, accounts, make_account, lang) -> None:
    """A supervisor's first screen: the team by agent and bucket, what is due, what broke."""
    accounts()
    for n in range(4):
        make_account(account_ref=f"B-{n:04d}", customer_name=f"Beth Ng {n}", dpd=125 + n, agent="agent2")
    make_account(account_ref="P-0001", customer_name="Pat Pool", dpd=5, agent=None)
    desk = make_desk("super1", lang=lang)
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


@each_lang
def test_assign_screen(snap_compare, make_desk, accounts, lang) -> None:
    """agent1's accounts from 30 to 100 days past due, one marked, about to go to agent2."""
    accounts()
    desk = make_desk("super1", lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+f", "tab", "tab", *"30", "tab", *"100", "ctrl+l", "down", "space")
        await pilot.press("ctrl+t", "enter", "down", "down", "enter")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_escalations_inbox(snap_compare, make_desk, referrals, session, lang) -> None:
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
    desk = make_desk("legal1", lang=lang)
    assert snap_compare(desk, terminal_size=(80, 24), run_before=steady)


@each_lang
def test_reports_screen(snap_compare, make_desk, accounts, login, lang) -> None:
    """The agent report: measures side by side, rates as bars, attempts a day as a sparkline."""
    first, second, _third = accounts()
    desk = make_desk("super1", lang=lang)

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


async def on_account(pilot, keys: tuple[str, ...] = ()) -> None:  # noqa: ANN001
    """The top account open, then ``keys``."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press(*keys)
    await steady(pilot)


@each_lang
@pytest.mark.parametrize("key", ["n", "h", "t", "f", "w"], ids=["note", "handoff", "timezone", "phones", "why"])
def test_account_forms(snap_compare, make_desk, accounts, lang, key) -> None:  # noqa: ANN001
    """The account screen's forms over it: a note, a handoff, the customer's zone, the phones, every reason."""
    accounts()
    desk = make_desk(lang=lang)
    assert snap_compare(desk, terminal_size=(80, 24), run_before=partial(on_account, keys=(key,)))


@each_lang
def test_help_screen(snap_compare, make_desk, accounts, lang) -> None:  # noqa: ANN001
    """The keys, the worklist's first (the screen the agent was on)."""
    accounts()
    desk = make_desk(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("question_mark")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_shared_notes_screen(snap_compare, make_desk, accounts, lang) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        pilot.app.nav.shared_notes()
        await settle(pilot)
        await pilot.press(*"A-0003", "enter")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


async def _plan_and_breach(login, session) -> None:  # noqa: ANN001
    """A settlement waiting for approval, and a call at night in Shanghai (a breach)."""
    from backend.models import Plan
    from backend_client.models import PlanCreate

    api = await login("agent1")
    page = await api.worklist()
    by_ref = {i.account_ref: i for i in page.items}
    await api.draft_plan(by_ref["A-0001"].id, PlanCreate(
        kind="settlement", discount_percent="20", count=2, first_due=dt.date(2026, 3, 18),
        note="half now, half with the bonus", submit=True))
    # A row's created_at default is the real clock's (the column holds the function): the picture's is fixed.
    session.execute(update(Plan).values(created_at=NOW - dt.timedelta(hours=2)))
    session.commit()
    await api.log_contact(by_ref["A-0003"].id, ContactCreate(
        channel="phone", outcome="NA", used="+8613812345678", duration_s=20,
        started_at=dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC)))


@each_lang
@pytest.mark.parametrize("where", ["approvals", "breaches", "segments"])
def test_supervisor_queues(snap_compare, make_desk, accounts, login, session, lang, where) -> None:  # noqa: ANN001
    """The approvals (a settlement beyond an agent's authority), the breaches (a call at
    night in the customer's zone) and the segments."""
    accounts()
    desk = make_desk("super1", lang=lang)

    _plan_ids_from_one(session)  # the picture shows the plan's number

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await _plan_and_breach(login, session)
        getattr(pilot.app.nav, where)()
        await settle(pilot)
        await pilot.pause(0.2)  # the queue's second and third loads (the accounts, their plans) drawn
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
def test_segment_form(snap_compare, make_desk, accounts, lang) -> None:  # noqa: ANN001
    accounts()
    desk = make_desk("super1", lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        pilot.app.nav.segments()
        await settle(pilot)
        await pilot.press("n")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)


@each_lang
@pytest.mark.parametrize("screen", ["trainer", "demo", "results"])
def test_training_screens(snap_compare, make_trainer, lang, screen) -> None:  # noqa: ANN001
    """The trainer's scenarios, the first lines of the job-loss demo, the trainees' results."""
    desk = make_trainer(lang=lang, scenario="job_loss", mode="demo") if screen == "demo" else make_trainer(lang=lang)

    async def before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        if screen == "demo":
            await pilot.press("space", "n", "n")
        elif screen == "results":
            await pilot.press("r")
        await steady(pilot)

    assert snap_compare(desk, terminal_size=(80, 24), run_before=before)
