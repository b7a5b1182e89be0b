"""Flags and pauses with a history (SPEC §4): every change of ``cease`` (per channel),
``attorney``, ``dispute``, ``complaint``, ``bankruptcy``, ``deceased``, ``fraud``,
``hardship`` and the legal hold is kept as a period (from, until, who set it, who
lifted it), so that a contact is judged by the flags in force when it was made,
and the timeline and the audit show each change.

``Account.flags`` stays the flags in force now (what the worklist reads); this
module is the one way they change.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.compliance.engine import FlagPeriod as Period
from backend.domain.errors import Forbidden, Invalid
from backend.models import EPOCH, Account, FlagPeriod, User, utcnow
from backend.services import audit
from config import CONFIG_DIR

FUTURE_TOLERANCE = dt.timedelta(minutes=1)
LATEST = dt.timedelta(days=366)

Pair = tuple[str, str | None]

AUTHORITY_FILE = CONFIG_DIR / "flags.toml"
ROLE_WORDS = {"agent": "an agent", "supervisor": "a supervisor", "legal": "a legal officer", "admin": "an admin"}


@dataclass(frozen=True)
class FlagAuthority:
    """``config/flags.toml``: who may change an account, and who sets and lifts each flag."""

    patch: frozenset[str]
    set_by: Mapping[str, frozenset[str]]
    lift_by: Mapping[str, frozenset[str]]

    def may(self, role: str, flag: str, change: str) -> bool:
        table = self.set_by if change == "set" else self.lift_by
        return role in table.get(flag, frozenset())

    def who(self, flag: str, change: str) -> str:
        """``a supervisor, a legal officer or an admin``: those who may, in words."""
        table = self.set_by if change == "set" else self.lift_by
        names = [ROLE_WORDS.get(r, r) for r in ROLE_WORDS if r in table.get(flag, ())]
        if not names:
            return "no one"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@lru_cache(maxsize=2)
def load_authority(path: Path = AUTHORITY_FILE) -> FlagAuthority:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    flags = data.get("flags", {})
    return FlagAuthority(
        patch=frozenset(data.get("patch", ())),
        set_by={name: frozenset(rule.get("set", ())) for name, rule in flags.items()},
        lift_by={name: frozenset(rule.get("lift", ())) for name, rule in flags.items()},
    )


def check_authority(user: User, current: set[Pair], wanted: set[Pair], note: str) -> None:
    """Refuse (403) a change ``user`` may not make, and (422) a flag lifted without a note."""
    authority = load_authority()
    for change, changed in (("set", wanted - current), ("lift", current - wanted)):
        for flag, channel in sorted(changed, key=str):
            if not authority.may(user.role, flag, change):
                what = flag + (f" ({channel})" if channel else "")
                raise Forbidden("Forbidden", f"only {authority.who(flag, change)} may {change} {what}",
                                   rule="flag-authority", flag=flag, change=change)
    if current - wanted and not note.strip():
        raise Invalid("Invalid request", "flags_note: say why a flag is lifted",
                           errors=[("flags_note", "say why a flag is lifted")])


def pairs(flags: Mapping[str, Any] | None, status: str | None = None) -> set[Pair]:
    """The flags as (flag, channel) pairs: one per ceased channel, one per other flag set."""
    out: set[Pair] = set()
    for name, value in (flags or {}).items():
        if name == "cease":
            out |= {("cease", str(c)) for c in (value or ())}
        elif value:
            out.add((name, None))
    if status == "legal":
        out.add(("legal", None))
    return out


def _open_rows(session: Session, account_id: int) -> dict[Pair, FlagPeriod]:
    rows = session.scalars(select(FlagPeriod).where(FlagPeriod.account_id == account_id,
                                                    FlagPeriod.ended_at.is_(None)).order_by(FlagPeriod.id))
    return {(r.flag, r.channel): r for r in rows}


def effective(at: dt.datetime | None, now: dt.datetime, field: str = "flags_effective_at") -> dt.datetime:
    """When a change took effect: now unless told; never in the future, at most a year back."""
    if at is None:
        return now
    if at > now + FUTURE_TOLERANCE:
        raise Invalid("Invalid request", f"{field}: a flag cannot take effect in the future",
                           errors=[(field, "in the future")])
    if at < now - LATEST:
        raise Invalid("Invalid request", f"{field}: a flag change is recorded within a year of it",
                           errors=[(field, "more than a year ago")])
    return min(at, now).astimezone(dt.UTC)


def change(session: Session, account: Account, wanted: set[Pair], user: User | None, at: dt.datetime,
           now: dt.datetime | None = None, *, only: set[str] | None = None, note: str = "") -> list[dict[str, Any]]:
    """Make ``wanted`` the pairs in force from ``at`` on (of the flags named in ``only``,
    or all), opening and closing periods; returns the changes, each audited."""
    now = now or utcnow()
    current = pairs(account.flags, account.status)
    if only is not None:
        current = {p for p in current if p[0] in only}
        wanted = {p for p in wanted if p[0] in only}
    open_rows = _open_rows(session, account.id)
    changes: list[dict[str, Any]] = []
    for flag, channel in sorted(current - wanted, key=str):
        row = open_rows.get((flag, channel))
        if row is None:  # in force without a period (set before periods were kept)
            row = FlagPeriod(account_id=account.id, flag=flag, channel=channel, started_at=EPOCH,
                             set_recorded_at=now)
            session.add(row)
        if at < row.started_at:
            raise Invalid("Invalid request",
                               f"flags_effective_at: {flag} was set at {row.started_at.isoformat()}, after {at.isoformat()}",
                               errors=[("flags_effective_at", "before the flag was set")])
        row.ended_at = at
        row.ended_by_id = user.id if user else None
        row.ended_recorded_at = now
        row.ended_note = note
        changes.append({"flag": flag, "channel": channel, "change": "lifted", "effective_at": at})
    for flag, channel in sorted(wanted - current, key=str):
        session.add(FlagPeriod(account_id=account.id, flag=flag, channel=channel, started_at=at,
                               set_by_id=user.id if user else None, set_recorded_at=now, set_note=note))
        changes.append({"flag": flag, "channel": channel, "change": "set", "effective_at": at})
    session.flush()
    for c in changes:
        audit.record(session, user.id if user else None, "set" if c["change"] == "set" else "lift", "flag", account.id,
                     flag=c["flag"], channel=c["channel"], effective_at=c["effective_at"].isoformat(), note=note)
    return changes


def set_flags(session: Session, account: Account, flags: dict[str, Any], user: User | None,
              at: dt.datetime | None = None, *, note: str = "", check: bool = True) -> list[dict[str, Any]]:
    """The account's flags become ``flags`` as from ``at`` (default now), if ``user`` has
    the authority for each change (``config/flags.toml``) and says why a flag is lifted."""
    now = utcnow()
    only = set(flags) | set(account.flags or {}) | {"cease"}
    if check and user is not None:
        current = {p for p in pairs(account.flags, account.status) if p[0] in only}
        check_authority(user, current, {p for p in pairs(flags) if p[0] in only}, note)
    changes = change(session, account, pairs(flags), user, effective(at, now), now, only=only, note=note)
    account.flags = flags
    return changes


def set_legal_hold(session: Session, account: Account, on: bool, user: User | None) -> list[dict[str, Any]]:
    """Open (or close) the legal-hold period; the caller sets ``account.status``."""
    return change(session, account, {("legal", None)} if on else set(), user, utcnow(), only={"legal"})


def history(session: Session, account: Account) -> tuple[Period, ...]:
    """Every period of the account's flags for the engine; a flag in force now with no
    open period (set before periods were kept) counts as in force since 1970, and an
    open period of a flag no longer in force as ended when the account last changed."""
    rows = session.execute(
        select(FlagPeriod.flag, FlagPeriod.channel, FlagPeriod.started_at, FlagPeriod.ended_at)
        .where(FlagPeriod.account_id == account.id).order_by(FlagPeriod.started_at, FlagPeriod.id)
    ).all()
    now_pairs = pairs(account.flags, account.status)
    out: list[Period] = []
    open_pairs: set[Pair] = set()
    for flag, channel, start, end in rows:
        if end is None:
            if (flag, channel) not in now_pairs:
                end = max(account.updated_at or utcnow(), start)
            else:
                open_pairs.add((flag, channel))
        out.append(Period(flag=flag, start=start, end=end, channel=channel))
    out += [Period(flag=f, start=EPOCH, channel=c) for f, c in sorted(now_pairs - open_pairs, key=str)]
    return tuple(out)


def timeline_entries(session: Session, account_id: int, limit: int) -> list[dict[str, Any]]:
    """Each flag set and lifted, newest first, for the timeline (set before periods were kept: only the lifting)."""
    rows = session.scalars(select(FlagPeriod).where(FlagPeriod.account_id == account_id)
                           .order_by(FlagPeriod.started_at.desc(), FlagPeriod.id.desc()).limit(limit)).all()
    entries: list[dict[str, Any]] = []
    for r in rows:
        what = r.flag + (f" ({r.channel})" if r.channel else "")
        if r.started_at > EPOCH:
            entries.append({"id": r.id * 2, "at": r.started_at, "actor": r.set_by.username if r.set_by else None,
                            "summary": f"{what} set",
                            "data": {"flag": r.flag, "channel": r.channel, "change": "set",
                                     "effective_at": r.started_at.isoformat(),
                                     "recorded_at": r.set_recorded_at.isoformat(), "note": r.set_note or ""}})
        if r.ended_at is not None:
            entries.append({"id": r.id * 2 + 1, "at": r.ended_at, "actor": r.ended_by.username if r.ended_by else None,
                            "summary": f"{what} lifted",
                            "data": {"flag": r.flag, "channel": r.channel, "change": "lifted",
                                     "effective_at": r.ended_at.isoformat(),
                                     "recorded_at": r.ended_recorded_at.isoformat() if r.ended_recorded_at else None,
                                     "note": r.ended_note or ""}})
    return entries
