"""Bank feeds: the payment file (SPEC §5), all or nothing.

Columns ``bank_ref,account_ref,amount,currency,paid_at`` (UTF-8, a header row,
every column required). ``amount`` is a decimal string in major units
(``1234.50``); ``paid_at`` is an ISO 8601 date and time *with its UTC offset*
(``2026-03-11T15:00:00+08:00`` or ``…T07:00:00Z``). A time without an offset is
refused, naming the field: the bank's feed crosses time zones, and guessing
one would move a payment across a due date.

The file is read whole and every row checked before anything is kept: its shape
(the wire model :class:`PaymentCreate`, the same as ``POST /payments``), then
the service's checks (:func:`validate_payment`: a known account, its currency,
an amount above zero with no more decimals than the currency has, not in the
future), then ``bank_ref``: a reference given twice in the file with other
details, or recorded already with other details, is an error. If any row is
bad nothing is written and every bad row is reported as ``line N: field:
problem`` (the header is line 1), as :mod:`backend.importer` does for accounts.

Otherwise every new payment goes through :func:`record_payment` in one
transaction, audited as the importing admin: it is matched to the due items of
the account's active plan, oldest first, the balances are recomputed and the
sweep runs for the account. A row already recorded with the same details (or
repeated in the file) is skipped and counted, so importing the same file again
changes nothing and succeeds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.errors import DomainError
from backend.importer import ImportRefused, RowError, _field_name, _message, cell_errors, decode, read_csv
from backend.models import Account, Payment, Plan, PlanItem, User
from backend.services.plans import record_payment, validate_payment
from backend_client.models import PaymentCreate
from backend_client.money import exponent, to_major, to_minor

COLUMNS = ("bank_ref", "account_ref", "amount", "currency", "paid_at")
REQUIRED = COLUMNS

IMPORT_ROLES = ("admin",)
"""Payments from the bank's feed are recorded by an admin (``POST /payments``); imports are audited as one."""

EXAMPLE_TIME = "2026-03-11T15:00:00+08:00"
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class PaymentImportResult:
    rows: int = 0
    created: int = 0
    recorded_already: int = 0
    """Rows whose ``bank_ref`` was recorded before with the same details (skipped)."""
    repeated: int = 0
    """Rows repeating an earlier row of the same file exactly (skipped)."""
    totals: dict[str, int] = field(default_factory=dict)
    """Minor units imported, per currency."""
    accounts: int = 0
    """Accounts the imported payments touched (the sweep ran for each)."""
    items_kept: int = 0
    items_broken: int = 0
    plans_kept: int = 0
    plans_broken: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def format_amount(amount_minor: int, currency: str) -> str:
    """``123450, "USD"`` → ``USD 1,234.50``."""
    return f"{currency} {to_major(amount_minor, currency):,.{exponent(currency)}f}"


# --------------------------------------------------------------------------
# Parsing


def _paid_at_problem(value: str) -> str | None:
    """A friendlier word than pydantic's for a time that is not ISO 8601 with an offset."""
    if _ISO_DATE.match(value):
        return f"a date without a time and UTC offset; write the time with its offset, like {EXAMPLE_TIME}"
    if not _ISO_DATETIME.match(value):
        # Pydantic would also take a number of seconds since 1970; the file format is ISO 8601.
        return f"not an ISO 8601 date and time (like {EXAMPLE_TIME})"
    return None


def _message_for(error: dict) -> str:
    if error.get("type") == "timezone_aware":
        return f"has no UTC offset; write it with one, like {EXAMPLE_TIME} or 2026-03-11T07:00:00Z"
    return _message(error)


def _row(raw: dict[str, str]) -> dict[str, str]:
    return {name: raw[name].strip() for name in COLUMNS if raw.get(name) is not None and raw[name].strip() != ""}


def _key(data: PaymentCreate) -> tuple[str, Decimal, str, dt.datetime]:
    """What makes two rows the same payment: the same account, amount, currency and instant."""
    return data.account_ref, Decimal(data.amount), data.currency, data.paid_at.astimezone(dt.UTC)


def _differing(a: PaymentCreate, b: PaymentCreate) -> list[str]:
    return [name for name, x, y in zip(("account_ref", "amount", "currency", "paid_at"), _key(a), _key(b), strict=True)
            if x != y]


@dataclass
class Parsed:
    rows: list[tuple[int, PaymentCreate]] = field(default_factory=list)
    """Each good row with its line number (an exact repeat of an earlier row left out)."""
    errors: list[RowError] = field(default_factory=list)
    """Shape errors, and every ``bank_ref`` given twice with other details."""
    count: int = 0
    """Data rows in the file."""
    repeated: int = 0
    """Rows repeating an earlier row exactly."""
    partial: list[tuple[int, dict[str, str], set[str]]] = field(default_factory=list)
    """Rows with shape errors: ``(line, values, bad fields)``, so that what could be
    read of them is checked against the database too and every problem named."""
    conflicting: list[tuple[int, PaymentCreate]] = field(default_factory=list)
    """Well-formed rows whose ``bank_ref`` is on an earlier line with other details:
    not imported, but checked like the others."""


def parse_payments(text: str) -> Parsed:
    """Read a payment file and check the shape of every row (no database)."""
    raw_rows, errors, count = read_csv(text, COLUMNS, REQUIRED)
    parsed = Parsed(errors=errors, count=count)
    rows = parsed.rows
    seen: dict[str, tuple[int, PaymentCreate | None]] = {}
    for line, raw in raw_rows:
        values = _row(raw)
        # Every cell is one line; judged as it is in the file, before it is trimmed.
        problems = cell_errors(line, {name: raw[name] for name in COLUMNS if raw.get(name) is not None})
        for problem in problems:
            values.pop(problem.field, None)
        word = _paid_at_problem(values["paid_at"]) if "paid_at" in values else None
        if word:
            problems.append(RowError(line, "paid_at", word))
            values.pop("paid_at")
        data: PaymentCreate | None = None
        try:
            data = PaymentCreate.model_validate(values)
        except ValidationError as exc:
            problems.extend(RowError(line, _field_name(e["loc"]), _message_for(e)) for e in exc.errors()
                            if not (e["type"] == "missing" and any(p.field == e["loc"][0] for p in problems)))
        if problems:
            data = None
            parsed.partial.append((line, values, {e.field.split(".")[0] for e in problems}))
        ref = values.get("bank_ref", "")
        first = seen.get(ref) if ref else None
        if first is not None:
            first_line, first_data = first
            # Judged only when both rows could be read; a bad one is reported on its own.
            diff = _differing(first_data, data) if data is not None and first_data is not None else None
            if diff == []:
                parsed.repeated += 1  # the same payment twice in the feed: recorded once
                continue
            if diff:
                problems.append(RowError(line, "bank_ref", f"{ref} is also on line {first_line} with other details "
                                                           f"(its {', '.join(diff)} differ{'s' if len(diff) == 1 else ''})"))
                parsed.conflicting.append((line, data))
        elif ref:
            seen[ref] = (line, data)
        errors.extend(problems)
        if not problems and data is not None:
            rows.append((line, data))
    return parsed


# --------------------------------------------------------------------------
# Import


def _partial_checks(session: Session, line: int, values: dict[str, str], bad: set[str]) -> list[RowError]:
    """The service's checks on the fields of a misshapen row that could be read:
    the account, its currency and the amount."""
    ref = values.get("account_ref")
    if "account_ref" in bad or not ref:
        return []
    account = session.scalar(select(Account).where(Account.account_ref == ref))
    if account is None:
        return [RowError(line, "account_ref", f"no account {ref}")]
    out = []
    currency = values.get("currency")
    if "currency" not in bad and currency and currency != account.currency:
        out.append(RowError(line, "currency", f"the account is in {account.currency}"))
    amount = values.get("amount")
    if "amount" not in bad and amount:
        try:
            if to_minor(amount, account.currency) <= 0:
                out.append(RowError(line, "amount", "must be more than zero"))
        except ValueError as exc:
            out.append(RowError(line, "amount", str(exc)))
    return out


@dataclass(frozen=True)
class _Recorded:
    account_ref: str
    amount_minor: int
    currency: str
    paid_at: dt.datetime


def _recorded(session: Session, refs: list[str]) -> dict[str, _Recorded]:
    """The payments recorded already under these bank references (columns only: a
    file of thousands is compared without loading thousands of accounts)."""
    found: dict[str, _Recorded] = {}
    for start in range(0, len(refs), 500):
        stmt = (select(Payment.bank_ref, Account.account_ref, Payment.amount_minor, Payment.currency, Payment.paid_at)
                .join(Account, Account.id == Payment.account_id).where(Payment.bank_ref.in_(refs[start:start + 500])))
        for bank_ref, *rest in session.execute(stmt):
            found[bank_ref] = _Recorded(*rest)
    return found


def _recorded_differences(payment: _Recorded, data: PaymentCreate) -> list[str]:
    wrong = []
    if payment.account_ref != data.account_ref:
        wrong.append("account_ref")
    try:
        if to_minor(data.amount, payment.currency) != payment.amount_minor:
            wrong.append("amount")
    except ValueError:
        wrong.append("amount")
    if payment.currency != data.currency:
        wrong.append("currency")
    if payment.paid_at != data.paid_at.astimezone(dt.UTC):
        wrong.append("paid_at")
    return wrong


def _statuses(session: Session, account_ids: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    """The status of every plan item and plan on these accounts."""
    items: dict[int, str] = {}
    plans: dict[int, str] = {}
    for start in range(0, len(account_ids), 500):
        chunk = account_ids[start:start + 500]
        items.update(session.execute(select(PlanItem.id, PlanItem.status).join(Plan, Plan.id == PlanItem.plan_id)
                                     .where(Plan.account_id.in_(chunk))).all())
        plans.update(session.execute(select(Plan.id, Plan.status).where(Plan.account_id.in_(chunk))).all())
    return items, plans


def importing_user(session: Session, actor: str) -> int:
    """The id of the admin an import is recorded as; :class:`ImportRefused` otherwise."""
    user = session.scalar(select(User).where(User.username == actor))
    if user is None:
        raise ImportRefused(f"no user {actor!r} to record the import as (name one with --as)")
    if not user.active:
        raise ImportRefused(f"{actor} is not active; payments from the bank's feed are recorded by an admin only")
    if user.role not in IMPORT_ROLES:
        article = "an" if user.role[:1] in "aeiou" else "a"
        raise ImportRefused(f"{actor} is {article} {user.role}; payments from the bank's feed are recorded "
                            "by an admin only")
    return user.id


def import_payments(
    session: Session,
    source: Path | bytes,
    actor: str = "admin",
    progress: Callable[[int, int], None] | None = None,
) -> PaymentImportResult:
    """Import a payment file through :func:`record_payment`, audited as ``actor``.
    Commits when every row is good; otherwise rolls back and returns the errors."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    text = decode(raw)
    actor_id = importing_user(session, actor)

    parsed = parse_payments(text)
    rows, errors = parsed.rows, parsed.errors
    result = PaymentImportResult(rows=parsed.count, repeated=parsed.repeated)
    for line, values, bad in parsed.partial:
        errors.extend(_partial_checks(session, line, values, bad))
    for line, data in parsed.conflicting:
        errors.extend(RowError(line, f, m) for f, m in validate_payment(session, data)[2])
    recorded = _recorded(session, [data.bank_ref for _line, data in rows])
    new_rows: list[tuple[int, PaymentCreate]] = []
    account_ids: set[int] = set()
    for line, data in rows:
        payment = recorded.get(data.bank_ref)
        wrong = _recorded_differences(payment, data) if payment is not None else []
        if payment is not None and not wrong:
            # Recorded already, exactly so (it was checked then): skipped, so a
            # second import of a file changes nothing and does not check it all again.
            result.recorded_already += 1
            continue
        account, _amount, problems = validate_payment(session, data)
        errors.extend(RowError(line, f, m) for f, m in problems)
        if wrong:
            errors.append(RowError(line, "bank_ref", f"{data.bank_ref} was recorded already with other details "
                                                     f"(its {', '.join(wrong)} differ{'s' if len(wrong) == 1 else ''})"))
        elif not problems:
            assert account is not None
            new_rows.append((line, data))
            account_ids.add(account.id)

    if errors:
        session.rollback()
        result.errors = sorted(errors)
        return result

    total = len(new_rows)
    touched = sorted(account_ids)
    items_before, plans_before = _statuses(session, touched)
    if progress:
        progress(0, total)
    try:
        for done, (line, data) in enumerate(new_rows, start=1):
            user = session.get(User, actor_id)
            try:
                payment, created = record_payment(session, user, data)
            except DomainError as exc:
                problems = exc.errors or [("row", exc.detail or exc.title)]
                errors.extend(RowError(line, f, m) for f, m in problems)
            else:
                if created:
                    result.created += 1
                    result.totals[payment.currency] = result.totals.get(payment.currency, 0) + payment.amount_minor
                else:  # recorded between the check and now (another import): the same payment
                    result.recorded_already += 1
            if progress and (done % 100 == 0 or done == total):
                progress(done, total)
        if errors:
            session.rollback()
            result.created, result.totals = 0, {}
        else:
            items_after, plans_after = _statuses(session, touched)
            for before, after, kind in ((items_before, items_after, "items"), (plans_before, plans_after, "plans")):
                for key, status in after.items():
                    if status != before.get(key) and status in ("kept", "broken"):
                        setattr(result, f"{kind}_{status}", getattr(result, f"{kind}_{status}") + 1)
            result.accounts = len(touched)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    result.errors = sorted(errors)
    return result
