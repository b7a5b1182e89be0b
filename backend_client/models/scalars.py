"""Scalars of the wire contract: text, strict numbers, dates and amounts as they
come in, the ``Wire`` base every shape derives from, and ``Money`` (an amount as
it goes out)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------
# Scalars


# Text (issue 15): one rule for every string that comes in, body field, query
# parameter, path string or import cell, checked as received (before any
# trimming), so that PostgreSQL (which refuses NUL outright) never sees what
# SQLite would have kept, and nothing unprintable reaches a screen, a letter or
# an export. Two kinds of text:
#
# - one line (``Line``): names, references, e-mail, team, agent, zone, reason,
#   search text, query parameters: no control character at all: C0 (U+0000 to
#   U+001F, tab and line breaks included), DEL (U+007F) and C1 (U+0080 to U+009F);
# - several lines (``Lines``): notes, and addresses (printed a line each on
#   letters): the same, but tab, line feed and carriage return are taken.
#
# Neither takes a lone surrogate (U+D800 to U+DFFF: JSON may escape one, but it is
# no character and no database can store it).

_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not text of its kind (in words, naming the character), or None."""
    found = (_NOT_LINES if multiline else _NOT_TEXT).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code in (0x09, 0x0A, 0x0D):
        return f"must be a single line (no line breaks or tabs; found U+{code:04X})"
    if 0xD800 <= code <= 0xDFFF:
        return f"must be Unicode text (found a lone surrogate U+{code:04X})"
    return f"must not contain control characters (found U+{code:04X})"


def _checker(multiline: bool) -> Callable[[str], str]:
    def check(value: Any) -> Any:
        # Before the type's own validation (and before ``strip_whitespace``, which
        # would take a trailing U+0085 away unseen); a non-string is left to it.
        if isinstance(value, str) and (problem := text_problem(value, multiline=multiline)):
            raise PydanticCustomError("control_character", problem)
        return value

    return check


ONE_LINE = BeforeValidator(_checker(False))
"""One line of text: no control character (C0, DEL, C1) and no lone surrogate. Put it
last in an ``Annotated`` (``Annotated[str, StringConstraints(...), ONE_LINE]``): it then
sees the value as received, before the constraints strip or measure it."""
MULTI_LINE = BeforeValidator(_checker(True))
"""Text of several lines (notes, addresses): as :data:`ONE_LINE`, but tab, LF and CR are taken."""
Line = Annotated[str, ONE_LINE]
Lines = Annotated[str, MULTI_LINE]

ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]
NoteText = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
Id = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]

# Strict scalars (issue 15 item 6): what comes in is the JSON type the schema says.
# Pydantic's lax mode would take ``"12"`` or ``12.0`` for an integer, ``"yes"`` or
# ``1`` for a boolean, ``"0.5"`` for a number: request bodies use these instead, so
# that such a body is refused 422 naming the field. (A whole model in strict mode
# would refuse more: FastAPI validates the parsed JSON as Python data, where strict
# mode takes an enum only as its member and a date only as a ``date``.)
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
StrictFloat = Annotated[float, Strict()]
"""A JSON number (an integer is a number too); never a string or a boolean."""


# --------------------------------------------------------------------------
# Dates (issue 15): every date and instant that comes in lies in a sane range, so
# that a payment dated year 1 (beyond what some code can add a day to) or 1900
# (which would lower a balance for a time before the card existed) is refused 422
# naming the field. The services add what depends on the record and the clock (a
# payment not before the account opened nor in the future, a plan's first due
# date not in the past, a contact not in the future...).

EARLIEST_DAY = dt.date(2000, 1, 1)
"""No event this system records (a contact, payment, plan, flag, report period,
compliance question) is before 2000: the collections records start later."""
LATEST_DAY = dt.date(2099, 12, 31)
"""Nor after 2099: a plan of 130 fortnights from the latest first due date still ends
long before dates run out, and nothing real is planned further ahead."""
EARLIEST_OPENED_ON = dt.date(1950, 1, 1)
"""An account may be older than the records of its collection: a card opened in the
1970s is in the book; none before 1950 (the first charge cards)."""
EARLIEST_INSTANT = dt.datetime.combine(EARLIEST_DAY, dt.time(), dt.UTC)
LATEST_INSTANT = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(), dt.UTC)


def day_problem(value: dt.date, earliest: dt.date = EARLIEST_DAY, latest: dt.date = LATEST_DAY) -> str | None:
    if not earliest <= value <= latest:
        return f"must be from {earliest.isoformat()} to {latest.isoformat()}"
    return None


def instant_problem(value: dt.datetime) -> str | None:
    """For a zone-aware instant (compared as instants: the offset counts)."""
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return f"must be from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()} (UTC)"
    return None


def _day_in(earliest: dt.date) -> Callable[[dt.date], dt.date]:
    def check(value: dt.date) -> dt.date:
        if problem := day_problem(value, earliest):
            raise PydanticCustomError("date_out_of_range", problem)
        return value

    return check


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    if problem := instant_problem(value):
        raise PydanticCustomError("datetime_out_of_range", problem)
    return value


# Dates and instants come as ISO 8601 text (issue 15 item 6): pydantic alone would
# read an integer (or a string of digits) as seconds since 1970, so that
# ``"at": 1700000000`` were an instant and ``"date": 0`` a day. A ``date`` or
# ``datetime`` object (Python callers: the desk, the importer) is taken as it is.
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_text(pattern: re.Pattern[str], kind: str, message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, dt.date) or (isinstance(value, str) and pattern.match(value)):
            return value
        raise PydanticCustomError(kind, message)

    return check


ISO_DAY = BeforeValidator(_iso_text(_ISO_DAY, "iso_date", "must be an ISO 8601 date (YYYY-MM-DD)"))
ISO_INSTANT = BeforeValidator(_iso_text(
    _ISO_INSTANT, "iso_datetime", "must be an ISO 8601 date and time with an offset (2026-12-01T09:00:00-05:00)"))

Day = Annotated[dt.date, AfterValidator(_day_in(EARLIEST_DAY)), ISO_DAY]
"""A date from :data:`EARLIEST_DAY` to :data:`LATEST_DAY`."""
OpenedOn = Annotated[dt.date, AfterValidator(_day_in(EARLIEST_OPENED_ON)), ISO_DAY]
"""The day an account was opened: from :data:`EARLIEST_OPENED_ON`."""
Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range), ISO_INSTANT]
"""A zone-aware instant from :data:`EARLIEST_DAY` to :data:`LATEST_DAY` (UTC); naive ones are refused."""
IsoDateTime = Annotated[dt.datetime, ISO_INSTANT]
"""A date and time as ISO 8601 text (a query parameter whose offset the route checks itself)."""


# --------------------------------------------------------------------------
# Amounts (issue 15): a decimal string in major units. Control characters are
# refused first (as in any text); then spaces around it are trimmed (``" 12.50 "``
# is 12.50, here as in ``backend_client.money.to_minor`` and the import files);
# what is left must be ASCII digits with an optional leading minus and point.

_DECIMAL_RE = re.compile(r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$")


def _decimal_string(value: str) -> str:
    value = value.strip()
    if not _DECIMAL_RE.match(value):
        raise PydanticCustomError("decimal_string", "must be a decimal number in major units, like 1234.50")
    return value


DecimalStr = Annotated[str, AfterValidator(_decimal_string), ONE_LINE]
"""An amount in major units as a string (``"1234.50"``): never a float."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Money(Wire):
    amount_minor: int
    currency: CurrencyCode
