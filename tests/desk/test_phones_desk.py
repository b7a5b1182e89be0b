"""Phones: edit (``f`` on the account): the agent says which number is home, mobile,
work or other (Massachusetts counts calls per kind: 2 in 7 days to a home or
mobile number, 2 in 30 to any other) and marks numbers not to call. Saved with
the account's version; a stale version reloads and keeps the choices; a refused
number is named in the form; the backend away keeps the form. In English and in
Chinese, at 80×24."""

from __future__ import annotations

import datetime as dt

import pytest

from backend_client.models import AccountPatch, ContactCreate, PhonePatch
from tests.desk.conftest import NOW, notices, screen_text, settle
from tui import i18n

pytestmark = pytest.mark.desk

FIRST, SECOND = "+16175550102", "+16175550199"


@pytest.fixture(autouse=True)
def english_after():
    yield
    i18n.set_language("en")


@pytest.fixture
def boston(make_account, login):  # noqa: ANN001, ANN201
    """A Massachusetts customer with two numbers (the first ``mobile``, the second
    ``other``), the second called twice this month without an answer: its 30-day pool
    is spent, the mobile's 7-day pool is not."""

    async def _make():  # noqa: ANN202
        account = make_account(account_ref="M-0001", customer_name="Mary Beacon", phones=[FIRST, SECOND],
                               address="1 Beacon St, Boston, MA", region="MA", timezone="America/New_York")
        api = await login("agent1")
        for days in (3, 1):
            await api.log_contact(account.id, ContactCreate(channel="phone", outcome="NA", used=SECOND,
                                                            started_at=NOW - dt.timedelta(days=days)))
        return account

    return _make


def _flat(desk) -> str:  # noqa: ANN001
    """The screen's text, every row within 80 columns, with wrapped lines joined."""
    text = screen_text(desk)
    for line in text.splitlines():
        assert len(line.rstrip()) <= 80
    return " ".join(text.split())


def _line(desk, selector: str) -> str:  # noqa: ANN001
    return str(desk.screen.query_one(selector).render())


def _choices(desk) -> list[tuple[str, str, bool]]:  # noqa: ANN001
    from tui.screens.account.phones import PhoneRow

    return [(row.number, *row.choice) for row in desk.screen.query(PhoneRow)]


async def _open_phones(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "AccountScreen"
    await pilot.press("f")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "PhonesScreen"


async def _first_not_to_call_second_work(pilot) -> None:  # noqa: ANN001
    """From the first number's kind: tick its do-not-call, then pick ``work`` for the second."""
    await pilot.press("tab", "space", "tab", "enter")  # the second's kinds open on its own (other)
    await settle(pilot)
    await pilot.press("up", "enter")
    await settle(pilot)


async def test_the_agent_says_which_number_is_which_and_marks_one_not_to_call(make_desk, boston, login) -> None:
    account = await boston()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "Phones: edit" in [c.title for c in desk.get_system_commands(desk.screen)]
        assert f"☎ {SECOND}  other" in screen_text(desk)
        assert _line(desk, "#account-verdict").startswith("✓ May be called now")
        await pilot.press("f")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        text = _flat(desk)
        assert "Phones of M-0001 · Mary Beacon" in text
        assert f"{FIRST} mobile ▼ [ ] do not call" in text and f"{SECOND} other ▼ [ ] do not call" in text
        await _first_not_to_call_second_work(pilot)
        assert _choices(desk) == [(FIRST, "mobile", True), (SECOND, "work", False)]
        text = _flat(desk)
        assert f"{FIRST} mobile ▼ [✓] do not call" in text and f"{SECOND} work ▼ [ ] do not call" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert any(n.message == "M-0001: the numbers are saved." for n in notices(desk))
        # The account as saved: its phones with their new kinds and marks, and the verdict
        # the backend gives on them (the mobile may not be called: what is left is in
        # Massachusetts' spent 30-day pool of work and other numbers).
        assert _line(desk, "#customer-phones") == f"☎ {FIRST}  mobile, primary, do not call\n☎ {SECOND}  work"
        assert "mobile, primary, do" in screen_text(desk) and f"☎ {SECOND}  work" in screen_text(desk)
        verdict = _line(desk, "#account-verdict")
        assert verdict.startswith("✗ Not now") and "2 of 2 in 30 days" in verdict
        assert desk.screen.query_one("#account-verdict").has_class("-blocked")
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.number, p.kind, p.do_not_call) for p in phones] == [(FIRST, "mobile", True), (SECOND, "work", False)]


async def test_phones_in_chinese(make_desk, boston, login) -> None:
    account = await boston()
    desk = make_desk(lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "电话号码: 编辑" in [c.title for c in desk.get_system_commands(desk.screen)]
        await pilot.press("f")
        await settle(pilot)
        text = _flat(desk)
        assert "M-0001 · Mary Beacon 的电话号码" in text and "号码 类型" in text
        assert f"{FIRST} 手机 ▼ [ ] 请勿致电" in text and f"{SECOND} 其他 ▼ [ ] 请勿致电" in text
        await _first_not_to_call_second_work(pilot)
        assert f"{FIRST} 手机 ▼ [✓] 请勿致电" in _flat(desk) and f"{SECOND} 工作 ▼ [ ] 请勿致电" in _flat(desk)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert any(n.message == "M-0001：号码已保存。" for n in notices(desk))
        assert _line(desk, "#customer-phones") == f"☎ {FIRST}  手机、主要、请勿致电\n☎ {SECOND}  工作"
        assert f"☎ {SECOND}  工作" in screen_text(desk)
        assert _line(desk, "#account-verdict").startswith("✗")
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.kind, p.do_not_call) for p in phones] == [("mobile", True), ("work", False)]


async def test_a_stale_version_reloads_and_keeps_the_choices(make_desk, boston, login) -> None:
    account = await boston()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_phones(pilot)
        await _first_not_to_call_second_work(pilot)
        # Meanwhile another agent says the second number is the customer's home and adds an e-mail.
        other = await login("agent2")
        fresh = await other.account(account.id)
        await other.patch_account(account.id, AccountPatch(email="mary@example.com", phones=[
            PhonePatch(number=FIRST, kind="mobile"), PhonePatch(number=SECOND, kind="home")]), fresh.version)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        assert _line(desk, "#phones-error") == "Someone changed this account meanwhile; it has been reloaded."
        assert "Someone changed this account meanwhile; it has been reloaded." in _flat(desk)
        assert _choices(desk) == [(FIRST, "mobile", True), (SECOND, "work", False)]  # what the agent chose
        assert desk.screen.account.version != fresh.version
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert _line(desk, "#customer-phones") == f"☎ {FIRST}  mobile, primary, do not call\n☎ {SECOND}  work"
        assert "mary@example.com" in screen_text(desk)
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.kind, p.do_not_call) for p in phones] == [("mobile", True), ("work", False)]


async def test_a_number_added_meanwhile_comes_in_and_the_choices_stay(make_desk, boston, login) -> None:
    account = await boston()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_phones(pilot)
        await _first_not_to_call_second_work(pilot)
        other = await login("agent2")
        fresh = await other.account(account.id)
        await other.patch_account(account.id, AccountPatch(phones=[
            PhonePatch(number=FIRST), PhonePatch(number=SECOND), PhonePatch(number="+16175550177", kind="home")]),
            fresh.version)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        assert _choices(desk) == [(FIRST, "mobile", True), (SECOND, "work", False), ("+16175550177", "home", False)]
        assert "+16175550177 home ▼ [ ] do not call" in _flat(desk)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.number, p.kind, p.do_not_call) for p in phones] == [
        (FIRST, "mobile", True), (SECOND, "work", False), ("+16175550177", "home", False)]


async def test_a_refused_number_is_named_and_nothing_chosen_is_lost(make_desk, boston, session, login) -> None:
    account = await boston()
    # A number on record that the backend no longer takes (no country has +999).
    account.customer.phones[1].number = "+99912345678"
    session.commit()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_phones(pilot)
        await _first_not_to_call_second_work(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        assert _line(desk, "#phones-error") == "+99912345678: not a valid phone number"
        assert "+99912345678: not a valid phone number" in _flat(desk)
        rows = list(desk.screen.query("PhoneRow"))
        assert [row.has_class("-invalid") for row in rows] == [False, True]
        assert _choices(desk) == [(FIRST, "mobile", True), ("+99912345678", "work", False)]
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.kind, p.do_not_call) for p in phones] == [("mobile", False), ("other", False)]  # nothing saved


async def test_the_backend_away_keeps_the_form(make_desk, boston, switch, login) -> None:
    account = await boston()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_phones(pilot)
        await _first_not_to_call_second_work(pilot)
        switch.down = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        assert any(n.message == "The backend cannot be reached; nothing typed is lost." for n in notices(desk))
        assert _choices(desk) == [(FIRST, "mobile", True), (SECOND, "work", False)]
        switch.down = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
        assert f"☎ {SECOND}  work" in screen_text(desk)
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.kind, p.do_not_call) for p in phones] == [("mobile", True), ("work", False)]


async def test_escape_changes_nothing(make_desk, boston, login) -> None:
    account = await boston()
    desk = make_desk()
    async with desk.run_test(size=(80, 24)) as pilot:
        await _open_phones(pilot)
        await pilot.press("tab", "tab", "enter")  # the second's kinds open
        await settle(pilot)
        await pilot.press("escape")  # closes the menu, not the form
        await settle(pilot)
        assert type(desk.screen).__name__ == "PhonesScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert type(desk.screen).__name__ == "AccountScreen"
    api = await login("agent1")
    phones = (await api.account(account.id)).customer.phones
    assert [(p.kind, p.do_not_call) for p in phones] == [("mobile", False), ("other", False)]
