"""Cost of one compliance verdict for an account with a year of contact history.

    python bench/compliance_engine.py [--contacts 300] [--runs 2000]

Prints the mean and p95 of ``evaluate``, of ``next_allowed`` and of ``contact_state`` (what the
worklist keeps per account) (target ≤ 200 µs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from backend.compliance.engine import PastContact, Subject, contact_state, evaluate, next_allowed
from backend.compliance.policy import applicable, default_policies


def history(n: int, end: dt.datetime, rng: random.Random) -> list[PastContact]:
    out = []
    for _ in range(n):
        at = end - dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        outcome = rng.choice(["NA", "NA", "VM", "LM", "BSY", "DISC", "RPC", "WN"])
        out.append(PastContact(at=at, channel=rng.choice(["phone", "phone", "phone", "email", "sms"]),
                               direction="outbound" if rng.random() < 0.9 else "inbound", party="debtor",
                               outcome=outcome, result="RTP" if outcome == "RPC" else None))
    return sorted(out, key=lambda c: c.at)


def measure(fn, runs: int) -> tuple[float, float]:  # noqa: ANN001
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return statistics.fmean(samples), samples[int(len(samples) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(7)
    now = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    hist = history(args.contacts, now, rng)
    policies = applicable(default_policies(), "US", "NY")
    for label, zones in (("one zone", ("America/New_York",)),
                         ("four zones", ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"))):
        subject = Subject(zones=zones, country="US", region="NY", phones=("+12125550100",))
        ev = measure(lambda s=subject: evaluate(policies, s, hist, "phone", now), args.runs)
        nx = measure(lambda s=subject: next_allowed(policies, s, hist, "phone", now + dt.timedelta(hours=6)), args.runs)
        st = measure(lambda s=subject: contact_state(policies, s, hist, "phone", now), args.runs)
        print(f"{label:10s}  {args.contacts} contacts  evaluate mean {ev[0]:7.1f} µs  p95 {ev[1]:7.1f} µs   "
              f"next_allowed mean {nx[0]:7.1f} µs  p95 {nx[1]:7.1f} µs   "
              f"contact_state (the worklist's) mean {st[0]:7.1f} µs  p95 {st[1]:7.1f} µs")


if __name__ == "__main__":
    main()
