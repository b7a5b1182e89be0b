"""Authority to agree repayment plans (``config/authority.toml``, SPEC §3): each role's
limits, the grace days before an unpaid item is broken, the first payment's floor
and the instalment terms. Read once per process; the plans and the priority read it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from backend.domain import plans as calc
from config import CONFIG_DIR

AUTHORITY_FILE = CONFIG_DIR / "authority.toml"


@dataclass(frozen=True)
class Authority:
    grace_days: int
    promise_grace_days: int
    first_payment: calc.FirstPaymentRule
    roles: dict[str, calc.Limits]
    fee_major: Decimal
    annual_rate_bp: int
    max_term_months: int

    def grace_for(self, kind: str) -> int:
        """Days after an item's date it may still be paid before it is broken."""
        return self.promise_grace_days if kind == "promise" else self.grace_days

    def limits_for(self, role: str) -> calc.Limits | None:
        return self.roles.get(role)

    @property
    def widest(self) -> calc.Limits:
        """Every role's limits at once: beyond these, no one may agree the plan."""
        return calc.Limits(
            max_discount_bp=max(r.max_discount_bp for r in self.roles.values()),
            max_term_months=min(self.max_term_months, max(r.max_term_months for r in self.roles.values())),
            max_first_payment_days=max(r.max_first_payment_days for r in self.roles.values()),
        )


def percent_bp(value: Any, where: str) -> int:
    try:
        return int(Decimal(str(value)) * 100)
    except InvalidOperation:
        raise ValueError(f"{AUTHORITY_FILE.name}: {where}: not a number") from None


@lru_cache(maxsize=4)
def load_authority(path: Path = AUTHORITY_FILE) -> Authority:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    roles = {
        name: calc.Limits(max_discount_bp=percent_bp(r["max_discount_percent"], f"roles.{name}.max_discount_percent"),
                          max_term_months=int(r["max_term_months"]),
                          max_first_payment_days=int(r["max_first_payment_days"]))
        for name, r in data.get("roles", {}).items()
    }
    first = data.get("first_payment", {})
    inst = data.get("instalment", {})
    return Authority(
        grace_days=int(data.get("grace_days", 3)),
        promise_grace_days=int(data.get("promise_grace_days", data.get("grace_days", 3))),
        first_payment=calc.FirstPaymentRule(min_share_bp=percent_bp(first.get("min_share_percent", "5"), "first_payment"),
                                            min_fixed_major=int(first.get("min_fixed", 100))),
        roles=roles,
        fee_major=Decimal(str(inst.get("fee", "0"))),
        annual_rate_bp=percent_bp(inst.get("annual_interest_percent", "0"), "instalment.annual_interest_percent"),
        max_term_months=min(int(inst.get("max_term_months", calc.MAX_TERM_MONTHS)), calc.MAX_TERM_MONTHS),
    )
