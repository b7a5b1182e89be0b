"""The compliance engine: pure functions, no I/O.

Given who the customer is (their zones, flags, numbers), what has been done
(the contact history), the policies they are held to, a channel, a party and
an instant, :func:`evaluate` says whether the contact is allowed and lists
every block with its rule, a plain explanation and ``until`` — the earliest
instant that block lifts (``None`` when only a change of record lifts it).
:func:`next_allowed` finds the earliest instant every block has lifted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from backend.compliance.policy import Hours, Policy

ALL_CHANNELS = frozenset({"phone", "email", "sms", "letter", "visit"})


@dataclass(frozen=True)
class PastContact:
    at: dt.datetime
    channel: str
    direction: str
    party: str
    outcome: str
    result: str | None = None
    used: str | None = None
    callback_at: dt.datetime | None = None
    ptp_date: dt.date | None = None


@dataclass(frozen=True)
class Subject:
    """What the rules need to know of the customer and the account."""

    zones: tuple[str, ...]
    country: str | None = None
    region: str | None = None
    flags: dict[str, object] = field(default_factory=dict)
    do_not_call: frozenset[str] = frozenset()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    rule: str
    detail: str
    until: dt.datetime | None
    policy: str
    cite: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    blocks: tuple[Block, ...]


# --------------------------------------------------------------------------
# Time helpers


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str | None, region: str | None):  # noqa: ANN202
    if not country:
        return None
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=region)
    except (NotImplementedError, KeyError):
        try:
            return holidays.country_holidays(country)
        except (NotImplementedError, KeyError):
            return None


def _is_holiday(day: dt.date, subject: Subject) -> bool:
    calendar = _holiday_calendar(subject.country, subject.region)
    return calendar is not None and day in calendar


def _start_of_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _open_in_zone(hours: Hours, local: dt.datetime, subject: Subject) -> bool:
    if hours.holidays and _is_holiday(local.date(), subject):
        return False
    t = local.time()
    return any(start <= t < end for start, end in hours.weekly[local.weekday()])


def window_open(hours: Hours, subject: Subject, at: dt.datetime) -> bool:
    return all(_open_in_zone(hours, at.astimezone(_zone(z)), subject) for z in subject.zones)


def next_window_open(hours: Hours, subject: Subject, at: dt.datetime, horizon_days: int = 14) -> dt.datetime | None:
    """Earliest instant ≥ ``at`` inside the window in every zone; None if none within the horizon."""
    return _next_open(hours, subject.zones, subject.country, subject.region, at, horizon_days)


@lru_cache(maxsize=8192)
def _next_open(hours: Hours, zones: tuple[str, ...], country: str | None, region: str | None, at: dt.datetime,
               horizon_days: int) -> dt.datetime | None:
    # Remembered: the worklist asks it of thousands of accounts at one instant, and
    # they share a few zone sets (a customer of unknown zone in every US zone has
    # no lawful hour at all, and finding that out walks the whole horizon).
    subject = Subject(zones=zones, country=country, region=region)
    if window_open(hours, subject, at):
        return at
    candidates: set[dt.datetime] = set()
    for name in subject.zones:
        zone = _zone(name)
        first = at.astimezone(zone).date() - dt.timedelta(days=1)
        for offset in range(horizon_days + 2):
            day = first + dt.timedelta(days=offset)
            for start, _end in hours.weekly[day.weekday()]:
                instant = dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)
                # A wall time in a DST gap does not exist: the window then opens
                # when the clocks have jumped, which round-tripping finds.
                if instant > at:
                    candidates.add(instant)
    for candidate in sorted(candidates):
        if window_open(hours, subject, candidate):
            return candidate
    return None


def _fmt(instant: dt.datetime, zones: Sequence[str]) -> str:
    local = instant.astimezone(_zone(zones[0]))
    return local.strftime("%Y-%m-%d %H:%M %Z")


# --------------------------------------------------------------------------
# The rules


def _callback_consent(history: Sequence[PastContact], at: dt.datetime, minutes: int) -> bool:
    """A call back the customer asked for, at the time they named, is consent for that one call."""
    slack = dt.timedelta(minutes=minutes)
    for c in history:
        if c.result == "CB" and c.callback_at is not None and abs(at - c.callback_at) <= slack:
            used = any(
                h.channel == "phone" and h.direction == "outbound" and h.at > c.at and abs(h.at - c.callback_at) <= slack
                and h.at < at
                for h in history
            )
            if not used:
                return True
    return False


def _frequency_blocks(policy: Policy, subject: Subject, history: Sequence[PastContact], at: dt.datetime) -> list[Block]:
    freq = policy.frequency
    assert freq is not None
    blocks: list[Block] = []
    since = at - dt.timedelta(days=max(freq.days, freq.quiet_days_after_conversation) + 2)
    attempts = [c.at for c in history if c.at >= since and c.channel == "phone" and c.direction == "outbound"
                and c.outcome in freq.counted_outcomes]
    conversations = [c.at for c in history if c.at >= since and c.channel == "phone" and c.outcome == "RPC"
                     and c.party == "debtor"]
    cap_until: dt.datetime | None = None
    quiet_until: dt.datetime | None = None
    for name in subject.zones:
        zone = _zone(name)
        today = at.astimezone(zone).date()
        first_day = today - dt.timedelta(days=freq.days - 1)
        days = sorted((a.astimezone(zone).date() for a in attempts), reverse=True)
        in_window = [d for d in days if first_day <= d <= today]
        if len(in_window) >= freq.max_attempts:
            # The day the oldest of the last max_attempts leaves the window.
            lift_day = in_window[freq.max_attempts - 1] + dt.timedelta(days=freq.days)
            until = _start_of_day(lift_day, zone)
            cap_until = until if cap_until is None else max(cap_until, until)
        if freq.quiet_days_after_conversation and conversations:
            last_day = max(c.astimezone(zone).date() for c in conversations)
            lift_day = last_day + dt.timedelta(days=freq.quiet_days_after_conversation)
            if today < lift_day:
                until = _start_of_day(lift_day, zone)
                quiet_until = until if quiet_until is None else max(quiet_until, until)
    if cap_until is not None:
        blocks.append(Block("frequency", f"{freq.max_attempts} call attempts in {freq.days} days already",
                            cap_until, policy.id, freq.cite))
    if quiet_until is not None:
        blocks.append(Block("quiet-days", f"no calls for {freq.quiet_days_after_conversation} days after a conversation",
                            quiet_until, policy.id, freq.cite))
    return blocks


def evaluate_one(
    policy: Policy,
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    *,
    party: str = "debtor",
    direction: str = "outbound",
    used: str | None = None,
    purpose: str | None = None,
) -> list[Block]:
    """Every block one (leaf) policy puts on this contact."""
    if direction != "outbound":
        return []  # the customer calling in is never a breach
    blocks: list[Block] = []
    flags = subject.flags
    pid = policy.id
    for name in sorted(policy.pause_flags):
        if flags.get(name):
            blocks.append(Block(f"pause-{name}", f"collection is paused: {name.replace('_', ' ')}", None, pid))
    if flags.get("attorney") and policy.attorney_only and party != "attorney":
        blocks.append(Block("attorney", "the customer has an attorney: contact the attorney only", None, pid))
    cease = set(flags.get("cease") or ())
    if cease >= ALL_CHANNELS:
        if not (channel in policy.written_cease_allows and purpose == "closing_notice"):
            blocks.append(Block("cease", "written cease: no contact but the closing notice by letter", None, pid))
    elif channel in cease:
        rule = "opt-out" if channel in ("email", "sms") else "cease"
        blocks.append(Block(rule, f"the customer asked for no contact by {channel}", None, pid))
    if channel == "phone":
        if used is not None and used in subject.do_not_call:
            blocks.append(Block("do-not-call", f"{used[:-4]}•••• is marked do not call", None, pid))
        elif used is None and subject.phones and all(p in subject.do_not_call for p in subject.phones):
            blocks.append(Block("do-not-call", "every number is marked do not call", None, pid))
    if party == "third_party":
        if not policy.third_party_allowed:
            blocks.append(Block("third-party", "this jurisdiction allows no contact with unrelated third parties", None, pid,
                                policy.third_party_cite))
        else:
            earlier = [c for c in history if c.party == "third_party" and c.outcome == "TPC" and (used is None or c.used == used)]
            if used is not None and len(earlier) >= policy.third_party_max_contacts:
                blocks.append(Block("third-party", "this third party has been contacted already (location only, once)", None,
                                    pid, policy.third_party_cite))
    consent = _callback_consent(history, at, policy.callback_consent_minutes)
    if policy.hours is not None and channel in policy.hours.channels and not consent:
        if not window_open(policy.hours, subject, at):
            until = next_window_open(policy.hours, subject, at)
            local = ", ".join(at.astimezone(_zone(z)).strftime("%H:%M %Z") for z in subject.zones[:3])
            blocks.append(Block("call-window", f"outside the lawful hours in the customer's time ({local})", until, pid,
                                policy.hours.cite))
    if policy.frequency is not None and channel == "phone" and party == "debtor" and not consent:
        blocks.extend(_frequency_blocks(policy, subject, history, at))
    return blocks


def evaluate(
    policies: Iterable[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    **kwargs: object,
) -> Decision:
    """Every block of every policy (the strictest wins: any block forbids)."""
    if at.tzinfo is None:
        raise ValueError("at must be zone-aware")
    # Only the recent past matters to the caps and quiet days; third-party
    # contacts and requested call backs are looked up over the whole history.
    leaves = [leaf for policy in policies for leaf in policy.flatten()]
    reach = max((max(p.frequency.days, p.frequency.quiet_days_after_conversation) for p in leaves if p.frequency), default=0)
    since = at - dt.timedelta(days=reach + 2)
    earlier = [
        c for c in history
        if c.at < at and (c.at >= since or c.party == "third_party" or c.result == "CB")
    ]
    merged: dict[str, Block] = {}
    for policy in policies:
        for leaf in policy.flatten():
            for block in evaluate_one(leaf, subject, earlier, channel, at, **kwargs):
                merged[block.rule] = _stricter(merged.get(block.rule), block)
    return Decision(allowed=not merged, blocks=tuple(merged.values()))


def _stricter(a: Block | None, b: Block) -> Block:
    """One block per rule: the one that lasts longer (None lasts until the record changes)."""
    if a is None:
        return b
    policies = a.policy if b.policy in a.policy.split(", ") else f"{a.policy}, {b.policy}"
    a_until = dt.datetime.max.replace(tzinfo=dt.UTC) if a.until is None else a.until
    b_until = dt.datetime.max.replace(tzinfo=dt.UTC) if b.until is None else b.until
    keep = b if b_until > a_until else a
    cite = "; ".join(c for c in dict.fromkeys([a.cite, b.cite]) if c)
    return Block(keep.rule, keep.detail, keep.until, policies, cite)


def next_allowed(
    policies: Sequence[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    **kwargs: object,
) -> dt.datetime | None:
    """The earliest instant ≥ ``at`` at which every policy allows the contact, or None.

    Each block's ``until`` is the earliest instant it lifts on its own; lifting
    one may land inside another (a cap lifts at midnight, outside the hours),
    so step to the latest ``until`` until nothing blocks.
    """
    t = at
    for _ in range(32):
        decision = evaluate(policies, subject, history, channel, t, **kwargs)
        if decision.allowed:
            return t
        untils = [b.until for b in decision.blocks]
        if any(u is None for u in untils):
            return None
        t = max(u for u in untils if u is not None)
    return None


# --------------------------------------------------------------------------
# The state the worklist keeps


def window_closes(hours: Hours, subject: Subject, at: dt.datetime) -> dt.datetime | None:
    """While the window is open at ``at``: the first instant after it that it is shut
    in some zone (an interval's end, or a holiday's midnight). None when it is shut."""
    closes: list[dt.datetime] = []
    for name in subject.zones:
        zone = _zone(name)
        local = at.astimezone(zone)
        t = local.time()
        ends = [end for start, end in hours.weekly[local.weekday()] if start <= t < end]
        if not ends:
            return None
        end = max(ends)
        if end == dt.time.max:  # open until midnight: tomorrow may be shut, or a holiday
            closes.append(_start_of_day(local.date() + dt.timedelta(days=1), zone))
        else:
            closes.append(dt.datetime.combine(local.date(), end, tzinfo=zone).astimezone(dt.UTC))
    return min(closes) if closes else None


@dataclass(frozen=True)
class ContactState:
    """Whether a channel is open now, from when if not, and until when this answer holds."""

    allowed: bool
    blocks: tuple[Block, ...]
    next_at: dt.datetime | None
    """When every block has lifted (``at`` when allowed); None when only a change of record will do."""
    recheck_at: dt.datetime
    """The answer holds until this instant at the latest (unless the record or the history changes)."""


def contact_state(
    policies: Sequence[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    *,
    longest: dt.timedelta = dt.timedelta(hours=24),
) -> ContactState:
    """The worklist's view of one account: evaluate now, and say until when that holds.

    While contact is allowed the answer lapses when a window closes in some zone of
    some policy, or when a requested call back's consent ends; while it is not, when
    the contact becomes lawful. Never later than ``longest`` (holidays, caps and
    call backs are looked at afresh at least that often)."""
    decision = evaluate(policies, subject, history, channel, at)
    latest = at + longest
    if decision.allowed:
        recheck = latest
        for leaf in (leaf for p in policies for leaf in p.flatten()):
            if leaf.hours is not None and channel in leaf.hours.channels:
                closes = window_closes(leaf.hours, subject, at)
                if closes is not None:
                    recheck = min(recheck, closes)
                else:  # open only through a call back's consent: it ends within minutes
                    recheck = min(recheck, at + dt.timedelta(minutes=leaf.callback_consent_minutes))
        return ContactState(True, (), at, max(recheck, at + dt.timedelta(seconds=1)))
    nxt = next_allowed(policies, subject, history, channel, at)
    recheck = latest if nxt is None else min(nxt, latest)
    # A call back the customer asked for opens a short window of its own.
    for c in history:
        if c.result == "CB" and c.callback_at is not None:
            for leaf in (leaf for p in policies for leaf in p.flatten()):
                opens = c.callback_at - dt.timedelta(minutes=leaf.callback_consent_minutes)
                if at < opens < recheck:
                    recheck = opens
    return ContactState(False, decision.blocks, nxt, recheck)
