"""Call windows: when a customer may be contacted, in every zone they could be in.

The full compliance engine (issue 3) builds on these; here are the pieces the
worklist needs to mark an account contactable now and say from when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

# ZoneInfo keeps only a few zones alive in its own cache and reads the others from
# disk again each time; a worklist page asks for the same few zones fifty times.
_zone = lru_cache(maxsize=None)(ZoneInfo)

DEFAULT_START = dt.time(8, 0)
DEFAULT_END = dt.time(21, 0)


def _in_window(local: dt.datetime, start: dt.time, end: dt.time) -> bool:
    t = local.time().replace(tzinfo=None)
    return start <= t < end


def window_open(zones: Iterable[str], at: dt.datetime, start: dt.time = DEFAULT_START, end: dt.time = DEFAULT_END) -> bool:
    """True when ``at`` falls inside the window in every one of ``zones``."""
    if at.tzinfo is None:
        raise ValueError("at must be zone-aware")
    return all(_in_window(at.astimezone(_zone(z)), start, end) for z in zones)


def _candidates(zone: ZoneInfo, at: dt.datetime, start: dt.time, days: int) -> list[dt.datetime]:
    # Each local window opening (a wall-clock time) from the day before ``at``
    # on; a nonexistent wall time (DST gap) resolves forward via fold.
    local_day = at.astimezone(zone).date()
    out = []
    for offset in range(-1, days + 1):
        day = local_day + dt.timedelta(days=offset)
        opening = dt.datetime.combine(day, start, tzinfo=zone)
        out.append(opening.astimezone(dt.UTC))
    return out


def next_window_open(
    zones: Iterable[str],
    at: dt.datetime,
    start: dt.time = DEFAULT_START,
    end: dt.time = DEFAULT_END,
    horizon_days: int = 8,
) -> dt.datetime | None:
    """The earliest instant at or after ``at`` inside the window in every zone.

    Returns ``at`` itself when the window is open now, and ``None`` when the
    zones never share an open instant within ``horizon_days`` (for zones far
    enough apart no lawful hour exists at all).
    """
    zone_names = tuple(sorted(set(zones)))
    if not zone_names:
        raise ValueError("at least one zone is needed")
    if at.tzinfo is None:
        raise ValueError("at must be zone-aware")
    found = _next_open(zone_names, at.astimezone(dt.UTC), start, end, horizon_days)
    return at if found == at else found


@lru_cache(maxsize=4096)
def _next_open(zone_names: tuple[str, ...], at: dt.datetime, start: dt.time, end: dt.time,
               horizon_days: int) -> dt.datetime | None:
    # Pure, so remembered: the accounts on a worklist page share a handful of zone sets and one ``at``.
    if window_open(zone_names, at, start, end):
        return at
    tzs = [_zone(z) for z in zone_names]
    # The joint window opens at some zone's local opening time.
    candidates = sorted({c for tz in tzs for c in _candidates(tz, at, start, horizon_days) if c > at})
    for candidate in candidates:
        if window_open(zone_names, candidate, start, end):
            return candidate
    return None
