"""Worklist strategies (issue 6): an account's priority and its reasons, from the
score, the money, the bucket and the work that is due. Pure: ``rank`` takes plain
values; the strategies themselves are TOML files in ``config/strategies/``.

Champion/challenger: ``config/strategies/split.toml`` names two strategies and the
share of accounts the challenger ranks, chosen by a stable hash of the account
reference (``side_of``), so an account stays on its side from run to run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from backend.domain.accounts import BUCKETS
from backend.domain.priority import Priority, Why
from backend.domain.strategy_error import StrategyError
from backend.domain.treatments import TreatmentPath, parse_treatments
from config import CONFIG_DIR

STRATEGY_DIR = CONFIG_DIR / "strategies"


@dataclass(frozen=True)
class Strategy:
    id: str
    title: str
    contactable_now: float
    expected_recovery: float
    promise_due: float
    broken_promise: float
    callback_due: float
    newly_rolled: float
    newly_rolled_days: int
    per_day_since_contact: float
    days_since_contact_cap: int
    worked_recently_hours: int
    worked_recently: float
    bucket: Mapping[str, float]
    default_probability: Mapping[str, float]
    usd_per_unit: Mapping[str, Decimal] = field(default_factory=dict)
    treatments: TreatmentPath = field(default_factory=TreatmentPath)
    """The reminders this strategy sends by itself (issue 20); empty where the file has none."""

    @property
    def usd_rate(self) -> Mapping[str, float]:
        """``usd_per_unit`` as floats, worked out once per strategy."""
        rates = self.__dict__.get("_usd_rate")
        if rates is None:
            rates = {k: float(v) for k, v in self.usd_per_unit.items()}
            object.__setattr__(self, "_usd_rate", rates)
        return rates


class RankInputs(NamedTuple):
    """What ``rank`` needs to know of one account, as plain values (a named tuple:
    a portfolio rescore makes a million of them)."""

    dpd: int
    bucket: str
    overdue_minor: int
    currency: str
    exponent: int
    p_default: float | None = None
    """The scorecard's probability of default next month; None where there is no history to score."""
    risk_reasons: tuple[Why, ...] = ()
    promise_due: bool = False
    broken_promise: bool = False
    callback_due: bool = False
    paused: bool = False
    contactable: bool = False
    hours_since_contact: float | None = None
    """None: never contacted."""
    broken_reason: Why | None = None
    """What was broken and when (``broken_why``); the bare "broken promise" where not known."""


#: Reasons that are work to do: shown first, whatever they weigh.
ACTIONS = frozenset(("callback_due", "promise_due", "broken_promise"))


def _weight(part: tuple[float, Why]) -> float:
    return -part[0]


# Reasons are made once and shared (a ``Why`` is never changed once made): a
# portfolio rescore would otherwise format the same few hundred of them a million times.
_PAUSED = Why("paused", "collection paused", {})
_CURRENT = Why("current", "not past due", {})
_PROMISE_DUE = Why("promise_due", "promise due", {})
_BROKEN_PROMISE = Why("broken_promise", "broken promise", {})
_CALLBACK_DUE = Why("callback_due", "call back due", {})
_NEVER_CONTACTED = Why("never_contacted", "never contacted", {})
_WORKED_RECENTLY = Why("worked_recently", "worked recently", {})
_LIKELY = tuple(Why("expected_recovery", f"{percent} % likely to pay the overdue amount", {"percent": percent})
                for percent in range(101))
_DPD: dict[int, Why] = {}
_DAYS_SINCE: dict[int, Why] = {}
_ROLLED: dict[str, Why] = {}


def _days_past_due(dpd: int) -> Why:
    w = _DPD.get(dpd)
    if w is None:
        w = _DPD[dpd] = Why("dpd", f"{dpd} days past due", {"days": dpd})
    return w


def _days_since(days: int) -> Why:
    w = _DAYS_SINCE.get(days)
    if w is None:
        w = _DAYS_SINCE[days] = Why("days_since_contact", f"{days} days since the last contact", {"days": days})
    return w


def _rolled(bucket: str) -> Why:
    w = _ROLLED.get(bucket)
    if w is None:
        w = _ROLLED[bucket] = Why("newly_rolled", f"rolled into bucket {bucket}", {"bucket": bucket})
    return w


def broken_why(kind: str, amount_minor: int, currency: str, exponent: int, on: dt.date) -> Why:
    """The reason a broken plan gives: "promise of 200.00 USD broken on 2026-03-12" for a
    promise, "instalment plan broken on 2026-03-12" for the other kinds; the desk words it
    from the code and parameters (which, like every reason's, its words name whole)."""
    if kind == "promise":
        major = Decimal(amount_minor).scaleb(-exponent)
        return Why("broken_promise", f"promise of {major:,.{exponent}f} {currency} broken on {on.isoformat()}",
                   {"kind": kind, "amount_minor": amount_minor, "currency": currency, "date": on.isoformat()})
    return Why("broken_promise", f"{kind} plan broken on {on.isoformat()}", {"kind": kind, "date": on.isoformat()})


def rank(s: Strategy, a: RankInputs) -> Priority:
    """The priority (highest first) and its reasons, most weighty first.

    Written for speed (a portfolio rescore ranks a million accounts): reasons are
    shared ``Why`` tuples, made once each, and sorted once."""
    if a.paused:
        return Priority(0.0, [_PAUSED])
    p_default = a.p_default if a.p_default is not None else s.default_probability.get(a.bucket, 0.5)
    p_pay = min(max(1.0 - p_default, 0.0), 1.0)
    rate = s.usd_rate.get(a.currency, 1.0)
    expected_usd = max(a.overdue_minor, 0) / 10**a.exponent * p_pay * rate
    parts: list[tuple[float, Why]] = [
        (s.expected_recovery * math.log10(1.0 + expected_usd), _LIKELY[round(p_pay * 100)])]
    dpd = a.dpd
    parts.append((s.bucket.get(a.bucket, 0.0), _days_past_due(dpd) if dpd > 0 else _CURRENT))
    if a.promise_due:
        parts.append((s.promise_due, _PROMISE_DUE))
    if a.broken_promise:
        parts.append((s.broken_promise, a.broken_reason or _BROKEN_PROMISE))
    if a.callback_due:
        parts.append((s.callback_due, _CALLBACK_DUE))
    if dpd >= 30 and dpd % 30 < s.newly_rolled_days:
        parts.append((s.newly_rolled, _rolled(a.bucket)))
    worked_recently = False
    hours = a.hours_since_contact
    if hours is None:
        parts.append((s.per_day_since_contact * s.days_since_contact_cap, _NEVER_CONTACTED))
    elif hours < s.worked_recently_hours and not a.callback_due:
        parts.append((s.worked_recently, _WORKED_RECENTLY))
        worked_recently = True
    else:
        days = min(int(hours // 24), s.days_since_contact_cap)
        if days:
            parts.append((s.per_day_since_contact * days, _days_since(days)))
    # Never reaching the bonus: whatever the amounts, callable accounts come first.
    value = min(max(sum(p for p, _ in parts), 0.0), s.contactable_now - 1)
    if a.contactable:
        value += s.contactable_now
    # Reasons in words: the actions and the risk first, then what weighs most (a stable sort).
    parts.sort(key=_weight)
    reasons = [w for _, w in parts if w.code in ACTIONS]
    reasons += a.risk_reasons[:2]
    reasons += [w for p, w in parts if p > 0 and w.code not in ACTIONS and w.code != "worked_recently"]
    if worked_recently:
        reasons.append(_WORKED_RECENTLY)
    return Priority(round(value, 2), reasons[:6])


def side_of(account_ref: str, challenger_percent: int) -> str:
    """``champion`` or ``challenger``: a stable split by a hash of the reference."""
    digest = hashlib.blake2b(account_ref.encode("utf-8"), digest_size=4).digest()
    return "challenger" if int.from_bytes(digest, "big") % 100 < challenger_percent else "champion"


# --------------------------------------------------------------------------
# Loading (the only I/O here)


def _num(data: Mapping[str, Any], key: str, where: str, kind: type = float) -> Any:
    if key not in data:
        raise StrategyError(f"{where}: {key} is missing")
    value = data[key]
    try:
        return kind(Decimal(str(value))) if kind is not Decimal else Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unreadable value is the file's fault
        raise StrategyError(f"{where}: {key}: {value!r} is not a number") from None


def parse_strategy(data: Mapping[str, Any], source: str) -> Strategy:
    where = source
    buckets = data.get("bucket", {})
    defaults = data.get("default_probability", {})
    for table, name in ((buckets, "bucket"), (defaults, "default_probability")):
        missing = [b for b in BUCKETS if b not in table]
        if missing:
            raise StrategyError(f"{where}: [{name}] lacks {', '.join(missing)}")
    probabilities = {b: _num(defaults, b, f"{where}: default_probability") for b in BUCKETS}
    if any(not 0 <= p <= 1 for p in probabilities.values()):
        raise StrategyError(f"{where}: default_probability: each must be between 0 and 1")
    strategy = Strategy(
        id=str(data.get("id") or Path(source).stem), title=str(data.get("title", "")),
        contactable_now=_num(data, "contactable_now", where), expected_recovery=_num(data, "expected_recovery", where),
        promise_due=_num(data, "promise_due", where), broken_promise=_num(data, "broken_promise", where),
        callback_due=_num(data, "callback_due", where), newly_rolled=_num(data, "newly_rolled", where),
        newly_rolled_days=_num(data, "newly_rolled_days", where, int),
        per_day_since_contact=_num(data, "per_day_since_contact", where),
        days_since_contact_cap=_num(data, "days_since_contact_cap", where, int),
        worked_recently_hours=_num(data, "worked_recently_hours", where, int),
        worked_recently=_num(data, "worked_recently", where),
        bucket={b: _num(buckets, b, f"{where}: bucket") for b in BUCKETS},
        default_probability=probabilities,
        usd_per_unit={k: _num(data.get("usd_per_unit", {}), k, f"{where}: usd_per_unit", Decimal)
                      for k in data.get("usd_per_unit", {})},
        treatments=parse_treatments(data, source),
    )
    if strategy.contactable_now < 500:
        raise StrategyError(f"{where}: contactable_now must keep callable accounts first (at least 500)")
    return strategy


@dataclass(frozen=True)
class Split:
    champion: Strategy
    challenger: Strategy
    challenger_percent: int

    def for_account(self, account_ref: str) -> Strategy:
        if side_of(account_ref, self.challenger_percent) == "challenger":
            return self.challenger
        return self.champion


@lru_cache(maxsize=4)
def load_split(directory: Path = STRATEGY_DIR) -> Split:
    def read(name: str) -> dict[str, Any]:
        path = directory / f"{name}.toml"
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StrategyError(f"{path}: {exc}") from None

    split = read("split")
    champion = parse_strategy(read(str(split.get("champion", "champion"))), f"{split.get('champion')}.toml")
    challenger = parse_strategy(read(str(split.get("challenger", "challenger"))), f"{split.get('challenger')}.toml")
    percent = int(split.get("challenger_percent", 0))
    if not 0 <= percent <= 50:
        raise StrategyError(f"{directory / 'split.toml'}: challenger_percent must be between 0 and 50")
    return Split(champion, challenger, percent)
