"""What each contact outcome counts as (SPEC §3)."""

from __future__ import annotations

from typing import NamedTuple


class Counts(NamedTuple):
    worked: bool
    attempted: bool
    contacted: bool


# worked: the account was acted on; attempted: a contact attempt that reached
# the line (busy and disconnected never connected); contacted: someone spoke.
OUTCOME_COUNTS: dict[str, Counts] = {
    "NA": Counts(worked=True, attempted=True, contacted=False),
    "BSY": Counts(worked=True, attempted=False, contacted=False),
    "VM": Counts(worked=True, attempted=True, contacted=False),
    "LM": Counts(worked=True, attempted=True, contacted=False),
    "WN": Counts(worked=True, attempted=True, contacted=False),
    "DISC": Counts(worked=True, attempted=False, contacted=False),
    "TPC": Counts(worked=True, attempted=True, contacted=True),
    "RPC": Counts(worked=True, attempted=True, contacted=True),
}

# Results that need a promise amount and date, and results that need a time.
NEEDS_PTP = {"PTP"}
NEEDS_CALLBACK = {"CB"}


def counts_for(outcome: str) -> Counts:
    return OUTCOME_COUNTS[outcome]


def validate_contact(outcome: str, result: str | None, party: str, has_ptp: bool, has_callback: bool) -> list[tuple[str, str]]:
    """Field problems with a contact's outcome and result, as ``(field, message)``."""
    problems: list[tuple[str, str]] = []
    if outcome == "RPC":
        if result is None:
            problems.append(("result", "a right-party contact needs a result"))
    elif result is not None:
        problems.append(("result", "only a right-party contact (RPC) has a result"))
    if result in NEEDS_PTP and not has_ptp:
        problems.append(("ptp", "a promise to pay needs an amount and a date"))
    if has_ptp and result not in NEEDS_PTP:
        problems.append(("ptp", "a promise amount goes only with the PTP result"))
    if result in NEEDS_CALLBACK and not has_callback:
        problems.append(("callback_at", "a call back needs the time the customer named"))
    if outcome == "TPC" and party == "debtor":
        problems.append(("party", "a third-party contact (TPC) cannot be with the debtor"))
    if outcome == "RPC" and party == "third_party":
        problems.append(("party", "a right-party contact (RPC) is with the debtor or their attorney"))
    return problems
