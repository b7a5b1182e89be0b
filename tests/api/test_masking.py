"""Masking (SPEC §4, issue 2): no response body, stored row, log line or error
ever holds more of a card number than its BIN and last four digits.

Accounts are created with full card numbers (16, 15 and 19 digits, with spaces
and dashes), the card numbers are then pasted everywhere a user could paste them
(search, notes, the number used, names of agents and zones, bodies that are
refused), every route answers, and every answer, every captured log line and
every row of every table is searched for the middle digits.
"""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import text

from backend.api import redact
from backend.domain.accounts import mask_card_numbers
from backend.models import Base

CARDS = ["4539 8273 6150 4820", "3714-496353-98431", "6011908765432109876", "5425 2334 3010 9903"]


def _digits(card: str) -> str:
    return re.sub(r"\D", "", card)


def _middles() -> list[str]:
    return [_digits(c)[6:-4] for c in CARDS]


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?")


def _leaks(blob: str, tokens: list[str]) -> list[str]:
    """The middle digits found in ``blob`` (after removing what is random: tokens and times)."""
    for token in tokens:
        blob = blob.replace(token, "<token>")
    blob = _TIMESTAMP.sub("<time>", blob)
    digits_only = re.sub(r"[\s-]", "", blob)
    return [m for m in _middles() if m in blob or m in digits_only]


def _row(n: int, card: str, **overrides: object) -> dict:
    row = {"account_ref": f"MASK-{n}", "customer_name": f"Card Holder {n}", "phones": ["+12125550100"],
           "currency": "USD", "credit_limit": "1000.00", "balance": "500.00", "overdue": "100.00", "minimum_due": "10.00",
           "dpd": 40 + n, "card_number": card, "team": "A", "agent": "agent1", "timezone": "America/New_York"}
    row.update(overrides)
    return row


async def test_no_answer_row_or_log_holds_a_card_number(http, auth, session, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    tokens: list[str] = []

    async def call(method: str, url: str, headers: dict, **kwargs) -> dict | None:  # noqa: ANN003
        response = await http.request(method, url, headers=headers, **kwargs)
        answers.append(f"{response.status_code} {dict(response.headers)} {response.text}")  # what came back
        if "access_token" in response.text:
            tokens.append(response.json()["access_token"])
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None

    login = await call("POST", "/api/v1/auth/login", {}, json={"username": "admin", "password": "admin"})
    admin = {"Authorization": f"Bearer {login['access_token']}"}
    ids = []
    for n, card in enumerate(CARDS):
        created = await call("POST", "/api/v1/accounts", {**admin, "Idempotency-Key": f"mask-{n}"}, json=_row(n, card))
        ids.append(created["id"])
        assert created["card"] == f"•••• •••• •••• {_digits(card)[-4:]}"
        # The same again (replayed), a duplicate (409), and refused rows quoting the card everywhere.
        await call("POST", "/api/v1/accounts", {**admin, "Idempotency-Key": f"mask-{n}"}, json=_row(n, card))
        await call("POST", "/api/v1/accounts", admin, json=_row(n, card))
        await call("POST", "/api/v1/accounts", admin, json=_row(
            100 + n, card, agent=_digits(card), timezone=card, email=card, credit_limit=card, phones=[card],
            account_ref=_digits(card)))
        await call("POST", "/api/v1/accounts", admin, json=_row(200 + n, card + "X"))
        await call("POST", "/api/v1/accounts", admin, json=_row(300 + n, card, card_number=_digits(card) * 2))

    login = await call("POST", "/api/v1/auth/login", {}, json={"username": "agent1", "password": "agent1"})
    agent = {"Authorization": f"Bearer {login['access_token']}"}
    await call("GET", "/api/v1/me", agent)
    await call("GET", "/api/v1/worklist", agent)
    for card in CARDS:
        for q in (card, _digits(card), _digits(card)[-4:]):
            page = await call("GET", "/api/v1/worklist", agent, params={"q": q})
            assert page is not None and len(page["items"]) >= 1, q
        await call("GET", "/api/v1/worklist", agent, params={"cursor": card})
        await call("GET", "/api/v1/worklist", agent, params={"q": card * 5})
    await call("POST", "/api/v1/worklist/next", agent)
    for account_id, card in zip(ids, CARDS, strict=True):
        detail = await call("GET", f"/api/v1/accounts/{account_id}", agent)
        await call("POST", f"/api/v1/accounts/{account_id}/contacts", {**agent, "Idempotency-Key": card.replace(" ", "")},
                   json={"channel": "letter", "outcome": "RPC", "result": "RTP", "note": f"customer read out {card}",
                         "used": card})
        await call("POST", f"/api/v1/accounts/{account_id}/contacts", agent,
                   json={"channel": "letter", "outcome": "RPC", "note": card})  # refused: no result
        await call("POST", f"/api/v1/accounts/{account_id}/notes", agent, json={"text": f"card is {card}, ok"})
        await call("GET", f"/api/v1/accounts/{account_id}/timeline", agent)
        await call("PATCH", f"/api/v1/accounts/{account_id}", {**agent, "If-Match": str(detail["version"])},
                   json={"timezone": card, "email": card})
        await call("PATCH", f"/api/v1/accounts/{account_id}", {**agent, "If-Match": _digits(card)}, json={})
        await call("PATCH", f"/api/v1/accounts/{account_id}", {**admin, "If-Match": str(detail["version"])},
                   json={"agent": _digits(card), "team": card})
        await call("POST", f"/api/v1/accounts/{account_id}/release", agent)
    await call("GET", f"/api/v1/accounts/{_digits(CARDS[0])}", agent)
    await call("GET", "/healthz", {})

    assert _leaks("\n".join(answers), tokens) == []
    assert _leaks(caplog.text, tokens) == [], [ln for ln in caplog.text.splitlines() if _leaks(ln, tokens)]
    # Nothing stored holds them either: every row of every table.
    for table in Base.metadata.sorted_tables:
        rows = session.execute(text(f"SELECT * FROM {table.name}")).all()
        assert _leaks(repr(rows), tokens) == [], table.name
    # What was pasted into free text is kept, masked to BIN and last four.
    timeline = await http.get(f"/api/v1/accounts/{ids[0]}/timeline", headers=agent)
    assert "453982******4820" in timeline.text


def test_masking_free_text() -> None:
    assert mask_card_numbers("card 4539 8273 6150 4820, thanks") == "card 453982******4820, thanks"
    assert mask_card_numbers("amex 3714-496353-98431") == "amex 371449*****8431"
    assert mask_card_numbers("6011908765432109876") == "601190*********9876"
    # A card pasted twice, or run into other digits, keeps nothing of its middle.
    assert mask_card_numbers("45398273615048204539827361504820") == "453982" + "*" * 22 + "4820"
    # Shorter digit runs, phone numbers and dates are left alone.
    for keep in ("ref 123456789012", "+12125550100", "x" * 30, "2024-06-01 12:00", "call 212 555 0100"):
        assert mask_card_numbers(keep) == keep


@pytest.fixture
def log_records():  # noqa: ANN201
    """Records emitted while the redacting record factory is installed."""
    redact.install()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_log_lines_are_masked_however_they_are_made(log_records) -> None:  # noqa: ANN001
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    card = "4539827361504820"
    # uvicorn's access log line for a search with a pasted card number.
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                             f"/api/v1/worklist?q={card}", "1.1", 200)
    logging.getLogger("collectdesk.backend").warning("refused %(card)s", {"card": card})
    logging.getLogger("anything").error(f"plain {card}")
    try:
        raise ValueError(f"could not parse {card}")
    except ValueError:
        logging.getLogger("collectdesk.backend").exception("unexpected error")
    formatted = [AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(log_records[0])]
    formatted += [DefaultFormatter("%(levelprefix)s %(message)s").format(r) for r in log_records[1:]]
    formatted += [logging.Formatter().format(r) for r in log_records]
    assert len(log_records) == 4
    blob = "\n".join(formatted)
    assert "736150" not in blob
    assert "/api/v1/worklist?q=453982******4820" in formatted[0]
    assert "ValueError: could not parse 453982******4820" in blob


async def test_an_unexpected_error_logs_masked_and_answers_a_problem(app, log_records) -> None:  # noqa: ANN001
    import httpx

    card = "4539 8273 6150 4820"

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"card {card} broke it")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Internal error" and "8273" not in response.text
    logged = "\n".join(logging.Formatter().format(r) for r in log_records)
    assert "RuntimeError: card 453982******4820 broke it" in logged and "736150" not in logged.replace(" ", "")
