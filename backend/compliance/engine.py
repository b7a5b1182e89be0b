"""The compliance engine: pure functions, no I/O.

Given who the customer is (the places they might be, their numbers and the kind
of each, their flags and the history of those flags), what has been done (the
contact history), the policies they are held to, a channel, a party and an
instant, :func:`evaluate` says whether the contact is allowed and lists every
block with its rule, a plain explanation and ``until`` — the earliest instant
that block lifts (``None`` when only a change of record lifts it).
:func:`next_allowed` finds the earliest instant every block has lifted.

Who a call is to decides whether it counts (Reg F §1006.14(b)(2)–(3)): the
limits count outbound contacts to the consumer's own numbers (whoever answers),
never calls the consumer made, calls to their attorney, calls to a third
party's own number (each third party has its own limit, §1006.10), attempts
that never connected, or a call placed with the consumer's consent given
directly within the previous seven days (the day it was given is day 1).

A past contact is judged by the flags in force when it was made: a subject may
carry the history of its flags (:class:`FlagPeriod`), and the engine reads the
flags at the instant asked about from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from backend.compliance.policy import Frequency, Hours, Policy
from backend.domain.regions import zone_label
from backend_client.vocabulary import Channel

ALL_CHANNELS = frozenset(c.value for c in Channel)
PAUSES = ("complaint", "dispute", "bankruptcy", "deceased", "fraud", "hardship")
LEGAL_ROLES = frozenset({"legal"})
"""Who still acts on an account accepted for legal proceedings."""


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
class FlagPeriod:
    """A flag (or pause) in force from ``start`` until ``end`` (None: still in force).
    ``channel`` names the channel of a ``cease``; the legal hold is the flag ``legal``."""

    flag: str
    start: dt.datetime
    end: dt.datetime | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Place:
    """A zone the customer might be in, and what on the account points there."""

    zone: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    """What the rules need to know of the customer and the account."""

    zones: tuple[str, ...]
    country: str | None = None
    region: str | None = None
    flags: dict[str, object] = field(default_factory=dict)
    """The flags in force now (used when ``flag_history`` is None)."""
    do_not_call: frozenset[str] = frozenset()
    phones: tuple[str, ...] = ()
    phone_kinds: Mapping[str, str] = field(default_factory=dict)
    """Each number's kind (``home``, ``mobile``, ``work``, ``other``)."""
    flag_history: tuple[FlagPeriod, ...] | None = None
    """Every flag's periods; when given, a contact is judged by the flags in force at its instant."""
    places: tuple[Place, ...] = ()
    """The zones with their sources, for the words of a verdict (may be empty)."""


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


@dataclass(frozen=True)
class Count:
    """What one frequency limit has counted in its window at an instant."""

    policy: str
    limit: Frequency
    counted: int


# --------------------------------------------------------------------------
# Flags in force


def flags_at(subject: Subject, at: dt.datetime) -> dict[str, object]:
    """The flags in force at ``at``: from the flags' history when the subject has one."""
    if subject.flag_history is None:
        return subject.flags
    flags: dict[str, object] = {}
    cease: list[str] = []
    for p in subject.flag_history:
        if p.start <= at and (p.end is None or at < p.end):
            if p.flag == "cease":
                if p.channel:
                    cease.append(p.channel)
            else:
                flags[p.flag] = True
    if cease:
        flags["cease"] = sorted(set(cease))
    return flags


# --------------------------------------------------------------------------
# Time helpers


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str | None, region: str | None) -> Any:  # a holidays.HolidayBase, or None
    if not country:
        return None
    import holidays

    # The holidays library answers NotImplementedError (or KeyError) for a country or region it
    # has no calendar for: then the country's calendar, else none (no holidays to keep).
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


def places_text(subject: Subject) -> str:
    """``New York (phone) and Los Angeles (address)``: the places a window was intersected in."""
    places = subject.places or tuple(Place(z) for z in subject.zones)
    parts = [zone_label(p.zone) + (f" ({', '.join(p.sources)})" if p.sources else "") for p in places]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --------------------------------------------------------------------------
# Who a contact is to, and consent


def _own_number(subject: Subject, used: str | None) -> bool:
    return used is not None and used in subject.phones


def to_consumer(subject: Subject, party: str, used: str | None) -> bool:
    """A contact placed to the consumer: to them, or to one of their own numbers
    whoever answered (a third party picking up the consumer's phone is incidental)."""
    if party == "debtor":
        return True
    return party == "third_party" and _own_number(subject, used)


def _local_days_apart(earlier: dt.datetime, later: dt.datetime, zones: Sequence[str]) -> int:
    """The most calendar days between two instants in any of the zones."""
    return max((later.astimezone(_zone(z)).date() - earlier.astimezone(_zone(z)).date()).days for z in zones)


class _Facts:
    """What the rules read of the history, worked out once per verdict (not once per
    policy and limit): the consumer's call-back requests, the outbound calls placed to
    the consumer, the recent outbound contacts to the consumer, the conversations."""

    __slots__ = ("consents", "calls", "to_consumer", "conversations", "_consented", "_dates", "_caps", "_asked",
                 "_quiet")

    def __init__(self, subject: Subject, history: Sequence[PastContact]) -> None:
        self.consents = [c for c in history if c.result == "CB" and c.callback_at is not None]
        self.to_consumer = [c for c in history if c.direction == "outbound" and to_consumer(subject, c.party, c.used)]
        self.calls = [c.at for c in self.to_consumer if c.channel == "phone"] if self.consents else []
        self.conversations = [c.at for c in history if c.channel == "phone" and c.outcome == "RPC"
                              and c.party == "debtor"]
        self._consented: dict[tuple[int, int], frozenset[dt.datetime]] = {}
        self._dates: dict[tuple[dt.datetime, str], dt.date] = {}
        self._caps: dict[tuple[object, ...], tuple[int, dt.datetime | None]] = {}
        self._asked: dict[tuple[dt.datetime, int, int], bool] = {}
        self._quiet: dict[tuple[int, int, dt.datetime], dt.datetime | None] = {}

    def quiet_until(self, limit: Frequency, subject: Subject, at: dt.datetime) -> dt.datetime | None:
        """When the quiet days after the last conversation end, if they are running at ``at``."""
        key = (limit.days, limit.quiet_days_after_conversation, at)
        if key in self._quiet:
            return self._quiet[key]
        since = at - dt.timedelta(days=max(limit.days, limit.quiet_days_after_conversation) + 2)
        conversations = [c for c in self.conversations if c >= since]
        quiet: dt.datetime | None = None
        for name in subject.zones if conversations else ():
            last_day = max(self.date(c, name) for c in conversations)
            lift_day = last_day + dt.timedelta(days=limit.quiet_days_after_conversation)
            if self.date(at, name) < lift_day:
                lift = _start_of_day(lift_day, _zone(name))
                quiet = lift if quiet is None else max(quiet, lift)
        self._quiet[key] = quiet
        return quiet

    def cap(self, limit: Frequency, subject: Subject, policy: Policy, at: dt.datetime) -> tuple[int, dt.datetime | None]:
        """:func:`_cap` of the limit's counted contacts, remembered: several policies share
        a limit (the defaults' and Reg F's 7-in-7), and every number asks it again."""
        key = (limit.counting, policy.callback_consent_minutes, policy.callback_consent_days, at)
        found = self._caps.get(key)
        if found is None:
            since = at - dt.timedelta(days=max(limit.days, limit.quiet_days_after_conversation) + 2)
            found = self._caps[key] = _cap(limit, _counted(limit, subject, self, policy, since), subject, at, self)
        return found

    def date(self, at: dt.datetime, zone: str) -> dt.date:
        """The local calendar day of an instant in a zone (remembered: every limit asks)."""
        key = (at, zone)
        day = self._dates.get(key)
        if day is None:
            day = self._dates[key] = at.astimezone(_zone(zone)).date()
        return day

    def consented(self, at: dt.datetime, subject: Subject, policy: Policy) -> bool:
        """A call at ``at`` placed at the time the customer named when asking for a call
        back, within ``callback_consent_days`` of asking (the day of asking is day 1),
        and the first call placed for that request."""
        if not self.consents:
            return False
        key = (at, policy.callback_consent_minutes, policy.callback_consent_days)
        found = self._asked.get(key)
        if found is None:
            found = self._asked[key] = self._consented_now(at, subject, policy)
        return found

    def _consented_now(self, at: dt.datetime, subject: Subject, policy: Policy) -> bool:
        slack = dt.timedelta(minutes=policy.callback_consent_minutes)
        for c in self.consents:
            cb = c.callback_at
            assert cb is not None
            if c.at < at and abs(at - cb) <= slack and \
                    _local_days_apart(c.at, at, subject.zones) < policy.callback_consent_days:
                if not any(c.at < h < at and abs(h - cb) <= slack for h in self.calls):
                    return True
        return False

    def consented_calls(self, subject: Subject, policy: Policy) -> frozenset[dt.datetime]:
        """The instants of the past calls that were placed with consent."""
        key = (policy.callback_consent_minutes, policy.callback_consent_days)
        found = self._consented.get(key)
        if found is None:
            found = frozenset(c.at for c in self.to_consumer if c.channel == "phone"
                              and self.consented(c.at, subject, policy)) if self.consents else frozenset()
            self._consented[key] = found
        return found


# --------------------------------------------------------------------------
# Frequency


def _kind(subject: Subject, used: str | None) -> str | None:
    return subject.phone_kinds.get(used) if used else None


def _in_pool(limit: Frequency, kind: str | None) -> bool:
    """A number of unknown kind counts in every pool (the stricter reading)."""
    return not limit.kinds or kind is None or kind in limit.kinds


def _counted(limit: Frequency, subject: Subject, facts: _Facts, policy: Policy, since: dt.datetime) -> list[dt.datetime]:
    consented = facts.consented_calls(subject, policy) if limit.exclude_consented else frozenset()
    kinds = subject.phone_kinds
    return [c.at for c in facts.to_consumer
            if c.at >= since and c.channel in limit.channels and c.outcome in limit.counted_outcomes
            and (not limit.kinds or _in_pool(limit, kinds.get(c.used) if c.used else None))
            and c.at not in consented]


def _cap(limit: Frequency, attempts: Sequence[dt.datetime], subject: Subject, at: dt.datetime,
         facts: _Facts) -> tuple[int, dt.datetime | None]:
    """How many counted contacts the window ending today holds (most in any zone), and
    when the cap lifts if it is reached (the latest over the zones)."""
    most = 0
    until: dt.datetime | None = None
    for name in subject.zones:
        zone = _zone(name)
        today = at.astimezone(zone).date()
        first_day = today - dt.timedelta(days=limit.days - 1)
        in_window = sorted((d for d in (facts.date(a, name) for a in attempts) if first_day <= d <= today),
                           reverse=True)
        most = max(most, len(in_window))
        if len(in_window) >= limit.max_attempts:
            # The day the oldest of the last max_attempts leaves the window.
            lift = _start_of_day(in_window[limit.max_attempts - 1] + dt.timedelta(days=limit.days), zone)
            until = lift if until is None else max(until, lift)
    return most, until


def _limits_for(policy: Policy, subject: Subject, channel: str, used: str | None) -> list[Frequency]:
    """The policy's limits that count a contact on ``channel`` to ``used``."""
    if not policy.frequencies:
        return []
    if used is None and subject.phones and channel in ("phone", "sms"):
        # No number named: the limit applies if any of the consumer's callable numbers is in its pool.
        kinds = {subject.phone_kinds.get(p) for p in subject.phones if p not in subject.do_not_call}
        return [f for f in policy.frequencies if channel in f.channels and any(_in_pool(f, k) for k in kinds)]
    kind = _kind(subject, used)
    return [f for f in policy.frequencies if channel in f.channels and _in_pool(f, kind)]


def _frequency_blocks(policy: Policy, subject: Subject, facts: _Facts, channel: str, at: dt.datetime,
                      used: str | None) -> list[Block]:
    blocks: list[Block] = []
    for limit in _limits_for(policy, subject, channel, used):
        if limit.exclude_consented and channel == "phone" and facts.consented(at, subject, policy):
            continue
        _counted_now, until = facts.cap(limit, subject, policy, at)
        if until is not None:
            what = "contacts" if limit.channels != {"phone"} else "call attempts"
            pool = f" to {'/'.join(sorted(limit.kinds))} numbers" if limit.kinds else ""
            blocks.append(Block("frequency", f"{limit.max_attempts} {what}{pool} in {limit.days} days already",
                                until, policy.id, limit.cite))
        if limit.quiet_days_after_conversation and channel == "phone":
            quiet = facts.quiet_until(limit, subject, at)
            if quiet is not None:
                blocks.append(Block("quiet-days",
                                    f"no calls for {limit.quiet_days_after_conversation} days after a conversation",
                                    quiet, policy.id, limit.cite))
    return blocks


# --------------------------------------------------------------------------
# The rules


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
    flags: Mapping[str, object] | None = None,
    facts: _Facts | None = None,
) -> list[Block]:
    """Every block one (leaf) policy puts on this contact (``flags``: those in force at ``at``)."""
    if direction != "outbound":
        return []  # the customer calling in is never a breach
    blocks: list[Block] = []
    flags = flags_at(subject, at) if flags is None else flags
    facts = _Facts(subject, history) if facts is None else facts
    pid = policy.id
    consumer = to_consumer(subject, party, used)
    for name in sorted(policy.pause_flags):
        if flags.get(name):
            blocks.append(Block(f"pause-{name}", f"collection is paused: {name.replace('_', ' ')}", None, pid))
    if flags.get("attorney") and policy.attorney_only and party != "attorney":
        blocks.append(Block("attorney", "the customer has an attorney: contact the attorney only", None, pid))
    cease = set(flags.get("cease") or ())  # type: ignore[call-overload]
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
    if party == "third_party" and not consumer:
        # Dialling a third party's own number (a third party answering the consumer's
        # phone is incidental: recorded as what happened, the debt never discussed).
        if not policy.third_party_allowed:
            blocks.append(Block("third-party", "this jurisdiction allows no contact with unrelated third parties", None, pid,
                                policy.third_party_cite))
        elif used is not None:
            earlier = [c for c in history if c.party == "third_party" and c.outcome == "TPC" and c.used == used
                       and c.direction == "outbound"]
            # More only if they asked to be called again (§1006.10(c)): a call back named on the last contact.
            if len(earlier) >= policy.third_party_max_contacts and not (earlier and earlier[-1].callback_at):
                blocks.append(Block("third-party", "this third party has been contacted already (location only, once)",
                                    None, pid, policy.third_party_cite))
    consent = consumer and channel == "phone" and facts.consented(at, subject, policy)
    if policy.hours is not None and channel in policy.hours.channels and not consent:
        if not window_open(policy.hours, subject, at):
            until = next_window_open(policy.hours, subject, at)
            if until is None and len(subject.zones) > 1:
                detail = f"no lawful hour: {places_text(subject)} share none"
            else:
                local = ", ".join(at.astimezone(_zone(z)).strftime("%H:%M %Z") for z in subject.zones[:3])
                detail = f"outside the lawful hours in the customer's time ({local})"
            blocks.append(Block("call-window", detail, until, pid, policy.hours.cite))
    if policy.frequencies and consumer:
        blocks.extend(_frequency_blocks(policy, subject, facts, channel, at, used))
    return blocks


def _leaves(policies: Iterable[Policy]) -> list[Policy]:
    return [leaf for policy in policies for leaf in policy.flatten()]


def _recent(leaves: Sequence[Policy], history: Sequence[PastContact], at: dt.datetime) -> list[PastContact]:
    # Only the recent past matters to the caps and quiet days; third-party contacts
    # and requested call backs are looked up over the whole history.
    reach = max((max(f.days, f.quiet_days_after_conversation) for p in leaves for f in p.frequencies), default=0)
    since = at - dt.timedelta(days=reach + 2)
    asked = at - dt.timedelta(days=max((p.callback_consent_days for p in leaves), default=0) + 2)
    # A contact made at the very instant asked about has been made: it counts (the
    # worklist's answer is worked out at the instant a call is logged).
    out = []
    for c in history:
        t = c.at
        if t >= since:
            if t <= at:
                out.append(c)
        elif c.party == "third_party" or (t >= asked and c.result == "CB"):
            out.append(c)
    return out


def evaluate(
    policies: Iterable[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    *,
    role: str | None = None,
    **kwargs: object,
) -> Decision:
    """Every block of every policy (the strictest wins: any block forbids).

    ``role`` is the role of whoever makes the contact: on an account accepted for
    legal proceedings only legal officers act. Without a number (``used``) a phone
    or text contact is allowed when one of the consumer's numbers may be used."""
    if at.tzinfo is None:
        raise ValueError("at must be zone-aware")
    leaves = _leaves(policies)
    earlier = _recent(leaves, history, at)
    flags = flags_at(subject, at)
    facts = _Facts(subject, earlier)
    decision = _decide(leaves, subject, earlier, facts, channel, at, role, flags, kwargs)
    if not decision.allowed and kwargs.get("used") is None and channel in ("phone", "sms") \
            and any(b.rule == "frequency" for b in decision.blocks) and _kinds_matter(leaves, subject, channel):
        return _best_number(leaves, subject, decision, facts, channel, at) or decision
    return decision


def _kinds_matter(leaves: Sequence[Policy], subject: Subject, channel: str) -> bool:
    """Some limit counts only some kinds of number, and the consumer has numbers of several kinds."""
    if len(subject.phones) < 2 or not any(f.kinds for p in leaves for f in p.frequencies if channel in f.channels):
        return False
    return len({subject.phone_kinds.get(p) for p in subject.phones}) > 1


def _decide(leaves: Sequence[Policy], subject: Subject, earlier: Sequence[PastContact], facts: _Facts, channel: str,
            at: dt.datetime, role: str | None, flags: Mapping[str, object], kwargs: Mapping[str, object]) -> Decision:
    merged: dict[str, Block] = {}
    if flags.get("legal") and role not in LEGAL_ROLES and kwargs.get("direction", "outbound") == "outbound":
        merged["legal"] = Block("legal", "accepted for legal proceedings: only legal officers act on it", None,
                                "legal-hold", "SPEC §4 pauses")
    for leaf in leaves:
        for block in evaluate_one(leaf, subject, earlier, channel, at, flags=flags, facts=facts,
                                  **kwargs):  # type: ignore[arg-type]
            merged[block.rule] = _stricter(merged.get(block.rule), block)
    return Decision(allowed=not merged, blocks=tuple(merged.values()))


def _best_number(leaves: Sequence[Policy], subject: Subject, first: Decision, facts: _Facts, channel: str,
                 at: dt.datetime) -> Decision | None:
    """No number named, a limit reached that counts some kinds of number only: allowed
    when some callable number is; else the blocks of the number that frees up first."""
    best: Decision | None = None
    best_until = dt.datetime.max.replace(tzinfo=dt.UTC)
    seen: set[str | None] = set()
    # Only the frequency blocks of the limits that count some kinds depend on the number
    # (numbers marked do not call are passed over); the other policies' stand as found.
    by_kind = [leaf for leaf in leaves if any(f.kinds for f in leaf.frequencies)]
    base = {b.rule: b for b in first.blocks if b.rule not in ("frequency", "quiet-days", "do-not-call")}
    for leaf in leaves:
        if leaf not in by_kind:
            for block in _frequency_blocks(leaf, subject, facts, channel, at, None):
                base[block.rule] = _stricter(base.get(block.rule), block)
    for number in subject.phones:
        kind = subject.phone_kinds.get(number)
        if number in subject.do_not_call or kind in seen:
            continue
        seen.add(kind)
        merged = dict(base)
        for leaf in by_kind:
            for block in _frequency_blocks(leaf, subject, facts, channel, at, number):
                merged[block.rule] = _stricter(merged.get(block.rule), block)
        decision = Decision(allowed=not merged, blocks=tuple(merged.values()))
        if decision.allowed:
            return decision
        untils = [b.until for b in decision.blocks]
        until = dt.datetime.max.replace(tzinfo=dt.UTC) if any(u is None for u in untils) else max(
            u for u in untils if u is not None)
        if best is None or until < best_until:
            best, best_until = decision, until
    return best


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
    return next_after(evaluate(policies, subject, history, channel, at, **kwargs),  # type: ignore[arg-type]
                      policies, subject, history, channel, at, **kwargs)


def next_after(
    decision: Decision,
    policies: Sequence[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    **kwargs: object,
) -> dt.datetime | None:
    """:func:`next_allowed` from the decision already made at ``at`` (not made again)."""
    t = at
    for _ in range(32):
        if decision.allowed:
            return t
        untils = [b.until for b in decision.blocks]
        if any(u is None for u in untils):
            return None
        t = max(u for u in untils if u is not None)
        decision = evaluate(policies, subject, history, channel, t, **kwargs)  # type: ignore[arg-type]
    return None


def counts(
    policies: Sequence[Policy],
    subject: Subject,
    history: Sequence[PastContact],
    channel: str,
    at: dt.datetime,
    *,
    party: str = "debtor",
    used: str | None = None,
) -> list[Count]:
    """What each frequency limit that applies to this contact has counted in its
    window at ``at`` ("5 of 7 this week"); a limit shared by several policies once."""
    if not to_consumer(subject, party, used):
        return []
    leaves = _leaves(policies)
    facts = _Facts(subject, _recent(leaves, history, at))
    out: dict[tuple[int, int, frozenset[str], frozenset[str]], Count] = {}
    for leaf in leaves:
        for limit in _limits_for(leaf, subject, channel, used):
            n, _until = facts.cap(limit, subject, leaf, at)
            key = (limit.max_attempts, limit.days, limit.kinds, limit.channels)
            if key in out:
                prev = out[key]
                out[key] = Count(f"{prev.policy}, {leaf.id}", prev.limit, max(prev.counted, n))
            else:
                out[key] = Count(leaf.id, limit, n)
    return sorted(out.values(), key=lambda c: (-(c.counted / c.limit.max_attempts), c.limit.days))


def binding_zone(policies: Sequence[Policy], subject: Subject, channel: str, at: dt.datetime) -> str | None:
    """The zone whose window opens exactly at ``at`` (the customer's clock to show a
    next lawful minute in); the first zone when none does."""
    for leaf in _leaves(policies):
        hours = leaf.hours
        if hours is None or channel not in hours.channels:
            continue
        for name in subject.zones:
            local = at.astimezone(_zone(name))
            if any(local.time() == start for start, _end in hours.weekly[local.weekday()]):
                return name
    return subject.zones[0] if subject.zones else None


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
    nxt = next_after(decision, policies, subject, history, channel, at)
    recheck = latest if nxt is None else min(nxt, latest)
    # A call back the customer asked for opens a short window of its own.
    for c in history:
        if c.result == "CB" and c.callback_at is not None:
            for leaf in (leaf for p in policies for leaf in p.flatten()):
                opens = c.callback_at - dt.timedelta(minutes=leaf.callback_consent_minutes)
                if at < opens < recheck:
                    recheck = opens
    return ContactState(False, decision.blocks, nxt, recheck)
