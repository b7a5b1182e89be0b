"""Exactly once through crashes, at a size of your choosing: the scenario of
``tests/api/test_kill_once.py`` (saves with ``Idempotency-Key`` over HTTP, a real
``collectdesk serve`` SIGKILLed among them and started again, every save retried
with its key until answered; every tenth sent twice at once), with figures.

    python bench/kill_once.py [--saves 500] [--in-flight 64] [--kills 2] [--db URL]

The default database is a SQLite file under bench/out/ (rebuilt). For PostgreSQL,
name a scratch database that may be wiped (its ``public`` schema is dropped), e.g.
``--db postgresql://postgres@127.0.0.1:55471/collectdesk_kill``. The kills come
when 1/(2k+1), 3/(2k+1), ... of the saves are answered. Prints the saves, kills,
attempts, retries, answers lost, replays, lost, doubled and the time taken; exits
1 if any save was lost or written twice (or not answered in ``--deadline`` s).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from backend.db import make_engine, normalize_url  # noqa: E402
from tests.procs import Backend, seed_database  # noqa: E402


def load_scenario():  # noqa: ANN201
    return importlib.import_module("tests.api.test_kill_once")


def fresh(url: str | None) -> str:
    if url is None:
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out / 'kill_once.db'}{suffix}").unlink(missing_ok=True)
        return seed_database(f"sqlite:///{out / 'kill_once.db'}")
    url = normalize_url(url)
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return seed_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds the saves may take (default 300)")
    parser.add_argument("--db", metavar="URL", help="a scratch database (wiped); default a SQLite file in bench/out")
    args = parser.parse_args()

    scenario = load_scenario()
    scenario.SAVES, scenario.IN_FLIGHT, scenario.DEADLINE_S = args.saves, args.in_flight, args.deadline
    scenario.KILL_AT = tuple(args.saves * (2 * i + 1) // (2 * args.kills + 1) for i in range(args.kills))
    url = fresh(args.db)
    backend = Backend(url, ROOT / "bench" / "out" / "kill_once_server.log")
    backend.log.parent.mkdir(parents=True, exist_ok=True)
    backend.start()
    started = time.monotonic()
    try:
        saves, twins, figures, agent, seen, elapsed = asyncio.run(scenario.scenario(backend))
    except AssertionError as exc:
        print(f"FAILED after {time.monotonic() - started:.1f} s: {exc}")
        return 1
    finally:
        backend.kill()
    markers = {s.marker for s in saves}
    lost = len(markers - set(seen))
    doubled = sum(1 for found in seen.values() if len(found) > 1)
    print(f"database        {url.split('://')[0].split('+')[0]} (load average {os.getloadavg()[0]:.1f})")
    print(f"saves           {len(saves)} (+{len(twins)} twins), {args.in_flight} in flight")
    print(f"kills           {backend.kills - 1} during the saves, at {list(scenario.KILL_AT)} answered")
    print(f"attempts        {sum(s.attempts for s in saves + twins)}; saves retried "
          f"{sum(s.attempts > 1 for s in saves + twins)}")
    print(f"refused / lost  {figures.refused_connections} connections refused, {figures.answers_lost} answers lost")
    print(f"replayed        {sum(s.replayed for s in saves + twins)} "
          f"({sum(s.replayed for s in saves if s.n % scenario.TWIN_EVERY)} without a twin)")
    print(f"statuses        {dict(figures.statuses)}")
    print(f"lost / doubled  {lost} / {doubled}")
    print(f"elapsed         {elapsed:.1f} s for the saves")
    return 0 if lost == doubled == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
