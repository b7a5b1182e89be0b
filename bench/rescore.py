"""Rescoring a million accounts (issue 6, item 6): the scorecard on each account's
history, and the strategy's priority with it.

    python bench/rescore.py [--accounts 1000000]                    # in memory
    python bench/rescore.py --db URL [--skip-memory] [--workers N] [--batch N]  # and through a database

**In memory** (unless ``--skip-memory``): N accounts cycling over the 24,000 real
histories of ``../shared/data/uci_credit_card`` (synthetic ones when absent),
three times: the risk alone (``features_from_history`` and ``probability``); the
full ``score`` (probability, points, top reasons); and the full score with the
strategy's ``rank`` (priority and reasons, champion or challenger by the account
reference), which is what a rescore writes. One process, one core.

**Through a database** (``--db``): the product's own pass, ``rescore_portfolio``
(what ``collectdesk rescore`` runs), on a database with N accounts in the real
schema, such as the one ``bench/worklist.py --accounts 1000000`` built (measured
as it is; not wiped). Accounts without a ``history`` are given one first (not
timed). Then three timed passes over every account: after a strategy change
(the expected recovery weighs twice as much, so every account's priority moves
and every account is written), back to the configured strategies (every account
written again), and once more with nothing changed (nothing written). Each
prints the time split into reading, computing and writing, summed over the
processes, and their CPU time. At the end, 300 random accounts are compared with
what ``refresh_priority`` computes for them.

**The lapse storm** (``--db URL --lapse-storm N``, issue 19 item 5): the stored phone
answers of N accounts lapse at once (their ``recheck_at`` set in the past, not timed),
as when a call window opens for whole zones, and ``refresh_all_due`` (what the
background re-check and ``collectdesk rescore`` run) evaluates them again, timed: the
accounts with no contact history by kind (one engine evaluation per kind), the others
one by one. Then ``--check`` random accounts of the N are compared with what the
engine gives them one by one (``refresh_priority``), every stored column.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.domain.accounts import bucket_for  # noqa: E402
from backend.domain.strategy import RankInputs, load_split, rank  # noqa: E402
from backend.scoring.bench import histories  # noqa: E402
from backend.scoring.features import features_from_history  # noqa: E402
from backend.scoring.scorecard import load_scorecard  # noqa: E402
from backend.services.ranking import risk_of  # noqa: E402
from backend_client.money import exponent  # noqa: E402

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


def check_against_service(engine, sample: int) -> None:  # noqa: ANN001
    """The stored results of ``sample`` random accounts against ``refresh_priority`` itself."""
    import datetime as dt
    import random

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.models import Account
    from backend.services.compliance import histories_of
    from backend.services.ranking import plan_rows, refresh_priority

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


def heavier(split):  # noqa: ANN001, ANN201
    """The configured strategies with the expected recovery weighing twice as much:
    a strategy change that moves every account's priority."""
    import dataclasses

    return dataclasses.replace(
        split, champion=dataclasses.replace(split.champion, expected_recovery=split.champion.expected_recovery * 2),
        challenger=dataclasses.replace(split.challenger, expected_recovery=split.challenger.expected_recovery * 2))


def through_database(url: str, batch: int, workers: int, check: int) -> None:
    """Three passes of the product's ``rescore_portfolio`` (``collectdesk rescore``):
    after a strategy change (every account is written), back to the configured
    strategies (every account again), and once more with nothing changed."""
    from sqlalchemy import text

    from backend.db import make_engine, normalize_url
    from backend.models import utcnow
    from backend.services.rescore import default_workers, rescore_portfolio

    url = normalize_url(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
        conn.rollback()
    print(f"\ndatabase: {engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info or ()))}, "
          f"{total:,} accounts; {workers or default_workers(engine.dialect.name, os.cpu_count() or 1, total)} "
          f"process(es), batches of {batch or 'the default'}", flush=True)
    give_histories(engine)
    engine.dispose()
    split = load_split()
    for label, strategies in (("strategy changed (expected recovery x2)", heavier(split)),
                              ("back to the configured strategies", split),
                              ("nothing changed since", split)):
        before = load()
        done = rescore_portfolio(url, utcnow(), workers=workers or None, batch=batch or None, split=strategies)
        n = max(done.accounts + done.lapsed, 1)
        print(f"  {label}: {done.accounts + done.lapsed:,} accounts in {done.elapsed:.1f} s "
              f"({n / done.elapsed:,.0f} a second); written {done.changed:,}, raced {done.raced:,}, "
              f"lapsed answers {done.lapsed:,}; summed over the processes: reading {done.reading:.1f} s, "
              f"computing {done.computing:.1f} s, writing {done.writing:.1f} s (wall), CPU {done.cpu:.1f} s "
              f"({done.cpu / n * 1e6:.0f} µs an account, not counting PostgreSQL's server); phases "
              + ", ".join(f"{k} {v:.1f} s" for k, v in done.phases.items())
              + f"; load average {before} -> {load()}", flush=True)
    if check:
        engine = make_engine(url)
        check_against_service(engine, check)
        engine.dispose()


def lapse_storm(url: str, n: int, check: int, batch: int = 0) -> None:
    """N stored answers lapse at once; ``refresh_all_due`` evaluates them again (timed)."""
    import random

    from sqlalchemy import select, text, update
    from sqlalchemy.orm import Session

    from backend.db import make_engine, normalize_url
    from backend.models import EPOCH, Account, Contact, utcnow
    from backend.services import ranking
    from backend.services.compliance import histories_of
    from backend.services.ranking import plan_rows, refresh_all_due, refresh_priority

    engine = make_engine(normalize_url(url))
    with Session(engine) as session:
        total = session.execute(text("SELECT count(*) FROM accounts")).scalar()
        ids = list(session.scalars(select(Account.id).where(Account.status != "closed").order_by(Account.id)
                                   .limit(n)))
        session.execute(update(Account).where(Account.id <= ids[-1]).values(recheck_at=EPOCH))
        with_history = session.scalar(select(text("count(DISTINCT account_id)")).select_from(Contact)
                                      .where(Contact.account_id <= ids[-1]))
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE accounts"))
    print(f"\nlapse storm: {engine.dialect.name}, {total:,} accounts, the phone answers of {len(ids):,} lapsed "
          f"({with_history:,} of them with contacts); batches of {batch or 'the default'}", flush=True)
    now = utcnow()
    kinds = ranking.Kinds(now)
    before = load()
    t, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        done = refresh_all_due(session, now, kinds=kinds, **({'batch': batch} if batch else {}))
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"  refresh_all_due: {done:,} accounts in {took:.1f} s ({done / took:,.0f} a second), CPU of this process "
          f"{cpu:.1f} s ({cpu / max(done, 1) * 1e6:.0f} µs an account, not counting PostgreSQL's server); "
          f"{kinds.evaluated:,} kinds evaluated by the engine; load average {before} -> {load()}", flush=True)
    if check:
        with Session(engine) as session:
            sample = sorted(random.Random(5).sample(ids, min(check, len(ids))))
            stored = {r[0]: r[1:] for r in session.execute(
                select(Account.id, Account.priority, Account.reasons, Account.contactable, Account.risk,
                       Account.strategy, Account.next_contact_at, Account.contact_blocks, Account.recheck_at)
                .where(Account.id.in_(sample)))}
            accounts = session.scalars(select(Account).where(Account.id.in_(sample))).all()
            contacts, plans = histories_of(session, sample, now), plan_rows(session, sample)
            same = 0
            for a in accounts:
                v = refresh_priority(session, a, now, history=contacts[a.id], plans=plans[a.id], write=False)
                mine = (v["priority"], v["reasons"], v["contactable"], v["risk"], v["strategy"], v["next_contact_at"],
                        v["contact_blocks"], v["recheck_at"])
                if mine == tuple(stored[a.id]):
                    same += 1
                elif len(accounts) - same <= 3:
                    print(f"  differs from the engine one by one: account {a.id}: {stored[a.id]} != {mine}")
            session.rollback()
        print(f"  check: {same} of {len(accounts)} random accounts of the storm as the engine gives them one by one "
              f"(at the storm's instant, every stored column)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts in memory (default 1,000,000)")
    parser.add_argument("--db", help="also rescore every account of this database (it is changed, not wiped)")
    parser.add_argument("--batch", type=int, default=0, help="accounts a transaction (default: the product's, 5,000 on PostgreSQL, 25,000 on SQLite)")
    parser.add_argument("--workers", type=int, default=0,
                        help="processes for the database pass (id ranges; default the product's: one per CPU, "
                             "one more on PostgreSQL)")
    parser.add_argument("--check", type=int, default=300,
                        help="compare this many random accounts with refresh_priority afterwards (0: no check)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--lapse-storm", type=int, default=0, metavar="N",
                        help="with --db: only the lapse storm, N phone answers lapsed at once and evaluated again")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    if args.lapse_storm:
        if not args.db:
            parser.error("--lapse-storm needs --db")
        lapse_storm(args.db, args.lapse_storm, args.check, args.batch)
        return
    if not args.skip_memory:
        in_memory(args.accounts)
    if args.db:
        through_database(args.db, args.batch, args.workers, args.check)


if __name__ == "__main__":
    main()
