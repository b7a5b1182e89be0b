"""Bank feeds: the account import file (SPEC §5), all or nothing.

A file is read whole and every row checked before anything is kept: first its
shape (the wire model :class:`AccountCreate`, the same as ``POST /accounts``),
then the service's own checks (:func:`create_account`, run for every new row
inside one transaction). If any row is bad, the transaction is rolled back and
every bad row is reported as ``line N: field: problem`` (the header is line 1;
a row spanning several lines is named by its first).

Importing the same file again changes nothing: a row whose ``account_ref``
exists already is skipped. An import only ever creates accounts; it never
overwrites one, because after its import an account is kept current by the
desk (contact details, flags, assignment) and the payment feed (balances).
So an existing account that differs from its row in those details is left as
it is and listed as a note. But a row whose ``account_ref`` names an account of
another customer, card or currency is an error: the reference is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.accounts import card_parts, mask_card_numbers
from backend.domain.errors import DomainError
from backend.domain.zones import phone_region
from backend.models import Account, User
from backend.services.accounts import create_account, phone_kinds
from backend_client.models import AccountCreate, text_problem
from backend_client.money import to_minor

COLUMNS = ("account_ref", "customer_name", "phones", "email", "address", "country", "region", "timezone", "currency",
           "credit_limit", "balance", "overdue", "minimum_due", "dpd", "card_number", "opened_on", "team", "agent")
REQUIRED = ("account_ref", "customer_name", "currency", "credit_limit", "balance", "overdue", "minimum_due", "dpd",
            "card_number", "team")
"""Columns the header must have; the others may be left out of the file."""
EXTRA_COLUMNS = ("phone_kinds", "timezone_source")
"""Optional columns beyond SPEC §5's: ``phone_kinds`` (``home``, ``mobile``, ``work`` or
``other`` for each of ``phones``, ``;``-separated in the same order; the missing ones:
the first ``mobile``, the rest ``other``) and ``timezone_source`` (``customer`` when
the customer confirmed ``timezone``; default ``record``)."""
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
MULTI_LINE_COLUMNS = ("address",)
"""Cells that may hold line breaks and tabs (a quoted cell: an address is printed a line
each on letters); every other cell is one line, as its field is in ``POST /accounts``."""

IMPORT_ROLES = ("admin",)
"""Creating accounts is an admin's act (``POST /accounts``); imports are audited as one."""

_FRIENDLY_PATTERN = {
    "phones": "not an E.164 number (like +12125550100)",
    "currency": "not an ISO 4217 code (like USD)",
    "country": "not an ISO 3166-1 code (like US)",
}


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        # A message may quote what the row holds (a card number typed into the
        # wrong column, say): never more than its BIN and last four (SPEC §4).
        return mask_card_numbers(f"line {self.line}: {self.field}: {self.message}")


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    differing: list[tuple[int, str, list[str]]] = field(default_factory=list)
    """``(line, account_ref, fields)`` of existing accounts the file describes differently (left as they are)."""
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRefused(Exception):
    """The import cannot start at all (no such user, unreadable file)."""


# --------------------------------------------------------------------------
# Parsing


def _field_name(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc) or "row"


def _message(error: dict) -> str:
    kind = error.get("type", "")
    loc = error.get("loc", ())
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch" and loc and loc[0] in _FRIENDLY_PATTERN:
        return _FRIENDLY_PATTERN[str(loc[0])]
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def cell_errors(line: int, raw: dict[str, str], multiline: tuple[str, ...] = ()) -> list[RowError]:
    """Every cell holding a control character, as it is in the file (before it is
    trimmed: a trailing U+0085 is refused, not trimmed away), named as ``POST`` names
    the field (``backend_client.models.text_problem``: one rule for all text)."""
    return [RowError(line, name, problem) for name, value in raw.items()
            if value is not None and (problem := text_problem(value, multiline=name in multiline))]


def _row_dict(raw: dict[str, str | None]) -> dict[str, object]:
    """A CSV row as the JSON body of ``POST /accounts``: blanks left out, phones and their kinds lists."""
    out: dict[str, object] = {}
    for name in ALL_COLUMNS:
        value = raw.get(name)
        if value is None:
            continue
        value = value.strip()
        if name == "phones":
            out["phones"] = [p.strip() for p in value.split(";") if p.strip()]
        elif name == "phone_kinds" and value != "":
            # Aligned with ``phones`` by position: a blank between two kinds stays (and is
            # refused as no kind) rather than moving the kinds after it to another number.
            out["phone_kinds"] = [k.strip() for k in value.removesuffix(";").split(";")]
        elif name == "dpd" and re.fullmatch(r"-?[0-9]{1,18}", value):
            # A number in the JSON body (whose wire model takes no string for it); a cell
            # that is no whole number stays text, and is refused naming ``dpd``.
            out["dpd"] = int(value)
        elif value != "":
            out[name] = value
    return out


def read_csv(text: str, columns: tuple[str, ...], required: tuple[str, ...]
             ) -> tuple[list[tuple[int, dict[str, str]]], list[RowError], int]:
    """``(rows, errors, count)`` of a bank file: each row of the right shape with
    its line number (the header is line 1; a row spanning several lines is named
    by its first), the header's and the rows' shape errors, and how many data rows
    the file has. Column names are stripped; values are given as they are."""
    errors: list[RowError] = []
    rows: list[tuple[int, dict[str, str]]] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        return [], [RowError(1, "header", f"not a CSV header ({exc})")], 0
    if not header:
        return [], [RowError(1, "header", "the file is empty")], 0
    names = [h.strip() if h else "" for h in header]
    reader.fieldnames = names
    missing = [c for c in required if c not in names]
    unknown = [c for c in names if c not in columns]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if missing:
        errors.append(RowError(1, "header", f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"))
    if unknown:
        errors.append(RowError(1, "header", f"unknown column{'s' if len(unknown) > 1 else ''} "
                                            f"{', '.join(repr(c) for c in unknown)}"))
    if repeated:
        errors.append(RowError(1, "header", f"column{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} "
                                            "given more than once"))
    if errors:
        return [], errors, 0

    count = 0
    last_line = reader.line_num
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(last_line + 1, "row", f"not valid CSV ({exc})"))
            break
        line = last_line + 1
        last_line = reader.line_num
        count += 1
        if None in raw:
            errors.append(RowError(line, "row", f"{len(names) + len(raw[None])} values for {len(names)} columns"))
            continue
        if any(v is None for v in raw.values()):
            given = sum(v is not None for v in raw.values())
            errors.append(RowError(line, "row", f"{given} values for {len(names)} columns"))
            continue
        rows.append((line, raw))
    return rows, errors, count


def parse_accounts(text: str) -> tuple[list[tuple[int, AccountCreate]], list[RowError], int]:
    """``(rows, errors, count)``: each good row with its line number, every shape
    error, and how many data rows the file has."""
    raw_rows, errors, count = read_csv(text, ALL_COLUMNS, REQUIRED)
    rows: list[tuple[int, AccountCreate]] = []
    seen: dict[str, int] = {}
    for line, raw in raw_rows:
        ref = (raw.get("account_ref") or "").strip()
        duplicate = ref in seen
        if duplicate:
            errors.append(RowError(line, "account_ref", f"{ref} is also on line {seen[ref]}"))
        elif ref:
            seen[ref] = line
        bad = cell_errors(line, raw, MULTI_LINE_COLUMNS)
        errors.extend(bad)
        checked = {name: value for name, value in raw.items() if name not in {e.field for e in bad}}
        try:
            data = AccountCreate.model_validate(_row_dict(checked))
        except ValidationError as exc:
            errors.extend(RowError(line, _field_name(e["loc"]), _message(e)) for e in exc.errors()
                          if not (e["type"] == "missing" and any(b.field == e["loc"][0] for b in bad)))
            continue
        if bad:
            continue
        if not duplicate:
            rows.append((line, data))
    return rows, errors, count


def decode(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is allowed); raises :class:`ImportRefused` naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportRefused(f"line {line}: file: not UTF-8 text (byte {raw[exc.start]:#04x})") from None


# --------------------------------------------------------------------------
# Existing accounts


def _identity_mismatch(account: Account, data: AccountCreate) -> list[str]:
    """Fields that show the row is about another account than the stored one."""
    wrong = []
    if account.customer.name != data.customer_name:
        wrong.append("customer_name")
    if account.currency != data.currency:
        wrong.append("currency")
    try:
        card_bin, last4 = card_parts(data.card_number)
    except ValueError:
        wrong.append("card_number")
    else:
        if last4 != account.card_last4 or (card_bin and account.card_bin and card_bin != account.card_bin):
            wrong.append("card_number")
    return wrong


def _differences(account: Account, data: AccountCreate) -> list[str]:
    """Fields the import would have written differently (they are left as they are)."""
    diffs = []
    for name, column in (("credit_limit", "credit_limit_minor"), ("balance", "balance_minor"),
                         ("overdue", "overdue_minor"), ("minimum_due", "minimum_due_minor")):
        try:
            if to_minor(getattr(data, name), data.currency) != getattr(account, column):
                diffs.append(name)
        except ValueError:
            diffs.append(name)
    customer = account.customer
    primary_region = phone_region(data.phones[0]) if data.phones else None
    checks = (
        ("dpd", data.dpd, account.dpd),
        ("phones", list(data.phones), [p.number for p in customer.phones]),
        ("email", data.email or None, customer.email),
        ("address", data.address or None, customer.addresses[0].text if customer.addresses else None),
        ("country", data.country or primary_region or "US", customer.country),
        ("region", data.region or None, customer.region),
        ("timezone", data.timezone or None, customer.timezone),
        ("opened_on", data.opened_on, account.opened_on),
        ("team", data.team, account.team.name if account.team else None),
        ("agent", data.agent or None, account.agent.username if account.agent else None),
    )
    diffs.extend(name for name, given, stored in checks if given != stored)
    # Stated in the row only when its file has the column: compared then.
    if data.phone_kinds and phone_kinds(data) != [p.kind for p in customer.phones]:
        diffs.append("phone_kinds")
    if data.timezone_source is not None and data.timezone_source != customer.timezone_source:
        diffs.append("timezone_source")
    return diffs


def _existing(session: Session, refs: list[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        for account in session.scalars(select(Account).where(Account.account_ref.in_(chunk))).unique():
            found[account.account_ref] = account
    return found


# --------------------------------------------------------------------------
# Import


def import_accounts(
    session: Session,
    source: Path | bytes,
    actor: str = "admin",
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import an account file through :func:`create_account`, audited as ``actor``.
    Commits when every row is good; otherwise rolls back and returns the errors."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    text = decode(raw)
    user = session.scalar(select(User).where(User.username == actor))
    if user is None:
        raise ImportRefused(f"no user {actor!r} to record the import as (name one with --as)")
    if user.role not in IMPORT_ROLES or not user.active:
        raise ImportRefused(f"{actor} is {'not active' if not user.active else 'a ' + user.role}; "
                            "imports create accounts, which only an admin may do")
    actor_id = user.id

    rows, errors, count = parse_accounts(text)
    result = ImportResult(rows=count)
    existing = _existing(session, [data.account_ref for _line, data in rows])
    new_rows: list[tuple[int, AccountCreate]] = []
    for line, data in rows:
        account = existing.get(data.account_ref)
        if account is None:
            new_rows.append((line, data))
            continue
        wrong = _identity_mismatch(account, data)
        if wrong:
            errors.append(RowError(line, "account_ref", f"{data.account_ref} exists already for another account "
                                                        f"(its {', '.join(wrong)} differ{'s' if len(wrong) == 1 else ''})"))
            continue
        result.unchanged += 1
        diffs = _differences(account, data)
        if diffs:
            result.differing.append((line, data.account_ref, diffs))

    total = len(new_rows)
    if progress:
        progress(0, total)
    try:
        for done, (line, data) in enumerate(new_rows, start=1):
            actor_user = session.get(User, actor_id)
            try:
                create_account(session, data, actor_user)
            except DomainError as exc:
                problems = exc.errors or [("row", exc.detail or exc.title)]
                errors.extend(RowError(line, f, m) for f, m in problems)
            else:
                result.created += 1
            if progress and (done % 100 == 0 or done == total):
                progress(done, total)
        if errors:
            session.rollback()
            result.created = 0
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    result.errors = sorted(errors)
    return result
