"""Rescoring a million accounts (issue 6, item 6): the scorecard on each account's
history, and the strategy's priority with it.

    python bench/rescore.py [--accounts 1000000]                    # in memory
    python bench/rescore.py --db URL [--accounts N] [--batch 5000]  # and through a database

**In memory** (unless ``--skip-memory``): N accounts cycling over the 24,000 real
histories of ``../shared/data/uci_credit_card`` (synthetic ones when absent),
three times: the risk alone (``features_from_history`` and ``probability``); the
full ``score`` (probability, points, top reasons); and the full score with the
strategy's ``rank`` (priority and reasons, champion or challenger by the account
reference), which is what a rescore writes. One process, one core.

**Through a database** (``--db``): a database with N accounts in the real schema,
such as the one ``bench/worklist.py --accounts 1000000`` built (which it
measures as it is; it is not wiped). Accounts without a ``history`` are given one
first (not timed). Then, timed: every account is read in id order in batches
(id, history and what ``rank`` needs), scored and ranked, and its ``risk``,
``priority``, ``reasons`` and ``strategy`` written back with one executemany
``UPDATE`` per batch and a commit per batch. The time is split into reading,
computing and writing.

What the database pass leaves out, and ``refresh_priority`` does on a change:
the contact history and plans of each account (promises and call-backs due,
days since contact) and the compliance engine's answer. Those change with the
work done, not with the score; the bench keeps each account's stored
``contactable`` and counts no promises, call-backs or contacts (the bench
accounts have none).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.domain.accounts import bucket_for  # noqa: E402
from backend.domain.money import exponent  # noqa: E402
from backend.domain.strategy import RankInputs, load_split, rank  # noqa: E402
from backend.scoring.bench import histories  # noqa: E402
from backend.scoring.features import features_from_history  # noqa: E402
from backend.scoring.scorecard import load_scorecard  # noqa: E402
from backend.services.accounts import risk_of  # noqa: E402

PAUSING = ("complaint", "dispute", "bankruptcy", "deceased")
#: No history: SQL NULL, or the JSON null SQLAlchemy's JSON type writes for None.
NO_HISTORY = "(accounts.history IS NULL OR CAST(accounts.history AS TEXT) = 'null')"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def rescore_one(split, ref: str, history: dict | None, dpd: int, bucket: str | None, overdue: int,
                currency: str, flags: dict | None, contactable: bool, exponents: dict) -> tuple:
    """What ``refresh_priority`` computes for an account with no contacts and no
    plans, given its stored phone answer: (risk, priority, reasons, strategy)."""
    p_default, risk_reasons = risk_of(history)
    strategy = split.for_account(ref)
    p = rank(strategy, RankInputs(
        dpd=dpd, bucket=bucket or bucket_for(dpd), overdue_minor=overdue, currency=currency,
        exponent=exponents[currency], p_default=p_default, risk_reasons=tuple(risk_reasons),
        paused=any((flags or {}).get(f) for f in PAUSING), contactable=contactable))
    return p_default, p.value, [r.as_dict() for r in p.reasons], strategy.id


def in_memory(n: int) -> None:
    hs, what = histories()
    card, split = load_scorecard(), load_split()
    exponents = {c: exponent(c) for c in ("USD", "CNY", "TWD")}
    print(f"in memory: {n:,} accounts cycling over {what}; one core")

    def risk_only() -> None:
        for h in islice(cycle(hs), n):
            card.probability(features_from_history(h))

    def with_reasons() -> None:
        for h in islice(cycle(hs), n):
            card.score(features_from_history(h))

    def and_rank() -> None:
        for i, h in enumerate(islice(cycle(hs), n)):
            rescore_one(split, f"BNK{i:08d}", h, 45, None, 123_400, "USD", None, True, exponents)

    for label, fn in (("features + probability (the risk alone)", risk_only),
                      ("features + score (probability, points, reasons)", with_reasons),
                      ("features + score + strategy rank (what a rescore writes)", and_rank)):
        before = load()
        t, cpu = time.perf_counter(), time.process_time()
        fn()
        dt, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"  {label:<58} {dt:6.1f} s ({dt / n * 1e6:5.1f} µs an account), CPU {cpu:6.1f} s "
              f"({cpu / n * 1e6:5.1f} µs); load average {before} -> {load()}", flush=True)


def give_histories(engine) -> None:  # noqa: ANN001
    """Accounts without a ``history`` get one of the real ones (not timed)."""
    from sqlalchemy import bindparam, select, text, update

    from backend.models import Account

    table = Account.__table__
    with engine.connect() as conn:
        missing = conn.execute(text(f"SELECT count(*) FROM accounts WHERE {NO_HISTORY}")).scalar()
        conn.rollback()
    if not missing:
        return
    hs, what = histories()
    t = time.perf_counter()
    source = cycle(hs)
    last = 0
    with engine.begin() as conn:
        while True:
            ids = conn.execute(select(table.c.id).where(table.c.id > last, text(NO_HISTORY))
                               .order_by(table.c.id).limit(20_000)).scalars().all()
            if not ids:
                break
            conn.execute(update(table).where(table.c.id == bindparam("b_id"))
                         .values(history=bindparam("b_history")),
                         [{"b_id": i, "b_history": next(source)} for i in ids])
            last = ids[-1]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE accounts"))
    print(f"  gave {missing:,} accounts a history from {what} in {time.perf_counter() - t:.1f} s (not timed)",
          flush=True)


def rescore_range(url: str, first: int, last_id: int, batch: int) -> tuple[int, float, float, float, float]:
    """Rescore the accounts with ``first <= id <= last_id``, a batch per transaction.
    Returns (accounts, seconds reading, computing, writing, CPU seconds of this process)."""
    cpu = time.process_time()
    from sqlalchemy import bindparam, select, update

    from backend.db import make_engine
    from backend.models import Account

    engine = make_engine(url)
    split = load_split()
    table = Account.__table__
    exponents: dict[str, int] = {}
    columns = (table.c.id, table.c.account_ref, table.c.history, table.c.dpd, table.c.bucket, table.c.overdue_minor,
               table.c.currency, table.c.flags, table.c.contactable)
    write = (update(table).where(table.c.id == bindparam("b_id"))
             .values(risk=bindparam("b_risk"), priority=bindparam("b_priority"), reasons=bindparam("b_reasons"),
                     strategy=bindparam("b_strategy")))
    reading = computing = writing = 0.0
    done = 0
    last = first - 1
    with engine.connect() as conn:
        while True:
            t0 = time.perf_counter()
            rows = conn.execute(select(*columns).where(table.c.id > last, table.c.id <= last_id)
                                .order_by(table.c.id).limit(batch)).all()
            # End the reading transaction: on SQLite it holds the one write lock (BEGIN IMMEDIATE).
            conn.rollback()
            t1 = time.perf_counter()
            if not rows:
                break
            out = []
            for i, ref, history, dpd, bucket, overdue, currency, flags, contactable in rows:
                if isinstance(history, str):  # a driver that hands JSON back as text
                    history = json.loads(history)
                if currency not in exponents:
                    exponents[currency] = exponent(currency)
                risk, priority, reasons, strategy = rescore_one(split, ref, history, dpd, bucket, overdue,
                                                                currency, flags, contactable, exponents)
                out.append({"b_id": i, "b_risk": risk, "b_priority": priority, "b_reasons": reasons,
                            "b_strategy": strategy})
            t2 = time.perf_counter()
            conn.execute(write, out)
            conn.commit()
            t3 = time.perf_counter()
            reading, computing, writing = reading + t1 - t0, computing + t2 - t1, writing + t3 - t2
            done += len(rows)
            last = rows[-1][0]
    engine.dispose()
    return done, reading, computing, writing, time.process_time() - cpu


def check_against_service(engine, sample: int) -> None:  # noqa: ANN001
    """The stored results of ``sample`` random accounts against ``refresh_priority`` itself."""
    import datetime as dt
    import random

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.models import Account
    from backend.services.accounts import plan_rows, refresh_priority
    from backend.services.compliance import histories_of

    with Session(engine) as session:
        top = session.scalar(select(Account.id).order_by(Account.id.desc()).limit(1)) or 0
        ids = sorted(random.Random(3).sample(range(1, top + 1), min(sample, top)))
        accounts = session.scalars(select(Account).where(Account.id.in_(ids))).all()
        now = dt.datetime.now(dt.UTC)
        contacts, plans = histories_of(session, ids, now), plan_rows(session, ids)
        same = differ = answer_moved = 0
        for account in accounts:
            stored = (account.risk, account.priority, account.reasons, account.strategy)
            values = refresh_priority(session, account, now, history=contacts[account.id], plans=plans[account.id],
                                      write=False)
            if values["contactable"] != account.contactable:
                answer_moved += 1  # a call window opened or closed since the answer was stored
            elif (values["risk"], values["priority"], values["reasons"], values["strategy"]) == stored:
                same += 1
            else:
                differ += 1
                if differ <= 3:
                    print(f"  differs from refresh_priority: account {account.id}: {stored} != "
                          f"{(values['risk'], values['priority'], values['reasons'], values['strategy'])}")
        session.rollback()
    print(f"  check: {same} of {len(accounts)} random accounts as refresh_priority computes them, {differ} not; "
          f"{answer_moved} not compared (their phone answer has changed since it was stored)")


def through_database(url: str, batch: int, workers: int, check: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from sqlalchemy import text

    from backend.db import make_engine, normalize_url

    url = normalize_url(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
        low, high = conn.execute(text("SELECT min(id), max(id) FROM accounts")).one()
        conn.rollback()
    print(f"\ndatabase: {engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info or ()))}, "
          f"{total:,} accounts", flush=True)
    give_histories(engine)
    # Contiguous id ranges, one per process.
    step = (high - low + workers) // workers
    ranges = [(low + k * step, min(low + (k + 1) * step - 1, high)) for k in range(workers)]
    print(f"  load average {load()} before; {workers} process(es), batches of {batch:,}", flush=True)
    started = time.perf_counter()
    if workers == 1:
        parts = [rescore_range(url, *ranges[0], batch)]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(rescore_range, [url] * workers, [a for a, _ in ranges], [b for _, b in ranges],
                                  [batch] * workers))
    elapsed = time.perf_counter() - started
    done = sum(p[0] for p in parts)
    reading, computing, writing, cpu = (sum(p[k] for p in parts) for k in (1, 2, 3, 4))
    print(f"  rescored and re-ranked {done:,} accounts in {elapsed:.1f} s ({done / elapsed:,.0f} a second); "
          f"summed over the processes: reading {reading:.1f} s, computing {computing:.1f} s, writing {writing:.1f} s "
          f"(wall), CPU {cpu:.1f} s ({cpu / max(done, 1) * 1e6:.0f} µs an account, not counting PostgreSQL's server); "
          f"load average {load()} after", flush=True)
    if check:
        check_against_service(engine, check)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts in memory (default 1,000,000)")
    parser.add_argument("--db", help="also rescore every account of this database (it is changed, not wiped)")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="processes for the database pass (id ranges)")
    parser.add_argument("--check", type=int, default=300,
                        help="compare this many random accounts with refresh_priority afterwards (0: no check)")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    if not args.skip_memory:
        in_memory(args.accounts)
    if args.db:
        through_database(args.db, args.batch, args.workers, args.check)


if __name__ == "__main__":
    main()
