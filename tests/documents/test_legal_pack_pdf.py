"""The legal pack of a Taiwanese, a Hong Kong and a mainland customer (issue 17 item 4): each
document in the language the customer's jurisdiction says, every font embedded, every
page drawn, that jurisdiction's rules and the bank's office there.

``COLLECTDESK_KEEP_PAGES=<dir>`` keeps each document and its pages' PNGs there, to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from backend.services import escalations as svc
from tests.documents.test_pdf_fonts import CASES, DEFAULT_CONTACT, _need, check_fonts, check_pages, text_of

CUSTOMERS = {
    "TW": {"customer_name": "林美玲", "address": "臺北市大安區和平東路二段 100 號 5 樓", "timezone": "Asia/Taipei",
           "currency": "TWD", "phones": ["+886912345678"]},
    "CN": {"customer_name": "王小明", "address": "上海市浦东新区世纪大道100号", "timezone": "Asia/Shanghai",
           "currency": "CNY", "phones": ["+8613812345678"]},
    "HK": {"customer_name": "陳大文", "address": "香港九龍彌敦道 500 號 12 樓 A 室", "timezone": "Asia/Hong_Kong",
           "currency": "HKD", "phones": ["+85291234567"]},
}


@pytest.mark.parametrize("country", list(CUSTOMERS))
def test_the_legal_pack_follows_the_customers_jurisdiction(country: str, make_account, session,  # noqa: ANN001
                                                             tmp_path: Path) -> None:
    _need()
    account = make_account(dpd=120, country=country, region=None, **CUSTOMERS[country])
    lang = svc._lang_for(account, None)
    assert lang == {"TW": "zh_TW", "CN": "zh_CN", "HK": "zh_HK"}[country]
    assert svc._lang_for(account, "zh_CN") == lang  # Chinese asked for is the place's own
    case = CASES[lang]
    keep = os.environ.get("COLLECTDESK_KEEP_PAGES")
    for kind in svc.LEGAL_PACK:
        pdf = svc.render(session, account, kind, "pdf", lang, dt.date(2026, 3, 11), "Collectdesk Demo Bank",
                         DEFAULT_CONTACT)
        pages = tmp_path / kind
        pages.mkdir()
        check_fonts(pdf, pages)
        check_pages(pdf, pages)
        if keep:
            (Path(keep) / f"legal-pack-{country}-{kind}.pdf").write_bytes(pdf)
            for png in pages.glob("page-*.png"):
                shutil.copy(png, Path(keep) / f"legal-pack-{country}-{kind}-{png.name}")
        text = text_of(pdf)
        assert re.sub(r"\s+", "", CUSTOMERS[country]["customer_name"]) in text
        assert case["script"][0] in text, (kind, case["script"][0])
        assert "**" not in text, kind  # NT$, HK$ and ¥ beside Chinese: still bold, never asterisks
        for word in case["not"]:
            assert word not in text, (kind, word)
        if kind in ("demand_letter", "statement"):
            assert re.sub(r"\s+", "", case["office"]) in text, kind
            assert "1BankPlaza" not in text  # the bank's office there, not the deployment's
        if kind == "demand_letter":
            for rule in case["law"]:
                assert re.sub(r"\s+", "", rule) in text, rule
