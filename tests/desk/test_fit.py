"""Nothing cut that matters (issue 17 item 1): every screen with a table, at 80×24, in
English and in Chinese, with long data (long Latin and Chinese names, amounts of 12
digits in currencies with 2 and with 0 minor units, the longest reason), has no header or
cell cut without an ellipsis, no amount cut at all, no column off the screen
(``tests/desk/cuts.py`` says what counts as a cut)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend_client.models import ContactCreate, PlanCreate, PromiseIn
from tests.desk.conftest import NOW, screen_text, settle
from tests.desk.cuts import cuts

pytestmark = pytest.mark.desk

LANGS = ["en", "zh_CN"]


@pytest.fixture
def long_book(make_account):  # noqa: ANN001, ANN201
    """agent1's accounts with the longest things a screen must show."""

    def _make() -> list:
        return [
            make_account(account_ref="A-0001", customer_name="Maximiliana Throckmorton-Featherstonehaugh",
                         dpd=125, overdue="1234567890.12", balance="9876543210.99", credit_limit="9999999999.00",
                         minimum_due="123456789.01", phones=["+12125550101"]),
            make_account(account_ref="A-0002", customer_name="欧阳慕容司马诸葛长孙端木上官", dpd=95,
                         overdue="987654321098", balance="999999999999", credit_limit="999999999999",
                         minimum_due="98765432109", currency="JPY", country="JP", region=None, timezone="Asia/Tokyo",
                         phones=["+81312345678"], address="東京都千代田区丸の内1-1-1", email="o@example.jp"),
            make_account(account_ref="A-0003", customer_name="王小明", dpd=65, overdue="2600000000.00",
                         balance="98000000000.00", credit_limit="99000000000.00", minimum_due="260000000.00",
                         currency="CNY", country="CN", region=None, timezone="Asia/Shanghai",
                         phones=["+8613812345678"], address="上海市浦东新区世纪大道100号", email="wang@example.cn"),
            make_account(account_ref="A-0004", customer_name="Bob Okafor", dpd=35, overdue="41.00", balance="2300.00"),
            make_account(account_ref="A-0005", customer_name="Carla Current", dpd=0, overdue="0.00", balance="300.00"),
        ]

    return _make


async def look(pilot, seen: dict[str, list[str]], name: str) -> None:  # noqa: ANN001
    await settle(pilot)
    seen[name] = cuts(pilot.app)


def report(seen: dict[str, list[str]]) -> list[str]:
    return [f"{name}: {cut}" for name, found in seen.items() for cut in found]


@pytest.mark.parametrize("lang", LANGS)
async def test_an_agents_screens_cut_nothing(make_desk, long_book, lang) -> None:  # noqa: ANN001
    long_book()
    desk = make_desk(lang=lang)
    seen: dict[str, list[str]] = {}
    async with desk.run_test(size=(80, 24)) as pilot:
        await look(pilot, seen, "worklist")
        for row in range(3):
            desk.screen.query_one("WorklistTable").move_cursor(row=row)
            await pilot.press("enter")
            await look(pilot, seen, f"account {row}")
            await pilot.press("c")
            await settle(pilot)
            await pilot.press("f3", "f4", "p", *"150", "tab", *"+7")
            await look(pilot, seen, f"call {row}")
            # The disclosure is read aloud: whole on the screen, wrapped if need be.
            disclosure = str(desk.screen.query_one("#disclosure-text").render())
            if "".join(disclosure.split()) not in "".join(screen_text(desk).split()):
                seen[f"call {row}"].append(f"disclosure not whole: {disclosure!r}")
            await pilot.press("escape")
            await settle(pilot)
            if type(desk.screen).__name__ != "AccountScreen":
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("p")
            await settle(pilot)
            await pilot.press("i", *"12", "tab", *"12", "tab", "tab", *"+7")
            await look(pilot, seen, f"plan {row}")
            await pilot.press("escape")
            await settle(pilot)
            while type(desk.screen).__name__ != "WorklistScreen":
                await pilot.press("escape")
                await settle(pilot)
    problems = report(seen)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_supervisors_screens_cut_nothing(make_desk, long_book, login, session, lang) -> None:  # noqa: ANN001
    from backend.models import User

    first, second, third, *_rest = long_book()
    agent = await login("agent1")
    for account, used, outcome, minutes in ((first, "+12125550101", "NA", 30), (second, "+81312345678", "VM", 40),
                                            (third, "+8613812345678", "NA", 300)):
        await agent.log_contact(account.id, ContactCreate(
            channel="phone", outcome=outcome, used=used, duration_s=minutes,
            started_at=NOW - dt.timedelta(days=1, minutes=minutes)))
    await agent.log_contact(second.id, ContactCreate(  # in the night in Tokyo: a breach
        channel="phone", outcome="RPC", result="PTP", used="+81312345678", identity_verified=True,
        disclosure_given=True, started_at=dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC), duration_s=60,
        ptp=PromiseIn(amount="987654321098", date=dt.date(2026, 3, 13)),
        note="Promised from the bonus; a very long note that goes on about the family's situation"))
    await agent.draft_plan(first.id, PlanCreate(kind="settlement", discount_percent="20", count=2,
                                                first_due=dt.date(2026, 3, 18), note="half now, half with the bonus",
                                                submit=True))
    assert session.scalar(select(User.id).where(User.username == "super1"))
    desk = make_desk("super1", lang=lang)
    seen: dict[str, list[str]] = {}
    async with desk.run_test(size=(80, 24)) as pilot:
        await look(pilot, seen, "overview")
        for name in ("approvals", "breaches", "assign", "segments", "reports", "escalations", "shared_notes"):
            getattr(desk.nav, name)()
            await look(pilot, seen, name)
            if name == "reports":
                for key in ("2", "3", "4"):
                    await pilot.press(key)
                    await look(pilot, seen, f"reports {key}")
            desk.nav.team()
            await settle(pilot)
    problems = report(seen)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
async def test_every_reason_is_a_key_away(make_desk, long_book, lang) -> None:  # noqa: ANN001
    """The worklist's line and the account screen's show what fits; ``w`` shows every reason."""
    from tui.labels import why

    long_book()
    desk = make_desk(lang=lang)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        item = desk.screen.query_one("WorklistTable").current_item
        reasons = [why(r) for r in item.reasons if r.code != "contactable"]
        assert len(reasons) >= 3
        await pilot.press("w")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WhyScreen" and desk.screen.reasons == reasons
        shown = "".join(screen_text(desk).split())
        for reason in reasons:
            assert "".join(reason.split()) in shown, reason  # whole, wrapped if need be
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert type(desk.screen).__name__ == "WhyScreen" and len(desk.screen.reasons) >= 3
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
