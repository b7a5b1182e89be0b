"""Compliance policies: one TOML file each in ``config/policies``, every number in the file.

A policy applies to the countries (ISO 3166-1) and, optionally, the regions it
names; ``countries = ["*"]`` applies everywhere. A policy may instead
``compose`` several others: it then holds an account to all of them at once.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend_client.vocabulary import Channel, Outcome
from config import CONFIG_DIR

POLICY_DIR = CONFIG_DIR / "policies"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = tuple(c.value for c in Channel)
PHONE_KINDS = ("home", "mobile", "work", "other")
OUTCOMES = tuple(o.value for o in Outcome)
PAUSE_FLAGS = ("complaint", "dispute", "bankruptcy", "deceased", "fraud", "hardship")


class PolicyError(ValueError):
    """A policy file that cannot be used; ``str()`` names the file and the field."""


Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Hours:
    weekly: tuple[tuple[Interval, ...], ...]
    """For each weekday (Monday first), the local intervals when contact is allowed."""
    channels: frozenset[str]
    holidays: bool
    cite: str = ""


@dataclass(frozen=True)
class Frequency:
    """One limit on how often the consumer may be contacted about this debt.

    Counted: outbound contacts to the consumer (their own numbers, whoever answers)
    on ``channels`` whose outcome is in ``counted_outcomes``; to a number of one of
    ``kinds`` when the limit names kinds (a number of unknown kind counts in every
    pool). Never counted: calls the consumer made, calls to their attorney, calls to
    a third party's own number, and (``exclude_consented``) a call placed with the
    consumer's consent given directly within the previous ``consent_days``."""

    max_attempts: int
    days: int
    quiet_days_after_conversation: int
    counted_outcomes: frozenset[str]
    cite: str = ""
    channels: frozenset[str] = frozenset({"phone"})
    kinds: frozenset[str] = frozenset()
    exclude_consented: bool = True
    name: str = ""

    @property
    def counting(self) -> tuple[object, ...]:
        """What decides what the limit counts and when it lifts (two policies may share it under other cites)."""
        return (self.max_attempts, self.days, self.quiet_days_after_conversation, self.counted_outcomes,
                self.channels, self.kinds, self.exclude_consented)


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    countries: frozenset[str]
    regions: frozenset[str]
    hours: Hours | None
    frequencies: tuple[Frequency, ...]
    callback_consent_minutes: int = 15
    callback_consent_days: int = 7
    """Consent given directly lasts this many days, the day it was given being day 1 (Reg F §1006.14(b)(3)(i))."""
    third_party_allowed: bool = True
    third_party_max_contacts: int = 1
    third_party_cite: str = ""
    pause_flags: frozenset[str] = frozenset()
    attorney_only: bool = True
    written_cease_allows: frozenset[str] = frozenset({"letter"})
    disclosure_required_for: frozenset[str] = frozenset()
    retention_years: int = 3
    compose: tuple[str, ...] = ()
    members: tuple[Policy, ...] = field(default=(), compare=False)

    @property
    def frequency(self) -> Frequency | None:
        """The first limit (most policies have one)."""
        return self.frequencies[0] if self.frequencies else None

    def applies_to(self, country: str | None, region: str | None) -> bool:
        if "*" in self.countries:
            return True
        if country is None or country not in self.countries:
            return False
        return not self.regions or (region is not None and region in self.regions)

    def flatten(self) -> tuple[Policy, ...]:
        """The policies an account is held to under this one."""
        if self.members:
            return tuple(p for m in self.members for p in m.flatten())
        return (self,)


# --------------------------------------------------------------------------
# Loading


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise PolicyError(f"{where}.{key}: missing")
        return default
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PolicyError(f"{where}.{key}: must be {names}, not {value!r}")
    return value


def _time(value: Any, where: str) -> dt.time:
    if not isinstance(value, str):
        raise PolicyError(f"{where}: must be a time like \"08:00\"")
    try:
        return dt.time.fromisoformat(value) if value != "24:00" else dt.time.max
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not a time like \"08:00\"") from None


def _interval(value: Any, where: str) -> Interval:
    if not (isinstance(value, list) and len(value) == 2):
        raise PolicyError(f"{where}: must be [start, end]")
    start, end = _time(value[0], f"{where}[0]"), _time(value[1], f"{where}[1]")
    if not start < end:
        raise PolicyError(f"{where}: start must be before end")
    return start, end


def _hours(data: Mapping[str, Any], where: str) -> Hours:
    default = (_time(_get(data, "start", str, where), f"{where}.start"), _time(_get(data, "end", str, where), f"{where}.end"))
    if not default[0] < default[1]:
        raise PolicyError(f"{where}: start must be before end")
    weekdays = _get(data, "weekdays", dict, where, {})
    weekly: list[tuple[Interval, ...]] = []
    for day in WEEKDAYS:
        if day in weekdays:
            spec = weekdays[day]
            if not isinstance(spec, list):
                raise PolicyError(f"{where}.weekdays.{day}: must be a list of [start, end] pairs, or [] for none")
            if spec and not isinstance(spec[0], list):
                spec = [spec]
            weekly.append(tuple(_interval(iv, f"{where}.weekdays.{day}[{i}]") for i, iv in enumerate(spec)))
        else:
            weekly.append((default,))
    unknown = set(weekdays) - set(WEEKDAYS)
    if unknown:
        raise PolicyError(f"{where}.weekdays.{sorted(unknown)[0]}: not a weekday (mon … sun)")
    channels = _get(data, "channels", list, where, ["phone", "sms", "email", "visit"])
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise PolicyError(f"{where}.channels: unknown channel {bad[0]!r}")
    return Hours(weekly=tuple(weekly), channels=frozenset(channels), holidays=_get(data, "holidays", bool, where, False),
                 cite=_get(data, "cite", str, where, ""))


def _frequency(data: Mapping[str, Any], where: str) -> Frequency:
    max_attempts = _get(data, "max_attempts", int, where)
    days = _get(data, "days", int, where)
    quiet = _get(data, "quiet_days_after_conversation", int, where, 0)
    if max_attempts < 1 or days < 1 or quiet < 0:
        raise PolicyError(f"{where}: max_attempts and days must be at least 1, quiet days at least 0")
    counted = _get(data, "counted_outcomes", list, where, ["NA", "VM", "LM", "WN", "TPC", "RPC"])
    bad = [o for o in counted if o not in OUTCOMES]
    if bad:
        raise PolicyError(f"{where}.counted_outcomes: unknown outcome {bad[0]!r}")
    channels = _get(data, "channels", list, where, ["phone"])
    bad = [c for c in channels if c not in CHANNELS]
    if bad or not channels:
        raise PolicyError(f"{where}.channels: unknown channel {bad[0]!r}" if bad else f"{where}.channels: name at least one")
    kinds = _get(data, "kinds", list, where, [])
    bad = [k for k in kinds if k not in PHONE_KINDS]
    if bad:
        raise PolicyError(f"{where}.kinds: unknown kind of number {bad[0]!r} (home, mobile, work, other)")
    return Frequency(max_attempts, days, quiet, frozenset(counted), _get(data, "cite", str, where, ""),
                     channels=frozenset(channels), kinds=frozenset(kinds),
                     exclude_consented=_get(data, "exclude_consented", bool, where, True),
                     name=_get(data, "name", str, where, ""))


def _frequencies(value: Any, where: str) -> tuple[Frequency, ...]:
    """``[frequency]`` (one limit) or ``[[frequency]]`` (several, each counted on its own)."""
    if isinstance(value, dict):
        return (_frequency(value, where),)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return tuple(_frequency(v, f"{where}[{i}]") for i, v in enumerate(value))
    raise PolicyError(f"{where}: must be a table [frequency] or tables [[frequency]]")


def parse_policy(data: Mapping[str, Any], source: str, known: Mapping[str, Policy] | None = None) -> Policy:
    where = source
    pid = _get(data, "id", str, where)
    compose = tuple(_get(data, "compose", list, where, []))
    members: tuple[Policy, ...] = ()
    if compose:
        known = known or {}
        missing = [c for c in compose if c not in known]
        if missing:
            raise PolicyError(f"{where}.compose: unknown policy {missing[0]!r}")
        members = tuple(known[c] for c in compose)
    hours = _hours(data["hours"], f"{where}: hours") if "hours" in data else None
    freqs = _frequencies(data["frequency"], f"{where}: frequency") if "frequency" in data else ()
    third = _get(data, "third_party", dict, where, {})
    pauses = _get(data, "pauses", dict, where, {})
    pause_flags = _get(pauses, "flags", list, f"{where}: pauses", [])
    bad = [f for f in pause_flags if f not in PAUSE_FLAGS]
    if bad:
        raise PolicyError(f"{where}: pauses.flags: unknown flag {bad[0]!r}")
    return Policy(
        id=pid,
        title=_get(data, "title", str, where, pid),
        countries=frozenset(_get(data, "countries", list, where, [])),
        regions=frozenset(_get(data, "regions", list, where, [])),
        hours=hours,
        frequencies=freqs,
        callback_consent_minutes=_get(_get(data, "callbacks", dict, where, {}), "consent_minutes", int, f"{where}: callbacks", 15),
        callback_consent_days=_get(_get(data, "callbacks", dict, where, {}), "consent_days", int, f"{where}: callbacks", 7),
        third_party_allowed=_get(third, "allowed", bool, f"{where}: third_party", True),
        third_party_max_contacts=_get(third, "max_contacts_per_party", int, f"{where}: third_party", 1),
        third_party_cite=_get(third, "cite", str, f"{where}: third_party", ""),
        pause_flags=frozenset(pause_flags),
        attorney_only=_get(_get(data, "attorney", dict, where, {}), "attorney_only", bool, f"{where}: attorney", True),
        written_cease_allows=frozenset(_get(_get(data, "cease", dict, where, {}), "written_allows", list, f"{where}: cease", ["letter"])),
        disclosure_required_for=frozenset(_get(_get(data, "disclosure", dict, where, {}), "required_for", list, f"{where}: disclosure", [])),
        retention_years=_get(_get(data, "retention", dict, where, {}), "years", int, f"{where}: retention", 3),
        compose=compose,
        members=members,
    )


def load_policies(directory: Path | None = None) -> dict[str, Policy]:
    """Every policy in ``directory`` by id; composites after their members."""
    directory = directory or POLICY_DIR
    raw: dict[str, tuple[dict[str, Any], str]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path.name}: {exc}") from None
        pid = data.get("id")
        if not isinstance(pid, str):
            raise PolicyError(f"{path.name}: id: missing")
        if pid in raw:
            raise PolicyError(f"{path.name}: id: {pid!r} is also in {raw[pid][1]}")
        raw[pid] = (data, path.name)
    policies: dict[str, Policy] = {}
    pending = dict(raw)
    while pending:
        progressed = False
        for pid, (data, name) in list(pending.items()):
            if all(c in policies for c in data.get("compose", [])):
                policies[pid] = parse_policy(data, name, policies)
                del pending[pid]
                progressed = True
        if not progressed:
            pid, (data, name) = next(iter(pending.items()))
            parse_policy(data, name, policies)  # raises naming the unknown member
            raise PolicyError(f"{name}: compose: a cycle among {sorted(pending)}")
    return policies


@lru_cache(maxsize=4)
def _cached(directory: str) -> dict[str, Policy]:
    return load_policies(Path(directory))


def default_policies() -> dict[str, Policy]:
    return _cached(str(POLICY_DIR))


def applicable(
    policies: Mapping[str, Policy], country: str | None, region: str | None, deployment_default: Iterable[str] = ("default",)
) -> tuple[Policy, ...]:
    """Every leaf policy an account is held to: the deployment default(s) plus those of its jurisdiction."""
    chosen: dict[str, Policy] = {}
    for pid in deployment_default:
        if pid in policies:
            for p in policies[pid].flatten():
                chosen[p.id] = p
    for policy in policies.values():
        if policy.members or "*" in policy.countries:
            continue
        if policy.applies_to(country, region):
            chosen[policy.id] = policy
    return tuple(chosen.values())
