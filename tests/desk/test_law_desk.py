"""The law as written, on the desk (issue 13): the verdict names the places whose
call windows it intersected, what the tightest frequency limit has counted, and
when blocked the first lawful minute on the agent's clock and the customer's; a
zone the customer confirmed replaces the other places; phones show their kind;
flags set and lifted are on the timeline. In English and in Chinese, at 80×24."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest

from backend_client.models import AccountPatch, ComplianceBlock, ContactCreate, FlagsPatch, LimitCount, Place
from tests.desk.conftest import NOW, screen_text, settle
from tui import i18n
from tui.labels import verdict

pytestmark = pytest.mark.desk

NEW_YORK = ZoneInfo("America/New_York")
AT_1030 = dt.datetime(2026, 3, 11, 10, 30, tzinfo=NEW_YORK)
"""10:30 in New York is 07:30 in Los Angeles: shut there."""
AT_1130 = dt.datetime(2026, 3, 11, 11, 30, tzinfo=NEW_YORK)
"""11:30 in New York is 08:30 in Los Angeles: open in both."""


@pytest.fixture(autouse=True)
def english_after():
    yield
    i18n.set_language("en")


@pytest.fixture
def coast_to_coast(make_account):  # noqa: ANN001, ANN201
    """The issue's own case: a New York phone and a California address, no zone on record."""

    def _make():  # noqa: ANN202
        return make_account(account_ref="W-0001", customer_name="Wanda Shore", phones=["+12125550100"],
                            address="1 Ocean Ave, Santa Monica, CA", region="CA", timezone=None)

    return _make


def _line(desk, selector: str) -> str:  # noqa: ANN001
    return str(desk.screen.query_one(selector).render())


async def _open_first(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "AccountScreen"


def _flat(desk) -> str:  # noqa: ANN001
    """The screen's text with its wrapped lines joined (a verdict takes two rows at 80 columns)."""
    text = screen_text(desk)
    for line in text.splitlines():
        assert len(line.rstrip()) <= 80
    return " ".join(text.split())


async def test_a_new_york_phone_and_a_california_address_both_bound_the_call(make_desk, coast_to_coast) -> None:
    coast_to_coast()
    # 11:30 in New York (the agent is there too): lawful in both places, and the verdict names them.
    desk = make_desk(at=AT_1130.astimezone(dt.UTC), agent_tz=NEW_YORK)
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        line = _line(desk, "#account-verdict")
        assert line.startswith("✓ May be called now · New York (phone) and Los Angeles (address) · 0 of 7 this week")
        assert not desk.screen.query_one("#account-verdict").has_class("-blocked")
        assert "New York (phone) and Los Angeles (address)" in _flat(desk)
        assert "☎ +12125550100  mobile, primary" in screen_text(desk)
        await pilot.press("c")
        await settle(pilot)
        assert _line(desk, "#call-verdict") == (
            "✓ May be called now · New York (phone) and Los Angeles (address) · 0 of 7 this week")
        assert "☎ +12125550100 (mobile)" in screen_text(desk)
    # 10:30 in New York is 07:30 in Los Angeles: not yet, lawful from 11:00 (08:00 there).
    desk = make_desk(at=AT_1030.astimezone(dt.UTC), agent_tz=NEW_YORK)
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        expected = ("✗ Not now: outside the customer's calling hours · lawful from 11:00 (08:00 Los Angeles) · "
                    "New York (phone) and Los Angeles (address) · 0 of 7 this week")
        assert _line(desk, "#account-verdict").startswith(expected)
        assert desk.screen.query_one("#account-verdict").has_class("-blocked")
        assert expected in _flat(desk)
        await pilot.press("c")
        await settle(pilot)
        assert _line(desk, "#call-verdict") == expected
        assert desk.screen.query_one("#call-verdict").has_class("-blocked")
        assert expected in _flat(desk)


class NoVerdicts(httpx.AsyncBaseTransport):
    """The backend, except that every compliance question fails to connect."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/compliance"):
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_without_the_full_verdict_the_accounts_own_line_stays(make_desk, coast_to_coast, switch) -> None:
    coast_to_coast()
    desk = make_desk(transport=NoVerdicts(switch))
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        # The account's own answer (kept with it): the places, no counts.
        assert _line(desk, "#account-verdict").startswith(
            "✓ May be called now · New York (phone) and Los Angeles (address) — ")
        await pilot.press("c")
        await settle(pilot)
        assert type(desk.screen).__name__ == "CallScreen"
        assert _line(desk, "#call-verdict") == "✓ May be called now · New York (phone) and Los Angeles (address)"


async def test_the_places_and_the_lawful_minute_in_chinese(make_desk, coast_to_coast) -> None:
    coast_to_coast()
    desk = make_desk(lang="zh_CN", at=AT_1030.astimezone(dt.UTC), agent_tz=NEW_YORK)
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        expected = ("✗ 现在不可联系：不在客户的可致电时段 · 11:00 起可合法联系（洛杉矶 08:00） · "
                    "纽约（电话）和洛杉矶（地址） · 本周 0/7 次")
        assert _line(desk, "#account-verdict").startswith(expected)
        text = _flat(desk)
        assert "纽约（电话）和洛杉矶（地址）" in text and "11:00 起可合法联系（洛杉矶 08:00）" in text
        assert "☎ +12125550100 手机、主要" in text
        await pilot.press("c")
        await settle(pilot)
        assert _line(desk, "#call-verdict") == expected
        assert "☎ +12125550100 (手机)" in screen_text(desk)
    desk = make_desk(lang="zh_CN", at=AT_1130.astimezone(dt.UTC), agent_tz=NEW_YORK)
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        assert _line(desk, "#account-verdict").startswith("✓ 现在可以致电 · 纽约（电话）和洛杉矶（地址） · 本周 0/7 次")


async def test_the_verdict_counts_the_calls_of_the_tightest_limit(make_desk, make_account, login) -> None:
    account = make_account(account_ref="C-0001", customer_name="Carl Count", timezone="America/New_York")
    api = await login("agent1")
    for hours in (26, 2):  # yesterday and this morning, no answer: both count
        await api.log_contact(account.id, ContactCreate(channel="phone", outcome="NA", used="+12125550100",
                                                        started_at=NOW - dt.timedelta(hours=hours)))
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        assert _line(desk, "#account-verdict").startswith("✓ May be called now · New York (customer) · 2 of 7 this week")
        assert "2 of 7 this week" in _flat(desk)
        await pilot.press("c")
        await settle(pilot)
        assert _line(desk, "#call-verdict") == "✓ May be called now · New York (customer) · 2 of 7 this week"


async def test_the_zone_the_customer_confirmed_replaces_the_other_places(make_desk, coast_to_coast, login) -> None:
    account = coast_to_coast()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        assert "Los Angeles (address)" in _line(desk, "#account-verdict")
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Customer: confirm time zone" in titles
        await pilot.press("t")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TimezoneScreen"
        field = desk.screen.query_one("#timezone-zone")
        assert field.value == "America/New_York"  # the first place the verdict names
        assert "Now: New York (phone) and Los Angeles (address)" in _flat(desk)
        # Not a zone: said so, and what was typed stays.
        await pilot.press("ctrl+u", *"Mars/Olympus", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TimezoneScreen" and field.value == "Mars/Olympus"
        assert _line(desk, "#timezone-error") == "Not a time zone: Mars/Olympus (try America/New_York or Asia/Shanghai)"
        assert "Not a time zone: Mars/Olympus" in _flat(desk)
        # Someone else changes the account meanwhile: it is read again and the zone typed stays.
        other = await login("agent2")
        fresh = await other.account(account.id)
        await other.patch_account(account.id, AccountPatch(email="wanda@example.com"), fresh.version)
        await pilot.press("ctrl+u", *"america/new_york", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "TimezoneScreen" and field.value == "america/new_york"
        assert _line(desk, "#timezone-error") == "Someone changed this account meanwhile; it has been reloaded."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        line = _line(desk, "#account-verdict")
        assert line.startswith("✓ May be called now · New York (customer) · 0 of 7 this week")
        assert "Los Angeles" not in line and "Los Angeles" not in screen_text(desk)
        assert "wanda@example.com" in screen_text(desk)
        await pilot.press("c")
        await settle(pilot)
        assert "New York (customer)" in _line(desk, "#call-verdict")
    api = await login("agent1")
    customer = (await api.account(account.id)).customer
    assert (customer.timezone, customer.timezone_source) == ("America/New_York", "customer")
    assert [(p.zone, p.sources) for p in customer.places] == [("America/New_York", ["customer"])]


async def test_the_confirmed_zone_in_chinese(make_desk, coast_to_coast) -> None:
    coast_to_coast()
    desk = make_desk(lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        await pilot.press("t")
        await settle(pilot)
        text = _flat(desk)
        assert "当前：纽约（电话）和洛杉矶（地址）" in text and "时区" in text
        await pilot.press("ctrl+u", *"Nowhere", "ctrl+s")
        await settle(pilot)
        assert _line(desk, "#timezone-error").startswith("不是有效时区：Nowhere")
        await pilot.press("ctrl+u", *"America/Los_Angeles", "ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert _line(desk, "#account-verdict").startswith("✓ 现在可以致电 · 洛杉矶（客户确认） · 本周 0/7 次")


async def test_flags_set_and_lifted_are_on_the_timeline(make_desk, make_account, login) -> None:
    account = make_account(account_ref="F-0001", customer_name="Fay Flag")
    api = await login("agent1")
    version = (await api.account(account.id)).version
    version = (await api.patch_account(account.id, AccountPatch(flags=FlagsPatch(cease=["phone"])), version)).version
    boss = await login("super1")
    # A dispute that arrived yesterday, entered today, then lifted.
    version = (await boss.patch_account(account.id, AccountPatch(flags=FlagsPatch(dispute=True),
                                                                 flags_effective_at=NOW - dt.timedelta(days=1)),
                                        version)).version
    await boss.patch_account(account.id, AccountPatch(flags=FlagsPatch(dispute=False), flags_note="card was stolen"),
                             version)
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        text = screen_text(desk)
        rows = [line for line in text.splitlines() if " set" in line or " lifted" in line]
        assert any("super1" in row and "dispute lifted · card was stolen" in row for row in rows), rows
        assert any("agent1" in row and "cease (phone) set" in row for row in rows), rows
        assert any("super1" in row and "dispute set · recorded Mar 11 10:00" in row for row in rows), rows
        assert "flag:" not in text  # never the backend's raw words
        assert _line(desk, "#account-verdict").startswith("✗ Not now: the customer asked us to stop")
    desk = make_desk(lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_first(pilot)
        text = screen_text(desk)
        assert "已解除争议" in text and "已设置停止联系（电话）" in text


def test_no_lawful_hour_and_other_limits_in_words() -> None:
    """The line's other shapes, from a verdict built here: places that share no lawful
    hour, a limit counted over 30 days, a time not on the agent's today."""
    i18n.set_language("en")
    places = [Place(zone="Europe/London", label="London", sources=["address"]),
              Place(zone="America/New_York", label="New York", sources=["phone"]),
              Place(zone="Asia/Shanghai", label="Shanghai", sources=["phone"])]
    none = [ComplianceBlock(rule="call-window", detail="no lawful hour", until=None)]
    assert verdict(False, None, none, NEW_YORK, now=NOW, places=places) == (
        "✗ No lawful hour: New York, Shanghai and London share none")
    i18n.set_language("zh_CN")
    assert verdict(False, None, none, NEW_YORK, now=NOW, places=places) == "✗ 无合法时段：纽约、上海和伦敦没有共同的可致电时间"
    i18n.set_language("en")
    counts = [LimitCount(policy="us-ma", counted=1, max=2, days=30), LimitCount(policy="default", counted=1, max=7, days=7)]
    tomorrow = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
    window = [ComplianceBlock(rule="call-window", detail="", until=tomorrow)]
    boston = [Place(zone="America/New_York", label="New York", sources=["record", "phone"])]
    assert verdict(False, tomorrow, window, NEW_YORK, now=NOW, places=boston, counts=counts,
                   next_zone="Asia/Kolkata") == (
        "✗ Not now: outside the customer's calling hours · lawful from Mar 12 08:00 (Mar 12 17:30 Kolkata) · "
        "New York (record, phone) · 1 of 2 in 30 days")
    # Without a full verdict (the worklist's line) it is as it was.
    assert verdict(False, tomorrow, window, NEW_YORK) == (
        "✗ Not now: outside the customer's calling hours · lawful from Mar 12 08:00")
