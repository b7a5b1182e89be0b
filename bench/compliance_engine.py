"""Cost of one compliance verdict for an account with a year of contact history.

    python bench/compliance_engine.py [--contacts 300] [--runs 2000]

Prints the mean and p95 of ``evaluate``, of ``next_allowed``, of ``contact_state`` (what the
worklist keeps per account) and of ``counts`` (target ≤ 200 µs a verdict), for a customer in
one zone and in four, in New York (Reg F) and in Massachusetts (two pools of numbers, texts
counted), without a flag history and with one (flags set and lifted over the year, judged
at the instant asked): the lines without the history are the anchor for those with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from backend.compliance.engine import FlagPeriod, PastContact, Subject, contact_state, counts, evaluate, next_allowed
from backend.compliance.policy import applicable, default_policies

PHONES = ("+16175550101", "+16175550102", "+16175550103")
KINDS = {"+16175550101": "home", "+16175550102": "work", "+16175550103": "mobile"}


def history(n: int, end: dt.datetime, rng: random.Random) -> list[PastContact]:
    """A year of contacts: mostly calls to the consumer's numbers, some to the attorney
    and to third parties, call backs asked for, a few texts and e-mails."""
    out = []
    for _ in range(n):
        at = end - dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        outcome = rng.choice(["NA", "NA", "VM", "LM", "BSY", "DISC", "RPC", "WN", "TPC"])
        party = "third_party" if outcome == "TPC" else rng.choice(["debtor"] * 9 + ["attorney"])
        result = rng.choice(["RTP", "CB", "PTP"]) if outcome == "RPC" else None
        out.append(PastContact(at=at, channel=rng.choice(["phone", "phone", "phone", "email", "sms"]),
                               direction="outbound" if rng.random() < 0.9 else "inbound", party=party,
                               outcome=outcome, result=result, used=rng.choice(PHONES + ("+16175550199",)),
                               callback_at=at + dt.timedelta(days=1) if result == "CB" else None))
    return sorted(out, key=lambda c: c.at)


def flag_history(end: dt.datetime) -> tuple[FlagPeriod, ...]:
    """Flags set and lifted over the year: a dispute, a complaint, a cease by e-mail, an attorney."""
    day = dt.timedelta(days=1)
    return (FlagPeriod("dispute", end - 300 * day, end - 280 * day), FlagPeriod("complaint", end - 200 * day, end - 190 * day),
            FlagPeriod("cease", end - 150 * day, None, "email"), FlagPeriod("attorney", end - 120 * day, end - 90 * day),
            FlagPeriod("cease", end - 60 * day, end - 30 * day, "sms"), FlagPeriod("hardship", end - 20 * day, None))


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
    flags = flag_history(now)
    print(f"{args.contacts} contacts, {args.runs} runs each; mean / p95 in µs")
    for region in ("NY", "MA"):
        policies = applicable(default_policies(), "US", region)
        for label, zones in (("one zone", ("America/New_York",)),
                             ("four zones", ("America/New_York", "America/Chicago", "America/Denver",
                                             "America/Los_Angeles"))):
            for with_flags in (False, True):
                subject = Subject(zones=zones, country="US", region=region, phones=PHONES, phone_kinds=KINDS,
                                  flag_history=flags if with_flags else None)
                ev = measure(lambda s=subject, p=policies: evaluate(p, s, hist, "phone", now), args.runs)
                nx = measure(lambda s=subject, p=policies: next_allowed(p, s, hist, "phone", now + dt.timedelta(hours=6)),
                             args.runs)
                st = measure(lambda s=subject, p=policies: contact_state(p, s, hist, "phone", now), args.runs)
                ct = measure(lambda s=subject, p=policies: counts(p, s, hist, "phone", now), args.runs)
                print(f"{region} {label:10s} {'flag history' if with_flags else 'flags now':12s}  "
                      f"evaluate {ev[0]:6.1f} / {ev[1]:6.1f}   next_allowed {nx[0]:6.1f} / {nx[1]:6.1f}   "
                      f"contact_state {st[0]:6.1f} / {st[1]:6.1f}   counts {ct[0]:6.1f} / {ct[1]:6.1f}")


if __name__ == "__main__":
    main()
