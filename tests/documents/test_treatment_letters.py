"""The letters of the treatment paths (issue 20 item 2): ``reminder_letter`` and
``please_call_letter`` in every document language, from the demand letter's context (money
from minor units, the card masked, the bank's office and hours in the customer's
jurisdiction, what the customer typed escaped); every letter step a strategy names has its
templates; and ``send_for_treatment`` records the letter as a contact, or is refused as a
letter sent by hand is. Every date is the test's own."""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from backend.documents.letters import TEMPLATE_DIR, _blocks
from backend.domain.treatments import parse_treatments
from backend.models import Account, Contact, Document, User
from backend.services import escalations as svc
from backend.services.flags import set_flags
from backend.services.letters import NotSent, merge_pdfs, send_for_treatment
from backend_client.models import DocumentKind, LetterSend
from config import CONFIG_DIR

NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
BANK = "Collectdesk Demo Bank"
CONTACT = "Customer care: +1 800 555 0100 · care@bank.example · 1 Bank Plaza, New York, NY"
NEW_KINDS = ("reminder_letter", "please_call_letter")
LANGS = ("en", "zh_CN", "zh_TW", "zh_HK")
# Words each language's letter must have (its script), and a phrase of the demand letter's
# legal part that an early, friendly letter must not.
SCRIPT = {"en": ("Account reference", "Dear"), "zh_CN": ("账户编号", "尊敬的"), "zh_TW": ("帳戶編號", "您好"),
          "zh_HK": ("賬戶編號", "台鑒")}
NOT_HERE = {"en": ("legal proceedings", "Demand for payment"), "zh_CN": ("法律程序", "催收函"),
            "zh_TW": ("法律程序", "催收函"), "zh_HK": ("法律程序", "追收函")}
CUSTOMERS = {
    "en": {},
    "zh_CN": {"customer_name": "王小明", "country": "CN", "region": None, "address": "上海市浦东新区世纪大道100号",
              "timezone": "Asia/Shanghai", "currency": "CNY", "phones": ["+8613812345678"]},
    "zh_TW": {"customer_name": "林美玲", "country": "TW", "region": None, "address": "臺北市大安區和平東路二段 100 號 5 樓",
              "timezone": "Asia/Taipei", "currency": "TWD", "phones": ["+886912345678"]},
    "zh_HK": {"customer_name": "陳大文", "country": "HK", "region": None, "address": "香港九龍彌敦道 500 號 12 樓 A 室",
              "timezone": "Asia/Hong_Kong", "currency": "HKD", "phones": ["+85291234567"]},
}
HOURS = {"en": "Monday to Friday", "zh_CN": "北京时间", "zh_TW": "週一至週五", "zh_HK": "公眾假期除外"}


def _text(pdf: bytes) -> str:
    """The PDF's text without white space (a line may wrap anywhere)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", NEW_KINDS)
def test_each_letter_renders_in_each_language_to_markdown_and_pdf(kind: str, lang: str, make_account,  # noqa: ANN001
                                                                  session) -> None:  # noqa: ANN001
    account = make_account(dpd=15, balance="2000.00", overdue="1234.56", minimum_due="50.00", card_number="4111111111111111",
                           **CUSTOMERS[lang])
    assert svc._lang_for(account, None) == lang
    markdown = svc.render(session, account, kind, "md", lang, TODAY, BANK, CONTACT).decode("utf-8")
    for word in (*SCRIPT[lang], account.account_ref, "•••• •••• •••• 1111", HOURS[lang]):
        assert word in markdown, (kind, lang, word)
    for phrase in NOT_HERE[lang]:
        assert phrase not in markdown, (kind, lang, phrase)
    assert "4111" not in markdown
    pdf = svc.render(session, account, kind, "pdf", lang, TODAY, BANK, CONTACT)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert f"{account.account_ref}·1" in text  # the footer: the account and the page
    assert _squash(account.customer.name) in text
    assert SCRIPT[lang][0].replace(" ", "") in text
    assert "1111" in text and "4111" not in text and "411111" not in text  # only ever masked
    assert "**" not in text


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_money_is_printed_from_minor_units(kind: str, make_account, session) -> None:  # noqa: ANN001
    usd = make_account(dpd=15, balance="2000.00", overdue="1234.56", minimum_due="50.00")
    assert usd.overdue_minor == 123456
    markdown = svc.render(session, usd, kind, "md", "en", TODAY, BANK, CONTACT).decode("utf-8")
    assert "**$1,234.56**" in markdown
    assert "$50.00" in markdown or kind == "please_call_letter"  # the reminder gives the minimum too
    cny = make_account(dpd=15, balance="100000.00", overdue="98765.40", minimum_due="1000.00", **CUSTOMERS["zh_CN"])
    markdown = svc.render(session, cny, kind, "md", "zh_CN", TODAY, BANK, CONTACT).decode("utf-8")
    assert "¥98,765.40" in markdown and "$" not in markdown
    if kind == "reminder_letter":
        assert "¥1,000.00" in markdown
    # A dollar that is not the US one says whose it is.
    twd = make_account(dpd=15, balance="6000.00", overdue="5000.00", **CUSTOMERS["zh_TW"])
    markdown = svc.render(session, twd, kind, "md", "zh_TW", TODAY, BANK, CONTACT).decode("utf-8")
    assert "NT$5,000.00" in markdown


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_the_customers_name_cannot_change_the_layout(kind: str, make_account, session) -> None:  # noqa: ANN001
    plain = make_account(dpd=15, customer_name="Plain Person")
    hostile = make_account(dpd=15, customer_name="# Bad **Bold** _x_ [click](http://evil.example) | a | b |")
    shape = [block[:1] + ((block[1],) if block[0] == "h" else ())
             for block in _blocks(svc.render(session, plain, kind, "md", "en", TODAY, BANK, CONTACT).decode())]
    markdown = svc.render(session, hostile, kind, "md", "en", TODAY, BANK, CONTACT).decode()
    assert [block[:1] + ((block[1],) if block[0] == "h" else ()) for block in _blocks(markdown)] == shape
    assert "[click](" not in markdown and "**Bold**" not in markdown
    text = _text(svc.render(session, hostile, kind, "pdf", "en", TODAY, BANK, CONTACT))
    assert "#Bad**Bold**_x_[click](http://evil.example)|a|b|" in text  # printed as typed, not laid out


def _letter_steps() -> list[tuple[str, str]]:
    steps = []
    for path in sorted((CONFIG_DIR / "strategies").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        path_ = parse_treatments(data, path.name)
        steps += [(path.name, step.template) for step in path_.steps if step.channel == "letter"]
    return steps


def test_every_letter_step_of_a_strategy_has_its_templates() -> None:
    steps = _letter_steps()
    assert {template for _file, template in steps} >= {"reminder_letter", "demand_letter", "please_call_letter"}
    for source, template in steps:
        assert template in {k.value for k in DocumentKind}, (source, template)
        LetterSend(kind=template)  # a supervisor may send it by hand too
        for lang in LANGS:
            assert (TEMPLATE_DIR / f"{template}.{lang}.md.j2").is_file(), (source, template, lang)
    # The legal pack stays the four documents a referral carries.
    assert svc.LEGAL_PACK == ("demand_letter", "statement", "contact_history", "plan_history")


def _agent(session) -> User:  # noqa: ANN001
    user = session.scalar(select(User).where(User.username == "agent1"))
    assert user is not None
    return user


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_a_treatment_letter_is_sent_as_a_letter_contact_naming_its_pdf(kind: str, make_account,  # noqa: ANN001
                                                                       session) -> None:  # noqa: ANN001
    account = make_account(dpd=15, customer_name="Rosa Delgado")
    contact = send_for_treatment(session, _agent(session), account, kind, None, BANK, CONTACT, NOW)
    assert (contact.channel, contact.direction, contact.party, contact.outcome) == (
        "letter", "outbound", "debtor", "LM")
    assert contact.started_at == NOW and contact.used == "1 Main St, New York, NY"
    pdf = session.get(Document, contact.document_id)
    assert pdf is not None and (pdf.kind, pdf.format, pdf.lang, pdf.created_at) == (kind, "pdf", "en", NOW)
    assert pdf.content.startswith(b"%PDF") and "RosaDelgado" in _text(pdf.content)
    # Its text beside it, as for a letter sent by hand; nothing in any legal pack.
    docs = session.scalars(select(Document).where(Document.account_id == account.id)).all()
    assert sorted((d.kind, d.format, d.escalation_id) for d in docs) == [(kind, "md", None), (kind, "pdf", None)]
    assert svc.last_sent(session, account.id, kind, "pdf").id == pdf.id
    # The print file of a day's letters is the batch's.
    assert merge_pdfs([pdf.content, pdf.content]).startswith(b"%PDF")


def test_a_chinese_customer_gets_the_letter_in_their_script(make_account, session) -> None:  # noqa: ANN001
    account = make_account(dpd=15, **CUSTOMERS["zh_HK"])
    contact = send_for_treatment(session, _agent(session), account, "reminder_letter", "zh_CN", BANK, CONTACT, NOW)
    pdf = session.get(Document, contact.document_id)
    assert pdf.lang == "zh_HK" and "陳大文" in _text(pdf.content)  # Chinese asked for: Hong Kong's own


def test_a_treatment_letter_is_refused_under_cease_for_letters(make_account, session) -> None:  # noqa: ANN001
    agent = _agent(session)
    account = make_account(dpd=15)
    set_flags(session, account, {"cease": ["letter"]}, agent, NOW - dt.timedelta(days=1))
    session.flush()
    with pytest.raises(NotSent) as refused:
        send_for_treatment(session, agent, account, "reminder_letter", None, BANK, CONTACT, NOW)
    assert refused.value.rule == "cease" and "letter" in refused.value.detail
    # A letter the day before the cease arrived was lawful.
    other = make_account(dpd=15)
    set_flags(session, other, {"cease": ["letter"]}, agent, NOW - dt.timedelta(days=1))
    session.flush()
    sent = send_for_treatment(session, agent, other, "please_call_letter", None, BANK, CONTACT,
                              NOW - dt.timedelta(days=2))
    assert sent.channel == "letter"
    assert session.scalar(select(Contact.id).where(Contact.account_id == account.id)) is None


def test_a_cease_for_calls_does_not_stop_a_letter_and_no_address_does(make_account, session) -> None:  # noqa: ANN001
    agent = _agent(session)
    account = make_account(dpd=15)
    set_flags(session, account, {"cease": ["phone"]}, agent, NOW - dt.timedelta(days=1))
    session.flush()
    assert send_for_treatment(session, agent, account, "please_call_letter", None, BANK, CONTACT, NOW).document_id
    homeless = make_account(dpd=15, address=None)
    with pytest.raises(NotSent) as refused:
        send_for_treatment(session, agent, homeless, "reminder_letter", None, BANK, CONTACT, NOW)
    assert refused.value.rule == "no-address"


def test_only_letters_are_sent(make_account, session) -> None:  # noqa: ANN001
    account = make_account(dpd=15)
    with pytest.raises(ValueError, match="kind"):
        send_for_treatment(session, _agent(session), account, "statement", None, BANK, CONTACT, NOW)
    assert session.scalar(select(Account.id).where(Account.id == account.id)) == account.id
    assert session.scalar(select(Contact.id).where(Contact.account_id == account.id)) is None
