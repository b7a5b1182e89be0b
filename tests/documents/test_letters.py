"""The plan confirmation letter: Markdown from config/templates, PDF laid out from it,
money from integer minor units, Chinese that a PDF reader gets back as text."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import parse_decimal
from pypdf import PdfReader

from backend.documents import LetterError, PlanLetter, format_day, format_money, mask_card, render_markdown, render_pdf
from backend.documents.letters import TEMPLATE_DIR, markdown_to_pdf
from backend_client.money import to_minor
from tests.conftest import repo_root

FULL_CARD = "4111 1111 1111 1234"


def letter(**changes: object) -> PlanLetter:
    base = PlanLetter(
        bank_name="First Example Bank",
        bank_contact="Collections, 1 Main St, Springfield\nPhone 800-555-0100, Monday to Friday 9:00-17:00",
        customer_name="Jane Doe",
        customer_address="12 Elm St\nSpringfield, IL 62701",
        account_ref="ACC-000123",
        card="•••• •••• •••• 1234",
        currency="USD",
        kind="instalment",
        total_minor=100000,
        discount_minor=0,
        balance_minor=250000,
        schedule=((dt.date(2026, 4, 1), 33334), (dt.date(2026, 5, 1), 33333), (dt.date(2026, 6, 1), 33333)),
        status="active",
        approved_by=None,
        created_on=dt.date(2026, 3, 11),
        agent_name="Alex Agent",
        grace_days=5,
    )
    return replace(base, **changes)


def chinese(**changes: object) -> PlanLetter:
    return letter(**{
        "bank_name": "示例银行信用卡中心",
        "bank_contact": "客服热线：400-800-0000\n地址：上海市浦东新区世纪大道100号",
        "customer_name": "王小明",
        "customer_address": "北京市朝阳区建国路88号\n3单元501室",
        "account_ref": "CN-0042",
        "currency": "CNY",
        "lang": "zh_CN",
        **changes,
    })


def pdf_text(data: bytes) -> str:
    """The PDF's text as pypdf reads it."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\x7f", "•")


def schedule_rows(markdown: str) -> list[list[str]]:
    """The body rows of the Markdown's table (the first table in the letter)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def amount_minor(text: str, currency: str, lang: str) -> int:
    number = re.sub(r"[^0-9.,]", "", text.replace("**", ""))
    return to_minor(parse_decimal(number, locale=lang, strict=True), currency)


# --------------------------------------------------------------------------- Markdown


@pytest.mark.parametrize(("currency", "amounts"), [
    ("USD", (33334, 33333, 33333)),
    ("JPY", (40000, 30000, 30001)),
    ("KWD", (1, 999, 123456789)),
    ("CNY", (5, 6, 7)),
])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_schedule_lists_every_item_and_sums_to_the_total(currency: str, amounts: tuple[int, ...],
                                                             lang: str) -> None:
    dues = (dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31))
    made = letter(currency=currency, lang=lang, total_minor=sum(amounts), schedule=tuple(zip(dues, amounts, strict=True)))
    rows = schedule_rows(render_markdown(made))
    *items, total = rows
    assert len(items) == len(amounts)
    for n, (row, due, amount) in enumerate(zip(items, dues, amounts, strict=True), start=1):
        assert row == [str(n), format_day(due, lang), format_money(amount, currency, lang)]
        assert amount_minor(row[2], currency, lang) == amount
    assert total[2] == f"**{format_money(sum(amounts), currency, lang)}**"
    assert sum(amount_minor(row[2], currency, lang) for row in items) == amount_minor(total[2], currency, lang)
    assert amount_minor(total[2], currency, lang) == made.total_minor


@pytest.mark.parametrize(("minor", "currency", "lang", "shown"), [
    (123450, "USD", "en", "$1,234.50"),
    (5, "USD", "en", "$0.05"),
    (123456, "JPY", "en", "¥123,456"),
    (1234567, "KWD", "en", "KWD1,234.567"),
    (123450, "CNY", "zh_CN", "¥1,234.50"),
    (123450, "USD", "zh_CN", "US$1,234.50"),
    (30000, "TWD", "zh_TW", "NT$300.00"),  # babel's zh_TW symbol is a bare $: read as US dollars abroad
    (30000, "HKD", "zh_HK", "HK$300.00"),
    (30000, "USD", "zh_TW", "US$300.00"),
    (2**53 + 1, "USD", "en", "$90,071,992,547,409.93"),  # a float would print ...409.92
])
def test_money_comes_from_minor_units_with_the_currency_exponent(minor: int, currency: str, lang: str,
                                                                 shown: str) -> None:
    assert format_money(minor, currency, lang) == shown


def test_money_refuses_a_float() -> None:
    with pytest.raises(LetterError):
        format_money(12.5, "USD")  # type: ignore[arg-type]


def test_a_jpy_letter_has_no_decimals_and_a_usd_letter_two() -> None:
    jpy = render_markdown(letter(currency="JPY", total_minor=300, schedule=((dt.date(2026, 4, 1), 300),)))
    assert "¥300" in jpy and "¥300.00" not in jpy and not re.search(r"¥[\d,]+\.\d", jpy)
    usd = render_markdown(letter())
    assert "$333.34" in usd and "$1,000.00" in usd and "$2,500.00" in usd
    dollars = re.findall(r"\$[\d,]*\d(?:\.\d+)?", usd)
    assert len(dollars) >= 6 and all(re.fullmatch(r"\$[\d,]+\.\d\d", d) for d in dollars), dollars


def test_the_letter_says_what_was_agreed_and_what_happens_if_a_payment_is_missed() -> None:
    text = render_markdown(letter())
    for part in ("# First Example Bank", "March 11, 2026", "Jane Doe", "12 Elm St", "ACC-000123",
                 "•••• •••• •••• 1234", "Instalment plan", "3 payments", "within 5 days of its due date",
                 "the arrangement is broken", "Phone 800-555-0100", "This letter confirms the arrangement",
                 "Alex Agent"):
        assert part in text, part
    assert "discount" not in text

    settlement = render_markdown(letter(kind="settlement", total_minor=60000, discount_minor=40000,
                                        balance_minor=100000, schedule=((dt.date(2026, 4, 1), 60000),),
                                        grace_days=0, approved_by="Sam Supervisor"))
    for part in ("Settlement", "full and final settlement", "$1,000.00", "a discount of **$400.00**",
                 "by its due date", "the discount no longer applies", "approved by Sam Supervisor"):
        assert part in settlement, part


@pytest.mark.parametrize("kind", ["promise", "instalment", "minimum", "settlement"])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("status", ["draft", "pending", "active", "kept", "broken", "cancelled", "rejected"])
def test_every_kind_status_and_language_renders(kind: str, lang: str, status: str) -> None:
    made = (chinese if lang == "zh_CN" else letter)(kind=kind, status=status, discount_minor=500)
    text = render_markdown(made)
    assert made.customer_name in text
    assert not re.search(r"\n{3,}", text), "no runs of blank lines"
    draft = ("Draft" in text) if lang == "en" else ("草稿" in text)
    assert draft == (status in ("draft", "pending"))


def test_the_chinese_letter_is_in_chinese() -> None:
    text = render_markdown(chinese())
    for part in ("还款安排确认函", "尊敬的王小明：", "2026年3月11日", "¥333.34", "¥1,000.00", "分3期", "还款日后5天内",
                 "北京市朝阳区建国路88号\\\n3单元501室"):
        assert part in text, part


def test_what_the_customer_typed_cannot_change_the_layout() -> None:
    odd = letter(customer_name="Jane *Q* | Doe_", customer_address="# 1 [High] St\n- Flat <2>\n3. Floor")
    text = render_markdown(odd)
    assert "Jane \\*Q\\* \\| Doe\\_" in text
    assert "\\# 1 \\[High\\] St" in text and "\\- Flat \\<2\\>" in text and "3\\. Floor" in text
    assert len(schedule_rows(text)[0]) == 3
    shown = pdf_text(render_pdf(odd))
    assert "Jane *Q* | Doe_" in shown and "# 1 [High] St" in shown and "- Flat <2>" in shown


# --------------------------------------------------------------------------- PDF


def test_the_english_pdf_has_the_name_the_account_and_every_amount() -> None:
    made = letter()
    text = pdf_text(render_pdf(made))
    assert "Jane Doe" in text and "ACC-000123" in text
    for due, amount in made.schedule:
        assert format_money(amount, "USD", "en") in text
        assert format_day(due, "en") in text
    assert "$1,000.00" in text and "Payment schedule" in text


def test_the_chinese_pdf_has_the_name_as_text() -> None:
    made = chinese()
    data = render_pdf(made)
    assert b"STSong-Light" not in data and b"/Helvetica" not in data  # no font the viewer must supply
    assert b"+WenQuanYiMicroHei" in data  # a subset of the CJK font, embedded
    text = pdf_text(data)
    assert "王小明" in text
    assert "还款计划" in text and "CN-0042" in text and "北京市朝阳区建国路88号" in text
    for _due, amount in made.schedule:
        assert format_money(amount, "CNY", "zh_CN") in text


def test_a_chinese_name_in_an_english_letter_survives() -> None:
    text = pdf_text(render_pdf(letter(customer_name="Chan Tai Man 陳大文")))
    assert "Chan Tai Man 陳大文" in text


def test_the_pdf_is_the_same_bytes_every_time() -> None:
    assert render_pdf(letter()) == render_pdf(letter())
    assert render_pdf(chinese()) == render_pdf(chinese())


def test_a_long_schedule_runs_over_pages() -> None:
    amounts = [1000] * 59 + [1001]
    dues = [dt.date(2026 + (m // 12), m % 12 + 1, 1) for m in range(60)]
    made = letter(total_minor=sum(amounts), schedule=tuple(zip(dues, amounts, strict=True)))
    data = render_pdf(made)
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2
    text = pdf_text(data)
    assert "$10.01" in text and "$600.01" in text and format_day(dues[-1], "en") in text


def test_markdown_to_pdf_lays_out_lists_and_rules() -> None:
    text = pdf_text(markdown_to_pdf("## Title\n\n- one\n- two *three*\n\n1. first\n2. second\n\n---\n\nend\\\nline",
                                    footer="F-1"))
    for part in ("Title", "one", "two three", "1.", "first", "second", "end", "line", "F-1"):
        assert part in text, part


# --------------------------------------------------------------------------- the card


@pytest.mark.parametrize("card", [FULL_CARD, "4111111111111234", "411111******1234", "•••• •••• •••• 1234"])
def test_the_card_only_ever_appears_masked(card: str) -> None:
    assert mask_card(card) == "•••• •••• •••• 1234"
    for lang_letter in (letter(card=card), chinese(card=card)):
        markdown = render_markdown(lang_letter)
        shown = pdf_text(render_pdf(lang_letter))
        for text in (markdown, shown):
            assert "•••• •••• •••• 1234" in text
            assert "4111" not in text and "411111" not in text
            assert text.count("1234") == 1


def test_a_card_without_four_digits_is_refused() -> None:
    with pytest.raises(LetterError, match="card"):
        render_markdown(letter(card="•••• 12"))


# --------------------------------------------------------------------------- errors


def test_a_broken_template_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "plan_letter.en.md.j2"
    path.write_text("# {{ letter.bank_name }}\n\n{% if letter.kind %}\nno end\n", encoding="utf-8")
    with pytest.raises(LetterError) as caught:
        render_markdown(letter(), template_dir=tmp_path)
    assert caught.value.path == path.resolve()
    assert str(path.resolve()) in str(caught.value) and "line" in str(caught.value)


def test_a_template_using_an_unknown_name_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "plan_letter.en.md.j2"
    path.write_text("# {{ letter.bank_name }}\n\n{{ letter.no_such_field }}\n", encoding="utf-8")
    with pytest.raises(LetterError) as caught:
        render_pdf(letter(), template_dir=tmp_path)
    assert caught.value.path == path.resolve()
    assert "line 3" in str(caught.value) and "no_such_field" in str(caught.value)


def test_a_missing_template_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LetterError, match=r"plan_letter\.fr\.md\.j2"):
        render_markdown(letter(lang="fr"))
    with pytest.raises(LetterError, match=re.escape(str((tmp_path / "plan_letter.en.md.j2").resolve()))):
        render_markdown(letter(), template_dir=tmp_path)


def test_a_template_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "plan_letter.en.md.j2").write_bytes(b"\xff\xfe{{ letter.bank_name }}\x80")
    with pytest.raises(LetterError, match="plan_letter.en.md.j2"):
        render_markdown(letter(), template_dir=tmp_path)


@pytest.mark.parametrize(("changes", "message"), [
    ({"total_minor": 99999}, "sums to 100000"),
    ({"schedule": ()}, "no payments"),
    ({"schedule": ((dt.date(2026, 4, 1), 100000), (dt.date(2026, 5, 1), 0))}, "more than zero"),
    ({"schedule": ((dt.date(2026, 5, 1), 50000), (dt.date(2026, 4, 1), 50000))}, "date order"),
    ({"kind": "gift"}, "kind"),
    ({"currency": "dollars"}, "currency"),
    ({"lang": "../../etc"}, "language"),
    ({"total_minor": 1000.0}, "integers"),
])
def test_a_letter_that_would_be_wrong_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(LetterError, match=message):
        render_markdown(letter(**changes))


def test_the_templates_live_in_config() -> None:
    assert TEMPLATE_DIR == repo_root() / "config" / "templates"
    for lang in ("en", "zh_CN"):
        assert (TEMPLATE_DIR / f"plan_letter.{lang}.md.j2").is_file()


# --------------------------------------------------------------------------- weight


def test_the_desk_does_not_load_the_letter_libraries_and_the_backend_loads_reportlab_only_for_a_pdf() -> None:
    code = ("import sys, json, tui.app; desk = sorted({m.split('.')[0] for m in sys.modules}); "
            "import backend.documents; backend = sorted({m.split('.')[0] for m in sys.modules}); "
            "print(json.dumps([desk, backend]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root())
    desk, backend = json.loads(out.stdout)
    for heavy in ("jinja2", "reportlab", "pypdf", "PIL"):
        assert heavy not in desk, heavy
    assert "reportlab" not in backend


def test_amounts_are_parsed_back_exactly() -> None:
    # the helper the schedule test relies on reads what format_money writes
    assert amount_minor("**KWD1,234.567**", "KWD", "en") == 1234567
    assert amount_minor("¥1,234.50", "CNY", "zh_CN") == 123450
    assert parse_decimal("1,234.50", locale="en") == Decimal("1234.50")
