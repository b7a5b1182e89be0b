"""Treatments' throughput (issue 20): messages found due, prepared and checked a second.

    python bench/treatments.py [--db URL] [--accounts 100000] [--send 5000] [--reuse]

Builds a scratch database as ``bench/worklist.py`` does (``--accounts`` accounts over the
demo's countries and zones; the database is wiped first), then makes every open account
1 day past due, so that each is due the first step of its strategy's path (an SMS for the
champion's accounts, an e-mail for the challenger's). Then it times, on this machine:

1. **planning**: finding the steps due for every account and making their rows
   (``treatments.plan``), one transaction;
2. **prepared and checked**: for every row, the message made in the customer's language
   and the compliance engine's answer for its channel at that instant
   (``treatments.prepare``: what a run does before it hands a message over), nothing sent;
3. **the whole send** for the first ``--send`` rows, through ``treatments.send_one``
   with channels that accept at once (no network): the row marked sending, the message
   handed over, the contact and the row recorded, the priority refreshed (three
   transactions a message).

Prints each stage's count, time and rate, with the load average beside. The default
database is a SQLite file under bench/out/; for PostgreSQL name a scratch database that may
be wiped (``--db postgresql://postgres@127.0.0.1:55471/collectdesk_treat``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from backend.channels.result import Outcome, SendResult  # noqa: E402
from backend.db import make_engine, normalize_url  # noqa: E402
from backend.models import Account, TreatmentSend  # noqa: E402
from backend.services import treatments  # noqa: E402
from backend.services.configuration import current as configuration  # noqa: E402
from config.settings import BackendSettings  # noqa: E402

NOW = dt.datetime(2026, 3, 11, 18, 0, tzinfo=dt.UTC)
"""14:00 in New York, 10:00 in Anchorage, 02:00 in Shanghai: the Americas may be written to, Asia waits."""


def accept(*_: object) -> SendResult:
    return SendResult(Outcome.DELIVERED, 250, "accepted (bench: no network)", "sent", provider_ref="bench")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'treatments.db'}")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=5_000, help="rows to send through the whole pipeline")
    parser.add_argument("--reuse", action="store_true", help="the database as an earlier run left it (rows removed)")
    args = parser.parse_args()
    url = normalize_url(args.db)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    import worklist  # bench/worklist.py: the same portfolio builder

    if args.reuse:
        engine = make_engine(url)
    else:
        engine = worklist.reset(url)
        started = time.perf_counter()
        worklist.build(engine, args.accounts)
        print(f"built {args.accounts:,} accounts in {time.perf_counter() - started:.1f} s")
    with Session(engine) as session:
        session.execute(TreatmentSend.__table__.delete())
        session.execute(update(Account).where(Account.status == "open").values(dpd=1))
        session.commit()
        open_accounts = session.scalar(select(Account.id).order_by(Account.id.desc()).limit(1))
    settings = BackendSettings(db=url, smtp_host="relay.invalid", smtp_from="Bank <c@bank.example>",
                               sms_gateway_url="https://gateway.invalid/send", sms_sender="Bank")
    channels = treatments.Channels(email=accept, sms=lambda to, text, key: accept(), email_from="c@bank.example",
                                   opt_out_url=settings.opt_out_url)
    split = configuration().split
    print(f"database {engine.url.render_as_string(hide_password=True)}; last account id {open_accounts}; "
          f"load average {load()}")

    # 1. planning
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        made = treatments.plan(session, split, NOW.date(), now=NOW)
        session.commit()
    elapsed = time.perf_counter() - started
    print(f"planned   {made:>8,} steps due in {elapsed:7.1f} s: {made / elapsed:8,.0f} a second  (load {load()})")

    # 2. prepared and checked
    with Session(engine, expire_on_commit=False) as session:
        ids = list(session.scalars(select(TreatmentSend.id).order_by(TreatmentSend.id)))
    verdicts: Counter[str] = Counter()
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        for start in range(0, len(ids), 1000):
            rows = session.scalars(select(TreatmentSend).where(TreatmentSend.id.in_(ids[start:start + 1000]))).all()
            accounts = {a.id: a for a in session.scalars(
                select(Account).where(Account.id.in_([r.account_id for r in rows])))}
            for row in rows:
                try:
                    treatments.prepare(session, row, accounts[row.account_id], channels, settings, NOW)
                    verdicts["may go now"] += 1
                except treatments.Refused as exc:
                    verdicts[f"{'waits' if exc.until else 'skipped'}: {exc.rule}"] += 1
            session.expire_all()
        session.rollback()
    elapsed = time.perf_counter() - started
    print(f"prepared  {len(ids):>8,} messages, checked, in {elapsed:7.1f} s: {len(ids) / elapsed:8,.0f} a second  "
          f"(load {load()})")
    for what, n in verdicts.most_common():
        print(f"          {n:>8,} {what}")

    # 3. the whole send, without the network
    report = treatments.RunReport(NOW.date())
    outcomes: Counter[str] = Counter()
    chosen = ids[:args.send]
    started = time.perf_counter()
    for row_id in chosen:
        outcomes[treatments.send_one(lambda: Session(engine, expire_on_commit=False), row_id, channels, settings,
                                     lambda: NOW, report, set())] += 1
    elapsed = time.perf_counter() - started
    print(f"sent      {len(chosen):>8,} rows through the whole pipeline in {elapsed:7.1f} s: "
          f"{len(chosen) / elapsed:8,.0f} a second  (load {load()}): "
          + ", ".join(f"{n:,} {k}" for k, n in outcomes.most_common()))
    engine.dispose()


if __name__ == "__main__":
    main()
