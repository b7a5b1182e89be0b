"""Rescoring the whole portfolio (issue 6): every account's risk from its own
statement history, and its priority, reasons and strategy, exactly as
``refresh_priority`` computes them, for a million accounts in about a minute.

``refresh_priority`` does one account (after a payment, a contact, a plan) and
``ranking.refresh_due`` the accounts whose phone answer lapsed. This is the
pass over every account: after the scorecard or a strategy changes, or nightly
(``collectdesk rescore``). What makes it fast without changing the answer:

- the accounts are split into id ranges, one process each (``workers``); a batch
  is read in one query of plain columns, and the last contact and the open plans
  of the whole batch in one query each;
- the stored phone answer is used while it holds (``recheck_at`` in the future):
  the compliance engine is not asked again; accounts whose answer has lapsed are
  passed to ``refresh_due`` at the end, which asks it;
- only accounts whose risk, priority, reasons or strategy change are written,
  with one statement per batch (PostgreSQL: ``UPDATE … FROM unnest(arrays)``;
  SQLite: one executemany), and only if nobody wrote the account since it was
  read (its ``updated_at``): a save that raced the pass keeps its own answer,
  and no lock is held while computing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, String, func, select, type_coerce

from backend.domain.accounts import bucket_for
from backend.domain.strategy import RankInputs, Split, rank
from backend.models import Account, Contact, Plan, utcnow
from backend.services import configuration
from backend.services.compliance import HISTORY_DAYS
from backend.services.ranking import (  # noqa: F401 (the pass's own, kept importable from here)
    SQLITE_WRITER_PRAGMAS,
    PlanRow,
    paused_by,
    plan_row,
    plan_rows_query,
    reasons_json,
    risk_of,
    sqlite_writer,
    work_due,
)
from backend_client.money import exponent

BATCH = 5000
#: SQLite rewrites each index page a batch touches (random priorities touch most of
#: the three priority indexes' leaves): 25,000 a batch wrote 69 µs an account where
#: 5,000 wrote 110 µs, for a write lock held about 1.5 s a batch.
SQLITE_BATCH = 25_000
#: Fewer accounts than this are rescored in one process unless told otherwise.
SMALL = 50_000
#: Stored flags that pause nothing (read as text, not parsed).
NO_FLAGS = (None, "{}", "null")


@dataclass
class Rescored:
    """What a pass did; the seconds are summed over its processes (wall time)."""

    accounts: int = 0
    changed: int = 0
    """Written: their risk, priority, reasons or strategy changed."""
    raced: int = 0
    """Changed by someone else between reading and writing: left as that save left them."""
    lapsed: int = 0
    """Their phone answer had lapsed: evaluated again by ``refresh_due``, compliance engine and all."""
    reading: float = 0.0
    computing: float = 0.0
    writing: float = 0.0
    cpu: float = 0.0
    """CPU seconds of the processes that computed (not the database server's)."""
    elapsed: float = 0.0
    workers: int = 1
    phases: dict[str, float] = field(default_factory=dict)

    def add(self, other: Rescored) -> None:
        for name in ("accounts", "changed", "raced", "lapsed", "reading", "computing", "writing", "cpu"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _Batch:
    """Reads, ranks and writes the accounts of one id range, a batch at a time."""

    def __init__(self, engine: Engine, now: dt.datetime, split: Split) -> None:
        self.engine, self.now, self.split = engine, now, split
        self.postgres = engine.dialect.name == "postgresql"
        t = Account.__table__
        process = t.c.updated_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        self.stamp: Callable[[dt.datetime], Any] = process or (lambda value: value)
        # What is only compared or handed back is read as the driver gives it (no
        # conversion a row: a million rows): reasons and flags as stored JSON text;
        # recheck_at and updated_at as PostgreSQL's timestamps, or SQLite's text,
        # which sorts as the instants do and is compared with ``now`` in that form.
        if self.postgres:
            def raw(c):  # noqa: ANN001, ANN202
                return c.cast(String) if isinstance(c.type, JSON) else type_coerce(c, DateTime(timezone=True))
            self.now_key: Any = now
        else:
            def raw(c):  # noqa: ANN001, ANN202
                return type_coerce(c, String)
            self.now_key = self.stamp(now)
        self.columns = (t.c.id, t.c.account_ref, t.c.history, t.c.dpd, t.c.bucket, t.c.overdue_minor, t.c.currency,
                        raw(t.c.flags), t.c.contactable, raw(t.c.recheck_at), t.c.risk, t.c.priority, t.c.strategy,
                        raw(t.c.reasons), raw(t.c.updated_at), t.c.credit_limit_minor)
        self.exponents: dict[str, int] = {}

    def _last_contacts(self, conn: Any, low: int, high: int) -> dict[int, Any]:
        since = self.now - dt.timedelta(days=HISTORY_DAYS)
        last: dict[int, Any] = {}
        for r in conn.execute(
            select(Contact.account_id, Contact.started_at.label("at"), Contact.result, Contact.callback_at,
                   Contact.ptp_date)
            .where(Contact.account_id.between(low, high), Contact.started_at >= since)
            .order_by(Contact.account_id, Contact.started_at, Contact.id)
        ):
            last[r.account_id] = r  # ordered: the last one read is the newest, as history[-1]
        return last

    def _plans(self, conn: Any, low: int, high: int) -> dict[int, list[PlanRow]]:
        found: dict[int, list[PlanRow]] = {}
        for account_id, *row in conn.execute(plan_rows_query(Plan.account_id.between(low, high))):
            found.setdefault(account_id, []).append(plan_row(*row))
        return found

    def run(self, reader: Any, conn: Any, after: int, last_id: int, size: int, out: Rescored) -> int | None:
        """One batch of ids above ``after`` (up to ``last_id``), read on ``reader`` and written
        on ``conn``; the last id done, None when none are left."""
        t0 = time.perf_counter()
        rows = reader.execute(select(*self.columns).where(Account.id > after, Account.id <= last_id)
                            .order_by(Account.id).limit(size)).all()
        if not rows:
            reader.rollback()
            return None
        low, high = rows[0][0], rows[-1][0]
        contacts, plans = self._last_contacts(reader, low, high), self._plans(reader, low, high)
        reader.rollback()  # no snapshot held while computing
        t1 = time.perf_counter()
        now, now_key, split, exponents = self.now, self.now_key, self.split, self.exponents
        changed: list[tuple] = []
        lapsed = 0
        for (i, ref, history, dpd, bucket, overdue, currency, flags, contactable, recheck_at, risk, priority,
             strategy_id, reasons_text, seen, limit_minor) in rows:
            if recheck_at <= now_key:
                lapsed += 1  # refresh_due asks the compliance engine for these
                continue
            if isinstance(history, str):  # a driver that hands JSON back as text
                history = json.loads(history)
            paused = flags not in NO_FLAGS and paused_by(json.loads(flags))
            p_default, risk_reasons = risk_of(history, currency, limit_minor)
            promise_due, broken, callback_due, hours_since = work_due(contacts.get(i), plans.get(i, ()), now)
            strategy = split.for_account(ref or "")
            exp = exponents.get(currency)
            if exp is None:
                exp = exponents[currency] = exponent(currency)
            # RankInputs in its fields' order (positional: a third of the time of keywords)
            p = rank(strategy, RankInputs(dpd, bucket or bucket_for(dpd), overdue, currency, exp, p_default,
                                          tuple(risk_reasons), promise_due, broken is not None, callback_due,
                                          paused, contactable, hours_since, broken))
            new_reasons = reasons_json(p.reasons)
            if p.value != priority or p_default != risk or strategy.id != strategy_id or new_reasons != reasons_text:
                changed.append((i, p_default, p.value, strategy.id, new_reasons, seen))
        t2 = time.perf_counter()
        written = self._write(conn, changed) if changed else 0
        t3 = time.perf_counter()
        out.accounts += len(rows) - lapsed
        out.lapsed += lapsed
        out.changed += written
        out.raced += len(changed) - written
        out.reading += t1 - t0
        out.computing += t2 - t1
        out.writing += t3 - t2
        return high

    def _write(self, conn: Any, changed: list[tuple]) -> int:
        if self.postgres:
            ids, risks, priorities, strategies, reasons, seen = (list(c) for c in zip(*changed, strict=True))
            conn.exec_driver_sql("SELECT 1")  # begin through SQLAlchemy, so that its commit commits
            # psycopg's own cursor, arrays sent in binary (%b): in the text format an array of
            # JSON texts is escaped character by character in Python (3 s of CPU a 20,000 accounts).
            with conn.connection.driver_connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE accounts AS a SET risk = u.risk, priority = u.priority, strategy = u.strategy, "
                    "reasons = CAST(u.reasons AS json), updated_at = %s "
                    "FROM unnest(CAST(%b AS integer[]), CAST(%b AS double precision[]), "
                    "CAST(%b AS double precision[]), CAST(%b AS text[]), CAST(%b AS text[]), "
                    "CAST(%b AS timestamptz[])) AS u(id, risk, priority, strategy, reasons, seen) "
                    "WHERE a.id = u.id AND a.updated_at = u.seen",
                    (utcnow(), ids, risks, priorities, strategies, reasons, seen))
                written = cursor.rowcount
        else:
            cursor = conn.connection.driver_connection.cursor()
            conn.exec_driver_sql("SELECT 1")  # begin (IMMEDIATE: the write lock) through SQLAlchemy
            before = conn.connection.driver_connection.total_changes
            stamp = self.stamp(utcnow())  # when it is written, as any other write of the row
            cursor.executemany(
                "UPDATE accounts SET risk = ?, priority = ?, strategy = ?, reasons = ?, updated_at = ? "
                "WHERE id = ? AND updated_at = ?",
                [(r, p, s, why, stamp, i, seen) for i, r, p, s, why, seen in changed])
            written = conn.connection.driver_connection.total_changes - before
            cursor.close()
        conn.commit()
        return written


def rescore_range(engine: Engine, first_id: int, last_id: int, now: dt.datetime, *, batch: int | None = None,
                  split: Split | None = None, progress: Callable[[int], None] | None = None) -> Rescored:
    """Rescore the accounts with ``first_id <= id <= last_id`` (see the module); one batch per transaction."""
    cpu = time.process_time()
    out = Rescored()
    batch = batch or (SQLITE_BATCH if engine.dialect.name == "sqlite" else BATCH)
    worker = _Batch(engine, now, split or configuration.current().split)
    after = first_id - 1
    # Reads on a connection of their own: on SQLite it reads beside the writer (another
    # process's batch) instead of queueing for the one write lock.
    with engine.connect() as conn, engine.connect().execution_options(read_only=True) as reader, \
            (sqlite_writer(conn) if engine.dialect.name == "sqlite" else nullcontext()):
        while True:
            before = out.accounts + out.lapsed
            done = worker.run(reader, conn, after, last_id, batch, out)
            if done is None:
                break
            after = done
            if progress:
                progress(out.accounts + out.lapsed - before)
    out.cpu = time.process_time() - cpu
    return out


def _range_in_process(url: str, first_id: int, last_id: int, now: dt.datetime, batch: int | None,
                      split: Split | None) -> Rescored:
    from backend.db import make_engine

    engine = make_engine(url)
    try:
        return rescore_range(engine, first_id, last_id, now, batch=batch, split=split)
    finally:
        engine.dispose()


def default_workers(dialect: str, cpus: int, accounts: int) -> int:
    """How many processes rescore ``accounts`` when not told: one for a small portfolio (a
    process takes a second or two to start); on PostgreSQL one more than the CPUs, because the
    server does the writes in processes of its own and, while one of ours waits for its batch
    to be written, another computes (a million on two CPUs: 54.2–56.2 s a rewriting pass with
    three, once 62.7 s; 56.4–61.7 s with two; 59.4–61.2 s with four; bench/README); on SQLite one a CPU (its
    writes are done in our processes, one at a time)."""
    if accounts <= SMALL:
        return 1
    return cpus + 1 if dialect == "postgresql" else cpus


def rescore_portfolio(url: str, now: dt.datetime | None = None, *, workers: int | None = None,
                      batch: int | None = None,
                      split: Split | None = None, refresh_lapsed: bool = True,
                      progress: Callable[[int], None] | None = None) -> Rescored:
    """Rescore every account of the database at ``url``: ``workers`` processes on
    id ranges (default: ``default_workers``; one runs in this process), then the accounts
    whose phone answer lapsed through ``refresh_due``. Returns what was done."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.services.ranking import refresh_all_due

    now = now or utcnow()
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            low, high = conn.execute(select(func.min(Account.id), func.max(Account.id))).one()
            conn.rollback()
        if low is None:
            return Rescored()
        if workers is None:
            workers = default_workers(engine.dialect.name, os.cpu_count() or 1, high - low + 1)
        workers = max(1, workers)
        total = Rescored(workers=workers)
        if workers == 1:
            total.add(rescore_range(engine, low, high, now, batch=batch, split=split, progress=progress))
        else:
            step = (high - low + workers) // workers
            ranges = [(low + k * step, min(low + (k + 1) * step - 1, high)) for k in range(workers)]
            engine.dispose()  # no connection crosses into the children
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                for part in pool.map(_range_in_process, [url] * workers, [a for a, _ in ranges],
                                     [b for _, b in ranges], [now] * workers, [batch] * workers, [split] * workers):
                    total.add(part)
                    if progress:
                        progress(part.accounts + part.lapsed)
        total.phases["rescore"] = time.perf_counter() - started
        if refresh_lapsed and total.lapsed:
            t = time.perf_counter()
            with Session(engine) as session:
                refresh_all_due(session, now)
            total.phases["lapsed answers"] = time.perf_counter() - t
    finally:
        engine.dispose()
    total.elapsed = time.perf_counter() - started
    return total
