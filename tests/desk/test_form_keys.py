"""The keys a form shows work from every field of it (issue 14).

The call form's ``f2`` (to the outcome keys, and back), ``f3`` and ``f4`` (identity
verified, disclosure given) and the escalation form's ``f2`` (to the kind keys) are
keys no text field types, so they work with the focus anywhere. The single-key
choices (``1``–``8``, ``p``, ``r``…; ``l``, ``s``…) work wherever no text field has the
focus and are shown dim where one has, which types them: a key is never taken from
typing. What was typed never changes under a key the form shows, nor when a draft
comes back; and a promise still takes at most 8 keys beyond what is typed, in either
order of the checklist and the result.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input, TextArea
from textual.widgets._footer import FooterKey

from tests.desk.conftest import notices, screen_text, settle
from tests.desk.test_escalations_desk import open_account
from tests.desk.test_loop import KeyCounter
from tui.keys import typing_in

pytestmark = pytest.mark.desk

CALL_FIELDS = ["picker", "ptp-amount", "ptp-date", "note", "reason", "channel", "direction", "party", "used"]
ESCALATION_FIELDS = ["escalate-kinds", "escalate-reason", "escalate-note"]
ALWAYS = {"ctrl+s", "escape", "ctrl+q", "ctrl+p", "f2"}
"""Footer keys of both forms wherever the focus is (``?`` is typed by a text field, and
so leaves the footer while one has the focus)."""


def texts(screen) -> dict[str, str]:  # noqa: ANN001
    """What is typed in each text field of the screen."""
    out = {field.id: field.value for field in screen.query(Input)}
    out.update({area.id: area.text for area in screen.query(TextArea)})
    return out


def footer(screen) -> set[str]:  # noqa: ANN001
    """The keys the footer shows."""
    return {key.key for key in screen.query(FooterKey)}


async def open_form(pilot, form_key: str) -> None:  # noqa: ANN001
    """The top account's form on ``form_key`` (``c`` the call, ``e`` the escalation)."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press(form_key)
    await settle(pilot)


async def focus(pilot, field: str):  # noqa: ANN001, ANN201
    widget = pilot.app.screen.query_one(f"#{field}")
    pilot.app.screen.set_focus(widget)
    await pilot.pause()
    assert pilot.app.focused is widget
    return widget


async def focus_shows_the_keys_that_work(pilot, field: str, legend: str, footer_keys: set[str]):  # noqa: ANN001, ANN201
    """The focus in ``#field``: the ``#legend``'s single keys are bold (live) unless a text field
    has the focus, and the footer shows ``footer_keys``, with ``?`` where no text field types it.
    The widget, and whether it is a text field."""
    widget = await focus(pilot, field)
    screen, where = pilot.app.screen, f"focus in #{field}"
    text_field = typing_in(screen)
    assert text_field is isinstance(widget, (Input, TextArea)), where
    assert screen.query_one(f"#{legend}").live is not text_field, where
    assert footer(screen) == footer_keys | (set() if text_field else {"question_mark"}), where
    return widget, text_field


async def the_desk_keys_then_back(pilot, field: str, form_key: str, typed: dict[str, str]):  # noqa: ANN001, ANN201
    """From ``field``: ``ctrl+p`` opens the palette and ``?`` (where the footer shows it) the
    keys, ``escape`` closes either; ``escape`` then leaves the form with its draft and the
    account's ``form_key`` opens it again, with what was typed. The form, reopened."""
    desk, where = pilot.app, f"focus in #{field}"
    screen = desk.screen
    await focus(pilot, field)
    opens = {"ctrl+p": "CommandPalette", "question_mark": "HelpScreen"}
    for key in sorted(footer(screen) & set(opens)):
        opened = opens[key]
        await pilot.press(key)
        await settle(pilot)
        assert type(desk.screen).__name__ == opened, (where, key)
        await pilot.press("escape")
        await settle(pilot)
        assert desk.screen is screen and texts(screen) == typed, (where, key)
    await focus(pilot, field)
    await pilot.press("escape")
    await settle(pilot)
    assert type(desk.screen).__name__ == "AccountScreen", where
    await pilot.press(form_key)
    await settle(pilot)
    assert texts(desk.screen) == typed, where
    return desk.screen


def from_terminal(app, data: str) -> None:  # noqa: ANN001
    """Send ``data`` as a terminal's bytes arrive (xterm, PuTTY or the Linux console),
    all in one packet: each key as Textual's own parser reads it."""
    parser = XTermParser()
    keys = list(parser.feed(data))
    time.sleep(0.15)  # a lone ESC is read as escape after a short wait
    keys += list(parser.tick())
    for key in keys:
        assert isinstance(key, events.Key)
        key.set_sender(app)
        app._driver.send_message(key)


async def test_the_checklist_ticks_after_the_promise_took_the_focus(make_desk, accounts, login) -> None:
    """``p`` first takes the focus to the amount; ``f3`` and ``f4`` still tick, nothing is
    typed, and the whole promise with the next account loaded is 8 keys beyond typing."""
    first, *_ = accounts()
    counter = KeyCounter()
    desk = make_desk()
    async with desk.run_test(size=(80, 24), message_hook=counter) as pilot:
        await settle(pilot)
        typed = 0

        async def type_text(text: str) -> None:
            nonlocal typed
            await pilot.press(*text)
            typed += len(text)

        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("p")
        screen = desk.screen
        assert desk.focused is screen.query_one("#ptp-amount")
        await pilot.press("f3", "f4")
        assert screen.query_one("#identity").value and screen.query_one("#disclosure").value
        assert texts(screen)["ptp-amount"] == "" and desk.focused.id == "ptp-amount"
        await type_text("150")
        await pilot.press("tab")
        await type_text("2026-03-20")
        await pilot.press("tab")
        await type_text("Will pay Friday")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.detail.account_ref == "A-0002"
        keys = len(counter.keys) - typed
        assert keys == 8, [k.key for k in counter.keys]  # enter c p f3 f4 tab tab ctrl+n
    api = await login("agent1")
    contact = next(e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact")
    assert (contact.outcome, contact.result, contact.ptp_amount.amount_minor, contact.ptp_date, contact.note) == (
        "RPC", "PTP", 15000, dt.date(2026, 3, 20), "Will pay Friday")


async def test_every_key_the_call_form_shows_works_from_each_of_its_fields(make_desk, accounts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, "c")
        await pilot.press("p", *"150", "tab", *"+7", "tab", *"Will pay Friday")
        screen = desk.screen
        typed = texts(screen)
        assert typed == {"ptp-amount": "150", "ptp-date": "+7", "callback": "", "note": "Will pay Friday"}

        for field in [*CALL_FIELDS, "callback"]:
            if field == "callback":
                # Its field takes text only for a call back: b, from the outcome keys.
                await focus(pilot, "note")
                await pilot.press("f2", "b", *"+2h")
                assert desk.focused.id == "callback" and screen.result == "CB"
                typed["callback"] = "+2h"
            widget, text_field = await focus_shows_the_keys_that_work(pilot, field, "picker", ALWAYS | {"ctrl+n"})
            where = f"focus in #{field}"
            picker = screen.query_one("#picker")
            # Where a text field types the single keys, the way to them is shown.
            assert ("f2, then a key, to change it" in screen_text(desk)) is text_field, where

            for key, tick in (("f3", "#identity"), ("f4", "#disclosure")):
                before = screen.query_one(tick).value
                await pilot.press(key)
                assert screen.query_one(tick).value is not before, (where, key)
                await pilot.press(key)
                assert screen.query_one(tick).value is before, (where, key)
            assert desk.focused is widget, where

            # f2, a choice, and the focus is back where it was (1 keeps the result: right party).
            result = screen.result
            await pilot.press("f2")
            assert desk.focused is picker and picker.live, where
            await pilot.press("1")
            assert (screen.outcome, screen.result) == ("RPC", result), where
            assert desk.focused is widget, where
            if not text_field:
                # Here the single keys work as they are.
                await pilot.press("r")
                assert screen.result == "RTP", where
                await pilot.press("b" if field == "callback" else "p")
                assert screen.result == result, where
            assert texts(screen) == typed, where

            # ctrl+s acts from here (refused: the checklist is not ticked), and nothing typed changes.
            # (A call back would be saved: ctrl+n saves from the note at the end.)
            await focus(pilot, field)
            if result == "PTP":
                desk.clear_notifications()
                await pilot.press("ctrl+s")
                await settle(pilot)
                assert desk.screen is screen, where
                assert [n.message for n in notices(desk)] == [
                    "Verify the customer's identity (f3) and give the disclosure (f4) before recording a promise "
                    "or a payment."], where
            # The desk's keys, and the draft: it comes back on the outcome keys.
            screen = await the_desk_keys_then_back(pilot, field, "c", typed)
            assert screen.result == result and desk.focused is screen.query_one("#picker"), where

        # The promise again, ticked, and ctrl+n from the note saves it and opens the next account.
        await pilot.press("p", "f3", "f4")
        await focus(pilot, "note")
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert desk.screen.detail.account_ref == "A-0002"
    api = await login("agent1")
    contact = next(e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact")
    assert (contact.result, contact.ptp_amount.amount_minor, contact.ptp_date, contact.note) == (
        "PTP", 15000, dt.date(2026, 3, 18), "Will pay Friday")


async def test_every_key_the_escalation_form_shows_works_from_each_of_its_fields(make_desk, referrals,
                                                                                login) -> None:
    """L-0002 is not ready for a legal referral, so ``ctrl+s`` with ``legal`` is refused and
    the form stays: every key can be tried from every field."""
    _ready, lacking = referrals()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, "L-0002")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("l", *"refuses to pay", "tab", *"Three calls, no answer")
        await settle(pilot)
        screen = desk.screen
        typed = {"escalate-reason": "refuses to pay", "escalate-note": "Three calls, no answer"}
        assert texts(screen) == typed and screen.kind == "legal"

        for field in ESCALATION_FIELDS:
            await focus_shows_the_keys_that_work(pilot, field, "escalate-kinds", ALWAYS)
            where = f"focus in #{field}"
            kinds = screen.query_one("#escalate-kinds")
            # f2 to the kinds, a kind's key, and on to the reason; then legal again.
            await pilot.press("f2")
            assert desk.focused is kinds and kinds.live, where
            await pilot.press("h")
            assert screen.kind == "hardship" and desk.focused.id == "escalate-reason", where
            await focus(pilot, field)
            await pilot.press("f2", "l")
            await settle(pilot)
            assert screen.kind == "legal" and texts(screen) == typed, where
            # ctrl+s from here: refused (what the referral lacks), nothing typed lost.
            await focus(pilot, field)
            desk.clear_notifications()
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert desk.screen is screen and screen.escalation is None, where
            assert [n.title for n in notices(desk)] == ["Not escalated"], where
            # The desk's keys, and the draft: it comes back on the kinds.
            screen = await the_desk_keys_then_back(pilot, field, "e", typed)
            assert screen.kind == "legal" and desk.focused is screen.query_one("#escalate-kinds"), where

        # A supervisor takes what legal could not, from the note: f2 s ctrl+s.
        await focus(pilot, "escalate-note")
        await pilot.press("f2", "s", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
    api = await login("agent1")
    (escalation,) = (await api.escalations(account_id=lacking.id)).items
    assert (escalation.kind, escalation.reason, escalation.note) == ("supervisor", *typed.values())


async def test_a_draft_that_comes_back_keeps_what_was_typed_whatever_key_comes_next(make_desk, accounts,
                                                                                   referrals) -> None:
    """Reopened, each form has the focus where its keys are live (not in a text field),
    and a field reached afterwards has nothing selected: no key replaces what was typed."""
    accounts()
    referrals()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, "c")
        await pilot.press("p", *"150", "tab", *"+7", "tab", *"Will pay Friday", "escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = desk.screen
        typed = texts(screen)
        assert typed == {"ptp-amount": "150", "ptp-date": "+7", "callback": "", "note": "Will pay Friday"}
        assert desk.focused is screen.query_one("#picker") and not typing_in(screen)
        # Every key the form shows, in turn, and the text stays as it was.
        for key in ("f3", "f4", "f2", "1", "2", "r", "p"):
            await pilot.press(key)
            assert texts(screen) == typed, key
        # p took the focus to the amount: nothing selected, the cursor after what was typed.
        amount = desk.focused
        assert amount.id == "ptp-amount" and amount.selection.is_empty and amount.cursor_position == 3
        for key in ("f3", "f4"):
            await pilot.press(key)
            assert texts(screen) == typed, key
        await pilot.press("0")
        assert amount.value == "1500"  # typing goes on after the draft; it never replaces it
        for field in ("ptp-date", "note"):
            await pilot.press("tab")
            assert desk.focused.id == field
            assert desk.focused.selection.is_empty
        await pilot.press("escape")
        await settle(pilot)

        # The escalation form: the draft comes back on the kinds; l picks, and the reason is untouched.
        await pilot.press("escape")
        await settle(pilot)
        await open_account(pilot, "L-0002")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("s", *"asks for a manager", "escape")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen = desk.screen
        assert screen.kind == "supervisor" and desk.focused is screen.query_one("#escalate-kinds")
        await pilot.press("l")
        await settle(pilot)
        reason = desk.focused
        assert screen.kind == "legal" and reason.id == "escalate-reason"
        assert reason.value == "asks for a manager" and reason.selection.is_empty
        await pilot.press("f2")
        assert reason.value == "asks for a manager"


async def test_the_form_keys_arrive_whole_from_a_terminal_in_one_packet(make_desk, accounts, login) -> None:
    """The keys as a terminal sends them (f3 as xterm's ESC O R, f4 as PuTTY's ESC [ 1 4 ~,
    f2 as the Linux console's ESC [ [ B), the whole promise in one packet."""
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        from_terminal(desk, "\rc" "p" "\x1bOR" "\x1b[14~" "150\t2026-03-20\t" "Will pay Friday" "\x1b[[B" "1"
                            " from salary" "\x0e")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.detail.account_ref == "A-0002"
    # Saved (the desk records a promise only with both ticks), the note whole, nothing in the amount but it.
    api = await login("agent1")
    contact = next(e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact")
    assert (contact.outcome, contact.result, contact.ptp_amount.amount_minor, contact.ptp_date, contact.note) == (
        "RPC", "PTP", 15000, dt.date(2026, 3, 20), "Will pay Friday from salary")
