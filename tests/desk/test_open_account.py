"""Opening an account (issue 18 item 3): its four requests asked at once, the screen opened
when they have answered (painted once, whole) or after ``open_wait_s`` with what has, the
rest filling in as it comes; nothing asked twice; keys typed meanwhile go to the account."""

from __future__ import annotations

import asyncio

import httpx

from tests.desk.conftest import burst, notices, screen_text, settle

ACCOUNT_PARTS = ("account", "timeline", "compliance", "plans")


def _part(path: str) -> str | None:
    """Which of an account's four parts a request path asks for."""
    if path == "/api/v1/plans":
        return "plans"
    bits = path.split("/")
    if len(bits) >= 5 and bits[3] == "accounts" and bits[4].isdigit():
        return "account" if len(bits) == 5 else bits[5] if bits[5] in ("timeline", "compliance") else None
    return None


class HoldOne(httpx.AsyncBaseTransport):
    """Answers every request at once but those for one part of an account, which wait for
    ``release``: a backend slow on that part alone."""

    def __init__(self, inner: httpx.AsyncBaseTransport, part: str) -> None:
        self.inner = inner
        self.part = part
        self.release = asyncio.Event()
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _part(request.url.path) == self.part:
            self.held += 1
            await self.release.wait()
        return await self.inner.handle_async_request(request)


def _asked(switch, since: int) -> list[str]:  # noqa: ANN001
    return sorted(p for _method, path in switch.requests[since:] if (p := _part(path)) is not None)


async def test_an_account_opens_with_its_four_answers_each_asked_once(make_desk, accounts, switch) -> None:  # noqa: ANN001
    accounts()
    started: list[str] = []

    def hook(message) -> None:  # noqa: ANN001
        worker = getattr(message, "worker", None)
        if worker is not None and worker.name.startswith("account-"):
            started.append(worker.name)

    desk = make_desk()
    desk.nav.open_wait_s = 30.0  # all four answer within it, however busy the machine
    async with desk.run_test(size=(80, 24), message_hook=hook) as pilot:
        await settle(pilot)
        before = len(switch.requests)
        await pilot.press("enter")
        await settle(pilot)
        screen = desk.screen
        assert type(screen).__name__ == "AccountScreen"
        assert _asked(switch, before) == sorted(ACCOUNT_PARTS)
        # Every part came with the screen: the screen asked nothing itself.
        assert not {"account-detail", "account-timeline", "account-verdict", "account-plan"} & set(started)
        assert screen.detail is not None and screen.timeline is not None and screen.compliance is not None
        assert "A-0001" in screen_text(desk) and "0 of " in screen_text(desk)


async def test_a_slow_part_does_not_hold_the_account_and_is_asked_once(make_desk, accounts, switch) -> None:  # noqa: ANN001
    """The timeline is slow: the account opens without it after ``open_wait_s`` (the customer,
    the card, the verdict shown), keys typed meanwhile reach it, and the timeline fills in when
    it answers, asked once."""
    accounts()
    slow = HoldOne(switch, "timeline")
    desk = make_desk(transport=slow)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = len(switch.requests)
        burst(desk, "enter", "w")  # open, then "why" on the account, in one packet
        for _ in range(100):
            await pilot.pause(0.05)
            if type(desk.screen).__name__ == "WhyScreen":
                break
        assert type(desk.screen).__name__ == "WhyScreen", type(desk.screen).__name__
        account = desk.screen_stack[-2]
        assert type(account).__name__ == "AccountScreen" and account.timeline is None
        assert slow.held == 1
        await pilot.press("escape")
        slow.release.set()
        await settle(pilot)
        assert desk.screen is account and account.timeline is not None
        asked = _asked(switch, before)
        assert set(asked) == set(ACCOUNT_PARTS) and asked.count("timeline") == 1 and slow.held == 1


async def test_an_account_gone_meanwhile_is_said_and_the_worklist_stays(make_desk, accounts, session) -> None:  # noqa: ANN001
    """Moved to another team after the worklist was shown: the backend answers 404 for it, the
    desk says so and stays on the worklist (no empty account screen)."""
    from sqlalchemy import select

    from backend.models import Account, Team

    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        top = desk.screen.table.current_item
        assert top is not None
        account = session.get(Account, top.id)
        account.team_id = session.scalars(select(Team.id).where(Team.name != "A")).first()
        session.commit()
        await pilot.press("enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert any(n.title == "Account" for n in notices(desk)), [n.title for n in notices(desk)]


async def test_the_footer_is_built_again_only_when_its_keys_change(make_desk, accounts, monkeypatch) -> None:  # noqa: ANN001
    """Back on the worklist from an account its keys are the same: its footer is not built
    (and painted) again. Searching shows other keys: it is."""
    from tui.widgets.keys_footer import KeysFooter

    built: list[str] = []
    compose = KeysFooter.compose

    def counting(self):  # noqa: ANN001, ANN202
        built.append(type(self.screen).__name__)
        return compose(self)

    monkeypatch.setattr(KeysFooter, "compose", counting)
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = desk.screen.query_one(KeysFooter)
        keys = footer.query("FooterKey")
        assert keys and "Open" in screen_text(desk).splitlines()[-1]
        await pilot.press("enter")
        await settle(pilot)
        built.clear()
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        assert built == []
        await pilot.press("slash")
        await settle(pilot)
        assert built and set(built) == {"WorklistScreen"}


async def test_moves_and_enter_in_one_packet_open_the_account_moved_to(make_desk, accounts) -> None:  # noqa: ANN001
    """Over SSH "down down enter" often arrives at once: the account opened is the one the
    cursor moved to, never the one it was on (the table's moves waited in its queue while
    the screen's priority enter acted)."""
    accounts()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        items = desk.screen.table.items
        burst(desk, "down", "down", "enter")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert desk.screen.account_id == items[2].id
        await pilot.press("escape")
        await settle(pilot)
        burst(desk, "up", "enter")
        await settle(pilot)
        assert desk.screen.account_id == items[1].id
        await pilot.press("escape")
        await settle(pilot)
        burst(desk, "ctrl+home", "enter")
        await settle(pilot)
        assert desk.screen.account_id == items[0].id
