"""Hostile input (issue 15 item 4), beside the corpus ``test_fuzz`` replays against
every route: the wire contract's one rule for text, held by every request field;
dates in range and payments not before their account; amounts trimmed; and
the two bank files refusing a bad cell whole, every bad row listed. On SQLite and PostgreSQL, with
the clock held (``clock``: 2026-03-11 15:00 UTC)."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select

import backend_client.models as wire
from backend.importer import import_accounts
from backend.models import Account, Payment
from backend.payments_import import import_payments
from tests.api.conftest import PLAN_NOW
from tests.api.test_fuzz import SCHEMA

# --------------------------------------------------------------------------
# The rule, held by every field of every request body


def _request_models() -> set[type[BaseModel]]:
    """Every model a route reads as its body, and every model inside one."""
    names = set()
    for ops in SCHEMA["paths"].values():
        for op in ops.values():
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for ref in [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]:
                if ref:
                    names.add(ref.rsplit("/", 1)[1].removesuffix("-Input"))
    found: set[type[BaseModel]] = set()

    def walk(tp: Any) -> None:
        for arg in typing.get_args(tp):
            walk(arg)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in found:
            found.add(tp)
            for field in tp.model_fields.values():
                walk(field.annotation)

    for name in names:
        walk(getattr(wire, name))
    return found


REQUEST_MODELS = sorted(_request_models(), key=lambda m: m.__name__)
SAMPLES = ["abc", "Abc Def", "ABC", "1.00", "+12125550100", "America/New_York", "agent1"]
MULTI_LINE_FIELDS = {("AccountCreate", "address"), ("AccountPatch", "address"), ("AccountPatch", "flags_note"), ("AssignRequest", "note"),
                     ("ContactCreate", "note"), ("EscalationCreate", "note"), ("EscalationDecision", "note"),
                     ("HandoffCreate", "note"), ("NoteCreate", "text"), ("PlanCreate", "note"),
                     ("PlanDecision", "note"), ("SegmentCreate", "note"), ("SegmentPatch", "note")}
"""The fields that take line breaks and tabs (SPEC §5): notes, and addresses (a line each on letters)."""


def _sample(adapter: TypeAdapter) -> Any:
    """A value the field takes and keeps as text (or a list of one), or None: a number
    given as a string (``"35"``, as the import files give ``dpd``) is a number, not text."""
    for text in SAMPLES:
        for value in (text, [text]):
            try:
                kept = adapter.validate_python(value)
            except ValidationError:
                continue
            if isinstance(kept, str) or (isinstance(kept, list) and isinstance(kept[0], str)):
                return value
    return None


def _with(value: Any, bad: str) -> Any:
    """``value`` with its last character replaced by ``bad`` (the length kept)."""
    if isinstance(value, list):
        return [_with(value[0], bad)]
    return value[:-1] + bad


def test_the_request_models_are_found() -> None:
    names = {m.__name__ for m in REQUEST_MODELS}
    assert {"AccountCreate", "AccountPatch", "PaymentCreate", "PlanCreate", "ContactCreate", "PromiseIn",
            "PhonePatch", "SegmentFilter", "AccountFilter", "HandoffCreate", "LoginRequest"} <= names


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_request_field_that_takes_text_refuses_control_characters(model: type[BaseModel]) -> None:
    """One rule (``backend_client.models.Line``/``Lines``): every field that takes a
    string refuses NUL, C0, DEL, C1 and lone surrogates; only the multi-line fields
    take tab, LF and CR."""
    multi_line = set()
    for name, field in model.model_fields.items():
        annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        adapter = TypeAdapter(annotation)  # type: ignore[valid-type]
        sample = _sample(adapter)
        if sample is None:
            continue  # an enum, a number, a date, a nested model: no free text
        for bad in ("\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\ud800"):
            with pytest.raises(ValidationError):
                adapter.validate_python(_with(sample, bad))
        try:
            adapter.validate_python(_with(sample, "\n"))
            adapter.validate_python(_with(sample, "\t"))
            multi_line.add((model.__name__, name))
        except ValidationError:
            pass
    assert multi_line == {f for f in MULTI_LINE_FIELDS if f[0] == model.__name__}


@pytest.mark.parametrize(("value", "problem"), [
    ("a\x00b", "must not contain control characters (found U+0000)"),
    ("a\x85b", "must not contain control characters (found U+0085)"),
    ("a\nb", "must be a single line (no line breaks or tabs; found U+000A)"),
    ("a\ud800b", "must be Unicode text (found a lone surrogate U+D800)"),
    ("Zhāng Wěi 张伟 🦄 \u00a0\u200b", None),
])
def test_text_problems_name_the_character(value: str, problem: str | None) -> None:
    assert wire.text_problem(value) == problem


# --------------------------------------------------------------------------
# Dates and amounts


@pytest.fixture
def opened(make_account, clock):  # noqa: ANN001, ANN201
    """An account opened on 2015-06-01, agent1's; the clock held at 2026-03-11 15:00 UTC."""
    return make_account(agent="agent1", opened_on="2015-06-01", account_ref="OPENED2015")


def _payment(n: int, **changes: Any) -> dict[str, Any]:
    return {"bank_ref": f"HP{n}", "account_ref": "OPENED2015", "amount": "25.00", "currency": "USD",
            "paid_at": (PLAN_NOW - dt.timedelta(days=1)).isoformat(), **changes}


@pytest.mark.parametrize(("paid_at", "message"), [
    ("0001-01-01T00:00:00Z", "must be from 2000-01-01 to 2099-12-31 (UTC)"),
    ("1900-01-01T00:00:00Z", "must be from 2000-01-01 to 2099-12-31 (UTC)"),
    ("9999-12-31T23:59:59-23:59", "must be from 2000-01-01 to 2099-12-31 (UTC)"),
    ("2015-05-31T23:59:59+08:00", "is before the account was opened (2015-06-01)"),
    ("2026-03-12T15:00:00Z", "is in the future"),
])
async def test_a_payment_out_of_range_is_refused_and_the_balance_kept(http, auth, problem, opened, session,
                                                                       paid_at: str, message: str) -> None:  # noqa: ANN001
    before = opened.balance_minor
    response = await http.post("/api/v1/payments", json=_payment(1, paid_at=paid_at), headers=await auth("admin"))
    body = problem(response, 422)
    assert body["errors"] == [{"field": "paid_at", "message": message}]
    session.expire_all()
    assert session.get(Account, opened.id).balance_minor == before
    assert session.scalar(select(Payment).where(Payment.bank_ref == "HP1")) is None


async def test_a_payment_on_the_day_the_account_opened_is_taken(http, auth, opened) -> None:  # noqa: ANN001
    # Its own calendar day: 00:30 in Shanghai is still the day before in UTC.
    response = await http.post("/api/v1/payments", json=_payment(2, paid_at="2015-06-01T00:30:00+08:00"),
                               headers=await auth("admin"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("amount", [" 25.00", "25.00 ", "\u00a025.00\u2003"])
async def test_spaces_around_an_amount_are_trimmed_everywhere(http, auth, opened, amount: str) -> None:  # noqa: ANN001
    headers = await auth("admin")
    response = await http.post("/api/v1/payments", json=_payment(3, amount=amount), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == {"amount_minor": 2500, "currency": "USD"}
    plan = {"kind": "promise", "amount": amount.replace("25", "30"), "first_due": "2026-03-20"}
    preview = await http.post(f"/api/v1/accounts/{opened.id}/plans/preview", json=plan, headers=await auth("agent1"))
    assert preview.status_code == 200 and preview.json()["total"]["amount_minor"] == 3000, preview.text


@pytest.mark.parametrize("amount", ["25.00\t", "\n25.00", "25.00\x85", "2 5.00", "٢٥.٠٠", "+25.00", 25, "25,00"])
async def test_an_amount_that_is_not_a_plain_decimal_is_refused(http, auth, problem, opened, amount: Any) -> None:  # noqa: ANN001
    response = await http.post("/api/v1/payments", json=_payment(4, amount=amount), headers=await auth("admin"))
    assert problem(response, 422)["fields"] == {"amount"}


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "1999-12-31"}, "from"), ({"to": "2100-01-01"}, "to"), ({"from": "0001-01-01"}, "from"),
    ({"from": "1999-12-31T23:00:00-02:00", "to": "2000-06-30"}, None), ({"to": "2099-12-31"}, None),
])
async def test_report_periods_are_in_range(http, auth, problem, clock, params: dict, field: str | None) -> None:  # noqa: ANN001
    response = await http.get("/api/v1/reports/team", params=params, headers=await auth("super1"))
    if field is None:
        assert response.status_code == 200, response.text  # 1999-12-31T23:00-02:00 is 2000-01-01 in UTC
    else:
        assert problem(response, 422)["fields"] == {field}


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/reports/overview", {"day": "1999-12-31"}, "day"),
    ("/api/v1/reports/overview", {"day": "9999-12-31"}, "day"),
    ("/api/v1/accounts/{id}/compliance", {"at": "1999-12-31T12:00:00Z"}, "at"),
    ("/api/v1/accounts/{id}/compliance", {"at": "2100-01-01T00:00:00Z"}, "at"),
])
async def test_date_parameters_are_in_range(http, auth, problem, opened, path: str, params: dict, field: str) -> None:  # noqa: ANN001
    response = await http.get(path.replace("{id}", str(opened.id)), params=params, headers=await auth("super1"))
    assert problem(response, 422)["fields"] == {field}


# --------------------------------------------------------------------------
# The bank files: a bad cell refuses the file whole, every bad row listed


ACCOUNT_HEADER = ("account_ref,customer_name,phones,email,address,country,region,timezone,currency,credit_limit,"
                  "balance,overdue,minimum_due,dpd,card_number,opened_on,team,agent")


def _account_row(ref: str, name: str = "Ann Lee", address: str = "1 Main St", opened_on: str = "2019-04-01",
                 balance: str = "1200.00", team: str = "A") -> str:
    return (f'{ref},{name},+12125550100,a@example.com,"{address}",US,NY,America/New_York,USD,5000.00,{balance},'
            f"300.00,50.00,35,4111111111111111,{opened_on},{team},agent1")


def test_an_account_file_with_control_characters_imports_nothing_and_lists_every_row(session, clock) -> None:  # noqa: ANN001
    rows = [
        _account_row("HA1", name="Ann\x00Lee"),
        _account_row("HA2", name="Bob\u0085"),              # C1 at the end: refused, not trimmed away
        _account_row("HA3", team="A\t"),                    # a tab in a one-line cell
        _account_row("HA4", address="1 Main St\nApt 2"),    # an address takes line breaks: fine
        _account_row("HA5", opened_on="1949-12-31"),
        _account_row("HA6", balance=" 1200.00 "),           # trimmed: fine
        _account_row("HA7", name="\x1b[2J"),
    ]
    text = "\n".join([ACCOUNT_HEADER, *rows]) + "\n"
    result = import_accounts(session, text.encode("utf-8"), actor="admin")
    assert [str(e) for e in result.errors] == [
        "line 2: customer_name: must not contain control characters (found U+0000)",
        "line 3: customer_name: must not contain control characters (found U+0085)",
        "line 4: team: must be a single line (no line breaks or tabs; found U+0009)",
        "line 7: opened_on: must be from 1950-01-01 to 2099-12-31",
        "line 9: customer_name: must not contain control characters (found U+001B)",  # HA4 takes two lines
    ]
    assert result.created == 0
    assert session.scalar(select(Account).where(Account.account_ref.in_(["HA4", "HA6"]))) is None


def test_an_account_file_of_good_rows_with_a_multi_line_address_is_imported(session, clock) -> None:  # noqa: ANN001
    text = "\n".join([ACCOUNT_HEADER, _account_row("HB1", address="1 Main St\r\nApt 2"),
                      _account_row("HB2", balance=" 999.00")]) + "\n"
    result = import_accounts(session, text.encode("utf-8"), actor="admin")
    assert result.errors == [] and result.created == 2
    account = session.scalar(select(Account).where(Account.account_ref == "HB2"))
    assert account.balance_minor == 99900


def test_a_payment_file_with_hostile_cells_imports_nothing_and_lists_every_row(session, opened) -> None:  # noqa: ANN001
    header = "bank_ref,account_ref,amount,currency,paid_at"
    rows = [
        "HF1,OPENED2015,10.00,USD,2026-03-10T09:00:00Z",            # good
        "HF2\x00,OPENED2015,10.00,USD,2026-03-10T09:00:00Z",
        "HF3,OPENED2015,10.00\u0085,USD,2026-03-10T09:00:00Z",
        "HF4,OPENED2015,10.00,USD,0001-01-01T00:00:00Z",
        "HF5,OPENED2015,10.00,USD,1900-01-01T00:00:00Z",
        "HF6,OPENED2015,10.00,USD,2015-05-01T00:00:00Z",
        "HF7,OPENED2015, 10.00 ,USD,2026-03-10T09:00:00Z",          # trimmed: fine
        "HF8,OPENED2015,10.00,USD,2026-03-10T09:00:00Z\t",
    ]
    result = import_payments(session, ("\n".join([header, *rows]) + "\n").encode("utf-8"), actor="admin")
    assert [str(e) for e in result.errors] == [
        "line 3: bank_ref: must not contain control characters (found U+0000)",
        "line 4: amount: must not contain control characters (found U+0085)",
        "line 5: paid_at: must be from 2000-01-01 to 2099-12-31 (UTC)",
        "line 6: paid_at: must be from 2000-01-01 to 2099-12-31 (UTC)",
        "line 7: paid_at: is before the account was opened (2015-06-01)",
        "line 9: paid_at: must be a single line (no line breaks or tabs; found U+0009)",
    ]
    assert result.created == 0
    assert session.scalar(select(Payment).where(Payment.account_id == opened.id)) is None
