"""Money, dates and times for the desk's locale (babel), and parsing what agents type.

Money on the wire is ``{amount_minor, currency}``; it becomes a ``Decimal`` by the
currency's exponent and is never a float. babel is imported on first use, so the
desk starts without it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend_client.money import exponent, major_string, to_major
from tui.i18n import _, babel_locale

if TYPE_CHECKING:
    from backend_client.models import Money


@lru_cache(maxsize=64)
def zone(name: str | None) -> dt.tzinfo:
    """The zone named ``name``; UTC for None or a name this machine does not know."""
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def money(value: Money | None) -> str:
    if value is None:
        return "—"
    return amount(to_major(value.amount_minor, value.currency), value.currency)


def amount(value: Decimal, currency: str) -> str:
    """``Decimal("1234.50"), "USD"`` → ``$1,234.50`` (``US$1,234.50`` in Chinese): the
    locale's pattern with exactly the currency's ISO 4217 decimal places."""
    return _currency_pattern(babel_locale(), exponent(currency)).apply(
        value, _locale(babel_locale()), currency=currency, currency_digits=False)


@lru_cache(maxsize=8)
def _locale(name: str):  # noqa: ANN202
    from babel import Locale

    return Locale.parse(name)


@lru_cache(maxsize=16)
def _currency_pattern(locale: str, digits: int):  # noqa: ANN202
    import copy

    pattern = copy.copy(_locale(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def date(value: dt.date | None) -> str:
    """A date in the locale's medium form (``Mar 11, 2026``, ``2026年3月11日``)."""
    if value is None:
        return "—"
    from babel.dates import format_skeleton

    return format_skeleton("yMMMd", value, locale=babel_locale())


def date_weekday(value: dt.date) -> str:
    from babel.dates import format_skeleton

    return format_skeleton("yMMMEd", value, locale=babel_locale())


def clock(value: dt.datetime, tz: dt.tzinfo) -> str:
    """Weekday and 24-hour time in ``tz`` (``Wed 11:00``, ``周三11:00``)."""
    from babel.dates import format_skeleton

    return format_skeleton("EHm", value, tzinfo=tz, locale=babel_locale())


def when(value: dt.datetime | None, tz: dt.tzinfo, *, now: dt.datetime | None = None) -> str:
    """Month, day and 24-hour time in ``tz`` (``Mar 11 11:00``); the time alone
    (``11:00``) when ``now`` is given and ``value`` falls on its day in ``tz``."""
    if value is None:
        return "—"
    from babel.dates import format_skeleton, format_time

    local = value.astimezone(tz)
    time = format_time(local, "HH:mm", locale=babel_locale())
    if now is not None and local.date() == now.astimezone(tz).date():
        return time
    return f"{format_skeleton('MMMd', local, locale=babel_locale())} {time}"


def soon(value: dt.datetime | None, now: dt.datetime, tz: dt.tzinfo) -> str:
    """A short time for a list: ``11:00`` today, ``Thu 08:00`` within a week, else ``Mar 20``."""
    if value is None:
        return "—"
    from babel.dates import format_skeleton, format_time

    local, today = value.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        return format_time(local, "HH:mm", locale=babel_locale())
    if today < local.date() < today + dt.timedelta(days=6):
        return format_skeleton("EHm", local, locale=babel_locale())
    return format_skeleton("MMMd", local, locale=babel_locale())


def zone_city(name: str) -> str:
    """``America/New_York`` → ``New York`` / ``纽约``."""
    from babel.dates import get_timezone_location

    try:
        return get_timezone_location(ZoneInfo(name), locale=babel_locale(), return_city=True)
    except (ZoneInfoNotFoundError, ValueError, LookupError):
        return name


def duration(seconds: int | float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


# --------------------------------------------------------------------------
# Parsing what agents type


class ParseError(ValueError):
    """What was typed cannot be read; the message is translated and says why."""


def parse_amount(text: str, currency: str) -> str:
    """An amount as typed (``150``, ``1,500.50``, ``1500.5``) → the wire's decimal string."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise ParseError(_("Type the amount"))
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        value = parse_decimal(raw, locale=babel_locale())
    except (NumberFormatError, InvalidOperation):
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ParseError(_("Not an amount: {text}").format(text=text.strip())) from None
    if value <= 0:
        raise ParseError(_("The amount must be more than zero"))
    try:
        return major_string(value, currency)
    except ValueError:
        raise ParseError(_("Too many decimal places for {currency}").format(currency=currency)) from None


_RELATIVE = re.compile(r"^\+(\d{1,3})([dw]?)$")


def parse_date(text: str, today: dt.date) -> dt.date:
    """A date as typed: ``2026-03-20``, ``+7`` (days from today), ``+2w``, or the
    locale's short form (``3/20/26``, ``2026/3/20``)."""
    raw = text.strip()
    if not raw:
        raise ParseError(_("Type the date"))
    match = _RELATIVE.match(raw.lower())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        return today + dt.timedelta(days=days)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    from babel.dates import parse_date as babel_parse_date

    try:
        value = babel_parse_date(raw, locale=babel_locale())
    except (ValueError, IndexError):
        raise ParseError(_("Not a date: {text} (try 2026-03-20 or +7)").format(text=raw)) from None
    if value.year < 100:
        value = value.replace(year=2000 + value.year)
    return value


def parse_zone(text: str) -> str:
    """An IANA time zone as typed (``America/New_York``; ``america/new_york`` is read
    as that too) → its name, or ParseError saying what is wrong."""
    raw = text.strip()
    if not raw:
        raise ParseError(_("Type the time zone, say America/New_York"))
    zones = _zone_names()
    if raw in zones:
        return raw
    folded = {name.casefold(): name for name in zones}
    found = folded.get(raw.casefold().replace(" ", "_"))
    if found is None:
        raise ParseError(_("Not a time zone: {text} (try America/New_York or Asia/Shanghai)").format(text=raw))
    return found


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_IN_HOURS = re.compile(r"^\+(\d{1,3})h$")


def parse_when(text: str, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A time the customer named, in their zone ``tz``: ``16:30`` (the next one),
    ``2026-03-20 16:30``, or ``+2h``."""
    raw = text.strip().lower()
    if not raw:
        raise ParseError(_("Type when to call back"))
    match = _IN_HOURS.match(raw)
    if match:
        return now + dt.timedelta(hours=int(match.group(1)))
    local_now = now.astimezone(tz)
    match = _TIME.match(raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ParseError(_("Not a time: {text}").format(text=text.strip()))
        candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= local_now:
            candidate = (candidate + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
        return candidate
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise ParseError(_("Not a time: {text} (try 16:30, 2026-03-20 16:30 or +2h)").format(text=text.strip())) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)
