"""A slow or stopped backend: the desk says so on the status line, keeps what
was typed, never freezes or crashes, and sends what it kept exactly once when
the backend is back."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import asdict

import httpx
import pytest

from backend_client.models import AccountPatch, FlagsPatch
from tests.desk.conftest import notices, screen_text, settle
from tui.store import Drafts, Outbox, Store

pytestmark = pytest.mark.desk


async def contacts_of(api, account_id: int) -> list:  # noqa: ANN001
    return [e.contact for e in (await api.timeline(account_id)).items if e.kind == "contact"]


def outbox_file(drafts) -> list[dict]:  # noqa: ANN001
    """The outbox as it is on disk, read through a store of its own (as another desk would)."""
    store = Store(drafts)
    try:
        return [asdict(entry) for entry in Outbox(store).entries()]
    finally:
        store.close()


async def open_call(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter", "c")
    await settle(pilot)


async def test_backend_down_keeps_the_contact_and_sends_it_once(make_desk, accounts, switch, drafts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_call(pilot)
        await pilot.press("2", "tab", *"no answer, tried twice")
        switch.down = True  # the cable is cut
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Kept: on disk, with its idempotency key, before anything was answered.
        kept = outbox_file(drafts)
        assert len(kept) == 1 and kept[0]["state"] == "pending" and len(kept[0]["key"]) == 32
        assert kept[0]["body"]["outcome"] == "NA" and kept[0]["body"]["note"] == "no answer, tried twice"
        text = screen_text(desk)
        assert "Offline: retrying" in text and "1 unsent" in text
        # Said once: the account screen's reloads after the save do not say it again.
        assert sum("cannot be reached" in n.message or "not answering" in n.message
                   for n in notices(desk)) == 1
        assert type(desk.screen).__name__ == "AccountScreen"  # back on the account, not stuck
        assert "unsent: no answer" in text
        # Still usable while down: the worklist is there, the keys work, nothing crashes.
        await pilot.press("escape", "j", "k", "question_mark", "escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert desk.return_code is None

        switch.down = False  # back
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert outbox_file(drafts) == []
        text = screen_text(desk)
        assert "Online" in text and "unsent" not in text
        # Asking again sends nothing more.
        await pilot.press("ctrl+r")
        await settle(pilot)
    api = await login("agent1")
    contacts = await contacts_of(api, first.id)
    assert [(c.outcome, c.note) for c in contacts] == [("NA", "no answer, tried twice")]


async def test_an_answer_lost_after_the_write_is_not_a_second_contact(make_desk, accounts, switch, drafts,
                                                                        login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_call(pilot)
        await pilot.press("5", "tab", *"left a message")
        switch.lose_answers = 1  # the backend records it, the answer never arrives
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("kept on this machine" in n.message for n in notices(desk))
        # The account screen's next requests are answered: the backend is back, and the
        # kept contact goes again, with the same key.
        assert outbox_file(drafts) == []
    posts = [path for method, path in switch.requests if method == "POST" and path.endswith("/contacts")]
    assert len(posts) == 2  # sent twice, with one key
    api = await login("agent1")
    assert [c.outcome for c in await contacts_of(api, first.id)] == ["LM"]


async def test_kept_work_survives_a_killed_desk(make_desk, accounts, switch, drafts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n")
        await settle(pilot)
        await pilot.press(*"customer moved to Boston")
        switch.down = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [e["kind"] for e in outbox_file(drafts)] == ["note"]
    # The process is gone; a new desk on the same machine signs in and sends it.
    switch.down = False
    again = make_desk()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert outbox_file(drafts) == []
    api = await login("agent1")
    notes = [e.note.text for e in (await api.timeline(first.id)).items if e.kind == "note"]
    assert notes == ["customer moved to Boston"]


async def test_refused_when_sent_later_goes_back_into_the_form(make_desk, accounts, switch, drafts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_call(pilot)
        await pilot.press("2", "tab", *"rang out")
        switch.down = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Meanwhile the customer complains: collection is paused, the call is now refused.
        api = await login("agent1")
        detail = await api.account(first.id)
        await api.patch_account(first.id, AccountPatch(flags=FlagsPatch(complaint=True)), detail.version)
        switch.down = False
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert outbox_file(drafts) == []
        assert any("refused" in n.message and "A-0001" in n.message for n in notices(desk))
        # The account screen was still open: the call form has the refused contact back.
        await pilot.press("c")
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        assert desk.screen.outcome == "NA"
        assert desk.screen.query_one("#note").text == "rang out"
    assert await contacts_of(api, first.id) == []


async def test_sign_in_while_the_backend_is_down(make_desk, accounts, switch) -> None:
    accounts()
    switch.down = True
    desk = make_desk(username=None)
    async with desk.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"agent1", "tab", *"agent1", "enter")
        await settle(pilot)
        text = screen_text(desk)
        assert "cannot be reached" in text
        assert desk.screen.query_one("#username").value == "agent1"
        assert desk.screen.query_one("#password").value == "agent1"
        switch.down = False
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"


class Slow(httpx.AsyncBaseTransport):
    """Answers only when ``release`` is set: a backend that is very slow."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.release.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.release.wait()
        return await self.inner.handle_async_request(request)


async def test_a_slow_backend_shows_on_the_status_line_and_typing_goes_on(make_desk, accounts, switch) -> None:
    accounts()
    slow = Slow(switch)
    desk = make_desk(transport=slow)
    desk.slow_after_s = 0.01
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        slow.release.clear()
        await pilot.press("r")  # reload: the request hangs
        await pilot.pause(0.05)
        assert "Waiting for the backend" in screen_text(desk)
        # The desk answers keys meanwhile.
        await pilot.press("slash", *"Bob")
        assert desk.screen.query_one("#search").value == "Bob"
        slow.release.set()
        await pilot.press("enter")
        await settle(pilot)
        assert "Waiting for the backend" not in screen_text(desk)
        assert [i.account_ref for i in desk.screen.table.items] == ["A-0002"]


async def test_the_retry_timer_finds_the_backend_back_by_itself(make_desk, accounts, switch, drafts, login) -> None:
    first, *_ = accounts()
    desk = make_desk()
    desk.retry_every_s = 0.01
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_call(pilot)
        await pilot.press("3")
        switch.down = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert desk.status.connection == "down"
        switch.down = False
        for _ in range(50):
            await pilot.pause(0.02)
            await settle(pilot)
            if not outbox_file(drafts):
                break
        assert outbox_file(drafts) == []
        assert desk.status.connection == "ok"
        await settle(pilot)
        # The account screen still open shows it sent: on the timeline, no longer marked unsent.
        text = screen_text(desk)
        assert "phone · busy" in text and "unsent" not in text
    api = await login("agent1")
    assert [c.outcome for c in await contacts_of(api, first.id)] == ["BSY"]


def row_of(text: str, ref: str) -> str:
    return next(line for line in text.splitlines() if ref in line)


async def test_the_worklist_and_the_account_show_what_is_kept_for_an_account(make_desk, accounts, switch) -> None:
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await open_call(pilot)
        await pilot.press("2", "tab", *"rang")
        await pilot.press("escape")  # back to the account: the draft is kept
        await settle(pilot)
        assert "✎ draft: call" in screen_text(desk)
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(desk)
        assert row_of(text, "A-0001").startswith(" ✓✎ ") and "✎" not in row_of(text, "A-0002")
        assert "A-0001 Alice Moreno: ✓ May be called now · ✎ draft —" in text
        # A note saved while the backend is down: kept, and marked unsent (⧗ outranks ✎ in the row).
        await pilot.press("j", "enter", "n")
        await settle(pilot)
        await pilot.press(*"moved")
        switch.down = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(desk)
        assert row_of(text, "A-0002").startswith(" ✓⧗ ")
        assert "A-0002 Bob Okafor: ✓ May be called now · ⧗ 1 unsent —" in text
        # Sent: the mark goes.
        switch.down = False
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = screen_text(desk)
        assert "⧗" not in text and row_of(text, "A-0001").startswith(" ✓✎ ")


async def test_another_desk_of_the_user_on_this_machine(make_desk, accounts, drafts, login) -> None:
    """A second terminal of agent1 (its own connection to the store, its own claims):
    what it keeps shows here within a moment, and what it is sending is left to it."""
    first, second, _ = accounts()
    desk = make_desk()
    desk.reread_store_every_s = 0.05
    other = Store(drafts)
    try:
        async with desk.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            theirs = Outbox(other)
            entry = theirs.add("note", server=desk.server, user="agent1", account_id=second.id, account_ref="A-0002",
                               body={"text": "from the other terminal", "visibility": "team"},
                               draft={"text": "from the other terminal"})
            Drafts(other).put(Drafts.key(desk.server, "agent1", first.id, "note"), {"text": "half"})
            await pilot.pause(0.3)
            text = screen_text(desk)
            assert "1 unsent" in text
            assert row_of(text, "A-0001").startswith(" ✓✎ ") and row_of(text, "A-0002").startswith(" ✓⧗ ")
            # The other desk is sending it (its claim holds): this one leaves it alone.
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert theirs.get(entry.key) is not None
            # The other desk lost the backend and let it go: this one sends it.
            theirs.release(entry.key)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert theirs.entries() == []
            await pilot.pause(0.3)
            assert "unsent" not in screen_text(desk)
            # The other desk's draft, opened here: as it typed it.
            await pilot.press("enter", "n")
            await settle(pilot)
            assert desk.screen.query_one("#note-text").text == "half"
    finally:
        other.close()
    api = await login("agent1")
    assert [e.note.text for e in (await api.timeline(second.id)).items if e.kind == "note"] == ["from the other terminal"]


async def test_what_a_killed_desk_left_is_sent_from_here_by_itself(make_desk, accounts, drafts, login) -> None:
    """A desk of agent1 saved a note and was killed before sending it: once its claim
    lapses, this desk sends it without being asked (its re-read of the store sees it)."""
    _, second, _ = accounts()
    desk = make_desk()
    desk.reread_store_every_s = 0.05
    two_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    killed = Store(drafts, clock=lambda: two_minutes_ago)  # its claim was made then, and has lapsed
    try:
        async with desk.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            Outbox(killed).add("note", server=desk.server, user="agent1", account_id=second.id,
                               account_ref="A-0002", body={"text": "left by a killed desk", "visibility": "team"},
                               draft={"text": "left by a killed desk"})
            for _ in range(40):
                await pilot.pause(0.1)
                if not Outbox(killed).entries():
                    break
            assert Outbox(killed).entries() == []
            await settle(pilot)
    finally:
        killed.close()
    api = await login("agent1")
    assert [e.note.text for e in (await api.timeline(second.id)).items if e.kind == "note"] == ["left by a killed desk"]


async def test_a_desk_left_offline_asks_less_and_less_often_down_to_once_a_minute(make_desk, accounts,
                                                                                switch) -> None:
    """An idle desk makes no request more than once a minute (issue 18 item 3), offline too:
    the wait between two "is it back?" doubles from ``retry_every_s`` up to ``retry_at_most_s``
    (5 s to 60 s), and starts again from the first once the backend answers."""
    accounts()
    desk = make_desk()
    desk.retry_every_s, desk.retry_at_most_s = 0.01, 0.08
    waits: list[float] = []
    set_timer = desk.set_timer

    def recording(delay, callback=None, *, name=None, **kw):  # noqa: ANN001, ANN202
        if name == "retry":
            waits.append(round(delay, 3))
        return set_timer(delay, callback, name=name, **kw)

    desk.set_timer = recording
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        switch.down = True
        await pilot.press("enter")
        await settle(pilot)
        for _ in range(100):
            await pilot.pause(0.02)
            if len(waits) >= 6:
                break
        assert waits[:6] == [0.01, 0.02, 0.04, 0.08, 0.08, 0.08]
        switch.down = False
        for _ in range(100):
            await pilot.pause(0.02)
            if desk.status.connection == "ok":
                break
        assert desk.status.connection == "ok"
        waits.clear()
        switch.down = True
        await pilot.press("escape", "enter")  # down again: the first wait is the shortest again
        await settle(pilot)
        for _ in range(50):
            await pilot.pause(0.02)
            if waits:
                break
        assert waits[0] == 0.01
    from tui.app import RETRY_AT_MOST_S, RETRY_EVERY_S

    assert (RETRY_EVERY_S, RETRY_AT_MOST_S) == (5.0, 60.0)


async def test_an_account_opened_while_the_backend_was_away_loads_when_it_is_back(make_desk, accounts,
                                                                                switch) -> None:  # noqa: ANN001
    """Opened offline, the account is empty and the call form waits; the backend back,
    the account loads by itself and the form asked for opens."""
    accounts()
    desk = make_desk()
    desk.retry_every_s = 0.01
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        switch.down = True
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen" and desk.screen.detail is None
        switch.down = False
        for _ in range(50):
            await pilot.pause(0.05)
            if type(desk.screen).__name__ == "CallScreen":
                break
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        assert "A-0001 · Alice Moreno" in screen_text(desk)


async def test_a_busy_backend_is_asked_again_when_it_says_and_the_work_waits(make_desk, accounts, drafts, login,
                                                                             engine, db_url, session) -> None:  # noqa: ANN001
    """The backend refuses what it cannot take at once (503 with ``Retry-After``: its admission
    bound, here one request at a time, taken by a slow upload): the desk says it is busy, keeps
    the call in its outbox, asks again no sooner than it was told (not at its own, shorter
    retry), and sends the call once when the backend has room."""
    from backend.app import create_app
    from backend.db import Database
    from config.settings import BackendSettings
    from tests.conftest import on_test_session
    from tests.desk.conftest import OneAtATime, Switch

    first, *_ = accounts()
    busy = on_test_session(create_app(BackendSettings(db=db_url, max_in_flight=1), Database(db_url, engine=engine)),
                           session)
    desk = make_desk(transport=Switch(httpx.ASGITransport(app=OneAtATime(busy))))
    desk.retry_every_s = 0.05
    upload_started, upload_done = asyncio.Event(), asyncio.Event()

    async def slow_body():  # noqa: ANN202
        upload_started.set()
        await upload_done.wait()
        yield b'{"username": "agent1", "password": "agent1"}'

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=busy), base_url="http://backend") as other:
        async with desk.run_test(size=(80, 24)) as pilot:
            await open_call(pilot)
            await pilot.press("3")
            upload = asyncio.ensure_future(other.post("/api/v1/auth/login", content=slow_body(),
                                                      headers={"Content-Type": "application/json"}))
            await asyncio.wait_for(upload_started.wait(), 5)  # admitted: the one place is taken
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert desk.status.connection == "down" and desk.status.busy, screen_text(desk)
            assert len(outbox_file(drafts)) == 1
            text = screen_text(desk)
            assert "Backend busy: retrying" in text and "1 unsent" in text
            assert desk._retry_timer is not None and desk._retry_timer._interval >= 1.0  # Retry-After: 1
            upload_done.set()
            assert (await upload).status_code == 200
            for _ in range(100):
                await pilot.pause(0.05)
                await settle(pilot)
                if not outbox_file(drafts):
                    break
            assert outbox_file(drafts) == [] and desk.status.connection == "ok" and not desk.status.busy
    api = await login("agent1")
    assert [c.outcome for c in await contacts_of(api, first.id)] == ["BSY"]


def test_retry_after_is_read_as_seconds_or_a_date_and_kept_within_bounds() -> None:
    import email.utils

    from backend_client.client import BackendBusy, retry_after_seconds

    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(" 0 ") == 1  # never sooner than a second
    assert retry_after_seconds(None) == retry_after_seconds("") == retry_after_seconds("soon") == 1
    assert retry_after_seconds("86400") == BackendBusy.RETRY_AFTER_AT_MOST_S
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    assert 110 <= retry_after_seconds(email.utils.format_datetime(later, usegmt=True)) <= 121
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert retry_after_seconds(email.utils.format_datetime(past, usegmt=True)) == 1
