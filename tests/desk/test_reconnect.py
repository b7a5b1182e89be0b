"""Reconnect (issue 18 item 5): an agent whose connection dropped and who starts a new
desk finds the account, and the form with its draft, their last desk was on.

Each desk writes where it is in the store every desk of the user shares (``Places``);
a desk whose terminal is lost marks its place left as it ends (``tui.hangup``), a killed
one is known by its process. The next desk to sign in as the user takes that place.
The real backend in-process; the desks' store in a temporary directory.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time

import pytest

from tests.desk.conftest import notices, screen_text, settle
from tui.hangup import EXIT_CODE, TerminalWatch
from tui.store import PLACE_KEPT_S, Places, Store

pytestmark = pytest.mark.desk


async def open_call_and_type(pilot, text: str) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter", "c")
    await settle(pilot)
    await pilot.press("2", "tab", *text)
    await settle(pilot)


async def test_a_desk_whose_terminal_was_lost_is_returned_to_with_its_draft(make_desk, accounts) -> None:
    alice = accounts()[0]
    first = make_desk()
    async with first.run_test(size=(80, 24)) as pilot:
        await open_call_and_type(pilot, "left word with her son")
        assert first.screen.query_one("#note").text == "left word with her son"
        first.places.lost()  # the terminal went: what tui.hangup does before the process ends

    second = make_desk()
    async with second.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await settle(pilot)
        # The account, and on it the call form with what was typed.
        assert [type(s).__name__ for s in second.screen_stack[-2:]] == ["AccountScreen", "CallScreen"]
        assert second.screen.account.id == alice.id
        assert second.screen.query_one("#note").text == "left word with her son"
        assert second.screen.outcome == "NA"
        assert "Back where you were when your last desk ended: A-0001 Alice Moreno, with the call you were" \
            in screen_text(second).replace("\n", " ").replace("  ", " ") or any(
                "A-0001 Alice Moreno, with the call you were typing" in n.message for n in notices(second))
        # Escape goes back to the account, then the worklist, as ever.
        await pilot.press("escape")
        await settle(pilot)
        assert type(second.screen).__name__ == "AccountScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert type(second.screen).__name__ == "WorklistScreen"

    # Taken once: a third desk starts at the worklist.
    third = make_desk()
    async with third.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(third.screen).__name__ == "WorklistScreen"


async def test_the_account_alone_when_no_form_was_open(make_desk, accounts) -> None:
    bob = accounts()[1]
    first = make_desk()
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert first.screen.account_id == bob.id
        first.places.lost()
    second = make_desk()
    async with second.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert type(second.screen).__name__ == "AccountScreen" and second.screen.account_id == bob.id
        assert any("Back where you were when your last desk ended: A-0002 Bob Okafor." == n.message
                   for n in notices(second))


async def test_quitting_as_asked_starts_the_next_desk_at_the_worklist(make_desk, accounts) -> None:
    accounts()
    first = make_desk()
    async with first.run_test(size=(80, 24)) as pilot:
        await open_call_and_type(pilot, "kept as a draft")
    # The draft stays (marked on the worklist), but the agent left: no return.
    second = make_desk()
    async with second.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert type(second.screen).__name__ == "WorklistScreen"
        assert not any("Back where you were" in n.message for n in notices(second))


async def test_a_desk_still_open_is_told_of_not_taken(make_desk, accounts, drafts) -> None:
    alice = accounts()[0]
    # Another desk of agent1's, running (this very process), on Alice's call form.
    other = Places(Store(drafts))
    other.here(make_desk().server, "agent1", alice.id, "A-0001", "Alice Moreno", "call")
    desk = make_desk()
    async with desk.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert any(n.message == "Another desk of yours is open on A-0001 Alice Moreno; its drafts are here too."
                   for n in notices(desk))


async def test_signing_out_leaves_no_place(make_desk, accounts) -> None:
    accounts()
    first = make_desk()
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        first.action_sign_out()
        await settle(pilot)
        assert type(first.screen).__name__ == "LoginScreen"
        with first.store.transaction(write=False) as db:
            assert db.execute("SELECT count(*) FROM places").fetchone()[0] == 0


async def test_the_place_is_in_the_desks_language(make_desk, accounts) -> None:
    accounts()
    first = make_desk(lang="zh_CN")
    async with first.run_test(size=(80, 24)) as pilot:
        await open_call_and_type(pilot, "x")
        first.places.lost()
    second = make_desk(lang="zh_CN")
    async with second.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        # The place is offered once the account's screen is back; under load that can take a
        # few more turns of the loop than settle's (bounded: 100 turns, no sleeping).
        for _ in range(100):
            messages = [n.message for n in notices(second)]
            if any("A-0001" in m and "通话" in m for m in messages):
                break
            await settle(pilot)
        assert any("A-0001" in m and "通话" in m for m in messages), messages
        assert not any("Back where" in m for m in messages)


# -- the store's places, directly --------------------------------------------------------


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_a_killed_desks_place_is_taken_once_and_the_newest_first(tmp_path) -> None:
    clock_s = [1_000_000.0]
    import datetime as dt

    def clock() -> dt.datetime:
        return dt.datetime.fromtimestamp(clock_s[0], dt.timezone.utc)

    old, newer = Places(Store(tmp_path, clock=clock)), Places(Store(tmp_path, clock=clock))
    old.here("http://s", "agent1", 1, "A-1", "One", None)
    clock_s[0] += 60
    newer.here("http://s", "agent1", 2, "A-2", "Two", "plan")
    # Both desks were killed: their processes are gone.
    pid = dead_pid()
    with old.store.transaction() as db:
        db.execute("UPDATE places SET pid = ?, started = ''", (pid,))
    a, b = Places(Store(tmp_path, clock=clock)), Places(Store(tmp_path, clock=clock))
    found = a.take("http://s", "agent1")
    assert found.back_to is not None and (found.back_to.account_id, found.back_to.form) == (2, "plan")
    assert found.open_elsewhere == ()
    # The older one was let go with it: nothing left for the next desk.
    assert b.take("http://s", "agent1").back_to is None


def test_places_of_other_users_servers_and_old_ones_are_not_taken(tmp_path) -> None:
    import datetime as dt

    clock_s = [2_000_000.0]

    def clock() -> dt.datetime:
        return dt.datetime.fromtimestamp(clock_s[0], dt.timezone.utc)

    stale = Places(Store(tmp_path, clock=clock))
    stale.here("http://s", "agent1", 8, "A-8", "Eight", None)
    stale.lost()
    clock_s[0] += PLACE_KEPT_S + 1  # the next morning: that sign-in has long expired
    for server, user in (("http://s", "agent2"), ("http://other", "agent1")):
        gone = Places(Store(tmp_path, clock=clock))
        gone.here(server, user, 7, "A-7", "Seven", None)
        gone.lost()
    me = Places(Store(tmp_path, clock=clock))
    assert me.take("http://s", "agent1").back_to is None
    theirs = me.take("http://s", "agent2").back_to
    assert theirs is not None and theirs.account_id == 7
    with me.store.transaction(write=False) as db:  # the stale one is forgotten
        assert db.execute("SELECT count(*) FROM places WHERE account_id = 8").fetchone()[0] == 0


def test_a_lost_desk_lets_go_of_what_it_was_sending(tmp_path) -> None:
    from tui.store import Outbox

    store = Store(tmp_path)
    outbox, places = Outbox(store), Places(store)
    entry = outbox.add("note", server="http://s", user="agent1", account_id=1, account_ref="A-1", body={"text": "x"})
    places.here("http://s", "agent1", 1, "A-1", "One", "note")
    places.lost()
    assert outbox.get(entry.key) is not None
    other = Outbox(Store(tmp_path))
    assert other.claim(entry.key)  # at once, not after the claim's minute
    # Nothing the ended desk does after that moves its place.
    places.leave()
    places.here("http://s", "agent1", 2, "A-2", "Two", None)
    found = Places(Store(tmp_path)).take("http://s", "agent1").back_to
    assert found is not None and found.account_id == 1


# -- the terminal watch ----------------------------------------------------------------------


def test_a_hung_up_terminal_ends_the_desk_once_after_saying_so() -> None:
    master, slave = pty.openpty()
    said, exits = [], []
    ended = threading.Event()

    def exit_(code: int) -> None:
        exits.append(code)
        ended.set()

    watch = TerminalWatch(lambda: said.append("gone"), fd=slave, every_s=0.05, bound_s=5, exit=exit_)
    threading.Thread(target=watch._watch, daemon=True).start()
    time.sleep(0.2)
    assert not said  # a terminal that is there is left alone
    os.close(master)  # sshd closes the pty when the connection is gone
    assert ended.wait(5)
    watch.gone()  # SIGHUP as well: still once
    time.sleep(0.1)
    assert said == ["gone"] and exits == [EXIT_CODE]
    os.close(slave)


def test_a_stuck_ending_cannot_keep_the_desk_alive() -> None:
    exits: list[int] = []
    ended = threading.Event()

    def exit_(code: int) -> None:
        exits.append(code)
        ended.set()

    watch = TerminalWatch(lambda: time.sleep(30), fd=0, every_s=60, bound_s=0.2, exit=exit_)
    watch.gone()
    assert ended.wait(3) and exits == [EXIT_CODE]
