"""Two languages from the first screen: a complete catalog, locale money and
dates, translated reasons, and the Chinese desk lining up its columns."""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len

from backend_client.models import Money, Why
from tests.desk.conftest import notices, screen_text, settle
from tui import fmt, i18n
from tui.labels import why

TUI = Path(__file__).resolve().parents[2] / "tui"


def messages() -> dict[str, str]:
    """Every literal handed to ``_()`` or ``N_()`` in the desk, with where it is (the AST's
    reading, to check babel's extraction against)."""
    found: dict[str, str] = {}
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def extracted() -> set[str]:
    """What babel's extraction (babel.cfg) finds in the desk."""
    from babel.messages.extract import extract_from_dir

    return {message if isinstance(message, str) else message[0] for _file, _line, message, _comments, _context
            in extract_from_dir(str(TUI.parent), method_map=[("tui/**.py", "python")],
                                keywords={"_": None, "N_": None})}


def po(path: Path) -> dict[str, str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {m.id: m.string for m in catalog if m.id}


PO = TUI / "locales" / "zh_CN" / "LC_MESSAGES" / "collectdesk.po"
MO = PO.with_suffix(".mo")
POT = TUI / "locales" / "collectdesk.pot"


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.fixture(autouse=True)
def english_after():
    yield
    i18n.set_language("en")


def test_the_chinese_catalog_is_complete_and_current() -> None:
    found = messages()
    assert len(found) > 200
    assert extracted() == set(found), "babel's extraction misses a message (one inside an f-string?)"
    catalog = po(PO)
    missing = sorted(m for m in found if not catalog.get(m))
    assert not missing, f"untranslated: {missing[:10]}"
    stale = sorted(k for k in catalog if k not in found)
    assert not stale, f"no longer used: {stale[:10]}"
    assert set(po(POT)) == set(found), "tui/locales/collectdesk.pot is not current: pybabel extract (babel.cfg)"
    for msgid, text in catalog.items():
        assert fields(msgid) == fields(text), f"placeholders differ: {msgid!r} → {text!r}"
        assert text != msgid or not re.search(r"[a-z]{3}", msgid), f"not translated: {msgid!r}"


def test_the_compiled_catalog_is_the_po_compiled() -> None:
    """The desk reads the .mo: it must say what the .po says (pybabel compile, babel.cfg)."""
    import gettext

    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    catalog = po(PO)
    assert {k: compiled.gettext(k) for k in catalog} == catalog


def test_each_message_is_translated_once() -> None:
    """A message given twice in the catalog is translated by whichever comes last: one
    word for two meanings ("Share" a note, a bucket's "Share" of accounts) hides that way."""
    ids = ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block.split("msgstr")[0]))
           for block in PO.read_text(encoding="utf-8").split("\n\n") if "msgid" in block]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert len(ids) > 200 and twice == []


def test_every_translation_call_takes_a_literal() -> None:
    """A message built at run time could not be in the catalog: only the label
    tables and the bindings helper translate what others marked with ``N_()``."""
    allowed = {"labels.py", "keys.py", "app.py", "worklist_table.py"}
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                literal = node.args and isinstance(node.args[0], ast.Constant)
                assert literal or path.name in allowed, f"{path.name}:{node.lineno} translates a non-literal"


@pytest.mark.parametrize(("setting", "env", "expected"), [
    ("zh_CN", {"LANG": "en_US.UTF-8"}, "zh_CN"),
    ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
    (None, {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    (None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
    (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    (None, {}, "en"),
    ("fr", {}, "en"),
])
def test_language_from_the_setting_else_the_locale(setting, env, expected, monkeypatch) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.detect_language(setting) == expected


def test_money_by_the_currency_exponent_never_floats() -> None:
    i18n.set_language("en")
    assert fmt.money(Money(amount_minor=123450, currency="USD")) == "$1,234.50"
    assert fmt.money(Money(amount_minor=1234, currency="JPY")) == "¥1,234"
    assert fmt.money(Money(amount_minor=1234, currency="IQD")) == "IQD1.234"
    assert fmt.money(Money(amount_minor=-5, currency="USD")) == "-$0.05"
    # Far beyond a float's 15–16 significant digits, and still exact.
    assert fmt.money(Money(amount_minor=123456789012345678, currency="USD")) == "$1,234,567,890,123,456.78"
    i18n.set_language("zh_CN")
    assert fmt.money(Money(amount_minor=123450, currency="USD")) == "US$1,234.50"
    assert fmt.money(Money(amount_minor=123450, currency="CNY")) == "¥1,234.50"
    assert fmt.money(Money(amount_minor=123450, currency="TWD")) == "NT$1,234.50"


def test_dates_and_times_by_locale() -> None:
    at = dt.datetime(2026, 3, 20, 14, 5, tzinfo=dt.UTC)
    i18n.set_language("en")
    assert fmt.date(at.date()) == "Mar 20, 2026"
    assert fmt.when(at, dt.UTC) == "Mar 20 14:05"
    assert fmt.clock(at, dt.UTC) == "Fri 14:05"
    i18n.set_language("zh_CN")
    assert fmt.date(at.date()) == "2026年3月20日"
    assert fmt.when(at, dt.UTC) == "3月20日 14:05"
    assert fmt.clock(at, fmt.zone("Asia/Shanghai")) == "周五22:05"


def test_typed_amounts_and_dates() -> None:
    i18n.set_language("en")
    assert fmt.parse_amount("1,500.5", "USD") == "1500.50"
    assert fmt.parse_amount(" 150 ", "USD") == "150.00"
    assert fmt.parse_amount("1500", "JPY") == "1500"
    for bad, currency in (("1.5", "JPY"), ("0", "USD"), ("-3", "USD"), ("abc", "USD"), ("", "USD"), ("1.234", "USD")):
        with pytest.raises(fmt.ParseError):
            fmt.parse_amount(bad, currency)
    today = dt.date(2026, 3, 11)
    assert fmt.parse_date("2026-03-20", today) == dt.date(2026, 3, 20)
    assert fmt.parse_date("+7", today) == dt.date(2026, 3, 18)
    assert fmt.parse_date("+2w", today) == dt.date(2026, 3, 25)
    assert fmt.parse_date("3/20/26", today) == dt.date(2026, 3, 20)
    i18n.set_language("zh_CN")
    assert fmt.parse_date("2026/3/20", today) == dt.date(2026, 3, 20)
    with pytest.raises(fmt.ParseError, match="不是有效日期"):
        fmt.parse_date("someday", today)
    now = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
    ny = fmt.zone("America/New_York")
    assert fmt.parse_when("16:30", now, ny) == dt.datetime(2026, 3, 11, 16, 30, tzinfo=ny)
    assert fmt.parse_when("09:00", now, ny) == dt.datetime(2026, 3, 12, 9, 0, tzinfo=ny)
    assert fmt.parse_when("+2h", now, ny) == now + dt.timedelta(hours=2)
    assert Decimal(fmt.parse_amount("0.10", "USD")) == Decimal("0.10")


def test_reasons_are_translated_from_their_codes() -> None:
    i18n.set_language("zh_CN")
    assert why(Why(code="dpd", text="35 days past due", params={"days": 35})) == "逾期 35 天"
    assert why(Why(code="paused", text="collection paused: complaint", params={"flag": "complaint"})) == "催收已暂停：投诉"
    assert why(Why(code="cease", text="cease: phone", params={"channel": "phone"})) == "停止联系：电话"
    # A reason this desk does not know yet: the backend's own words.
    assert why(Why(code="new_rule", text="something new", params={})) == "something new"
    i18n.set_language("en")
    assert why(Why(code="dpd", text="x", params={"days": 35})) == "35 days past due"


async def test_the_desk_in_chinese_lines_up_wide_names(make_desk, accounts, login) -> None:
    first, second, third = accounts()
    desk = make_desk(username=None, lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(desk)
        assert "登录您的工作台" in text and "用户名" in text and "密码" in text
        await pilot.press(*"agent1", "tab", *"agent1", "enter")
        await settle(pilot)
        text = screen_text(desk)
        lines = text.splitlines()
        header = next(line for line in lines if "账户" in line and "姓名" in line)
        assert "逾期金额" in header and "优先" in header
        assert "US$950.00" in text and "¥2,600.00" in text and "现在" in text
        # Columns line up: the DPD, bucket and overdue columns end at the same cell in every row,
        # whether the name is Latin or Chinese (wide characters count two cells).
        rows = {ref: next(line for line in lines if ref in line) for ref in ("A-0001", "A-0002", "A-0003")}

        def cells_to(line: str, needle: str) -> int:
            return cell_len(line[: line.index(needle) + len(needle)])

        assert cells_to(rows["A-0001"], " 95") == cells_to(rows["A-0003"], " 35") == cells_to(rows["A-0002"], " 65")
        assert cells_to(rows["A-0001"], "US$950.00") == cells_to(rows["A-0003"], "¥2,600.00")
        for line in lines:
            assert cell_len(line) <= 80
        # The loop in Chinese: open, log no answer, save and next.
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(desk)
        assert "客户" in text and "现在可以致电" in text and "逾期 95 天" in text and "时间线" in text
        await pilot.press("c")
        await settle(pilot)
        text = screen_text(desk)
        assert "按键选择联系结果" in text and "已核实身份" in text and "逾期原因" in text
        await pilot.press("2", "tab", *"无人接听 稍后再打", "ctrl+n")
        await settle(pilot)
        assert desk.screen.detail.account_ref == "A-0002"
        text = screen_text(desk)
        assert "已保存 A-0001 的联系记录。" in text or any("A-0001" in n.message for n in notices(desk))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash", *"A-0001", "enter")
        await settle(pilot)
        assert [item.account_ref for item in desk.screen.table.items] == ["A-0001"]
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(desk)
        assert desk.screen.detail.account_ref == "A-0001"
        assert "电话 · 无人接听 · 无人接听 稍后再打" in text
    api = await login("agent1")
    contacts = [e.contact for e in (await api.timeline(first.id)).items if e.kind == "contact"]
    assert [(c.outcome, c.note) for c in contacts] == [("NA", "无人接听 稍后再打")]


def test_every_scorecard_reason_is_said_in_both_languages() -> None:
    """Each bin of the shipped scorecard, in the account's money (CN¥, ¥), read from its code
    and parameters: English words in English, no Latin word in Chinese (issue 17 items 2, 3)."""
    from decimal import Decimal

    from backend.scoring.money import in_account_money
    from backend.scoring.scorecard import load_scorecard
    from tui.labels import scorecard_why

    bins = [b for spec in load_scorecard().data["features"] for b in spec["bins"]]
    assert len(bins) > 100
    for currency, scale in (("CNY", Decimal("0.25")), ("JPY", Decimal(4)), ("TWD", Decimal(1))):
        for b in bins:
            moved = in_account_money(Why(code=b["code"], text=b["text"], params=b["params"]), scale, currency)
            reason = Why(code=moved.code, text=moved.text, params=moved.params)
            i18n.set_language("en")
            english = scorecard_why(reason)
            assert english and "NT$" not in english or currency == "TWD", (b, english)
            i18n.set_language("zh_CN")
            chinese = scorecard_why(reason)
            assert chinese, b
            assert not re.search(r"[A-Za-z]{2,}", re.sub(r"(?:NT|US|HK)\$|JP¥", "", chinese)), chinese
            assert why(reason) == chinese
    i18n.set_language("en")


def test_a_reason_in_cny_and_in_jpy() -> None:
    """The same bin on a CN¥ and a ¥ account (JPY has no minor units)."""
    cny = Why(code="paid_avg+late_months_total_6m", text="…",
              params={"paid_avg.currency": "CNY", "paid_avg.over_minor": 28000, "paid_avg.max_minor": 58000,
                      "late_months_total_6m.min": 2, "late_months_total_6m.max": 3})
    jpy = Why(code="new_spending_now", text="…", params={"currency": "JPY", "max_minor": 720})
    i18n.set_language("en")
    assert why(cny) == "paid CN¥280.00–CN¥580.00 a month on average, months late add up to 2–3 over the last 6 statements"
    assert why(jpy) == "new spending up to ¥720 this month"
    i18n.set_language("zh_CN")
    assert why(cny) == "月均还款 ¥280.00–¥580.00、近 6 期账单累计逾期 2–3 个月"
    assert why(jpy) == "本月新增消费不超过 JP¥720"
    share = Why(code="paid_share_of_bill_now", text="…", params={"over_pct": 2, "max_pct": 29})
    assert why(share) == "上期账单还款 2%–29%"
    i18n.set_language("en")
    assert why(share) == "paid 2 %–29 % of the last bill"
