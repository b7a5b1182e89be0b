"""*Next account* under load: ``POST /api/v1/worklist/next`` from 50 people at once,
over HTTP, against one backend (``collectdesk serve``, one uvicorn worker).

    python bench/next_account.py [--db URL] [--accounts 100000] [--people 50] [--calls 40] [--reuse]

Builds a scratch database (wiped first; the real schema by Alembic; the accounts
of ``bench/worklist.py``, spread over ``--people`` agents of team A) with
``--people`` agents and as many supervisors in team A. Then two rounds, each with
every person on a keep-alive connection of their own, pressing *next* ``--calls``
times in a row with no pause (a saturating load: a real agent presses it about
once a minute):

- **agents**: each agent's *next* is among their own accounts (``worklist_query``),
  so the agents never want the same account; the database still has one row
  lock (PostgreSQL) or the one write lock (SQLite) per lease;
- **supervisors**: every supervisor's worklist is the whole team, so all of them
  go for the same top accounts at once: the contention case (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, one writer at a time on SQLite).

It prints p50 / p95 / p99 / max of each request's time as the client saw it
(failed answers included), the rate, and the answers by status: a 503 "Busy" is
retried after 50 ms, any other failure is counted and the person goes on. The
server's log goes to bench/out/next_account_server.log. ``--pause S`` makes each
person wait about S seconds (0.5 S to 1.5 S) between presses, and start at a
random moment in the first S seconds.
Every figure comes with the load average: the client, the server and PostgreSQL
share the machine's CPUs.

The default database is a SQLite file under bench/out/. For PostgreSQL, name a
scratch database that may be wiped, e.g. ``--db postgresql://postgres@127.0.0.1:55438/collectdesk_next``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import worklist as worklist_bench  # noqa: E402

from backend.db import make_engine, normalize_url  # noqa: E402
from backend.models import Account, Team, User  # noqa: E402
from backend.services.users import add_user  # noqa: E402
from collectdesk.embedded import free_port  # noqa: E402


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def people(n: int) -> tuple[list[str], list[str]]:
    return [f"nagent{i:02d}" for i in range(n)], [f"nsuper{i:02d}" for i in range(n)]


PASSWORD = "bench-next-account"


def prepare(url: str, accounts: int, n: int, build: bool = True) -> None:
    import functools

    from backend.services import users as users_svc

    # One password for every bench user, hashed once (argon2 takes a while, a hundred times over).
    users_svc.hash_password = functools.lru_cache(users_svc.hash_password)
    if build:
        engine = worklist_bench.reset(url)
        worklist_bench.build(engine, accounts)
    else:  # a database bench/worklist.py built: its accounts are dealt again
        engine = make_engine(url)
    agents, supervisors = people(n)
    started = time.perf_counter()
    with Session(engine) as session:
        for name in agents:
            add_user(session, name, PASSWORD, "agent", "A")
        for name in supervisors:
            add_user(session, name, PASSWORD, "supervisor", "A")
        session.commit()
        team = session.scalar(select(Team.id).where(Team.name == "A"))
        ids = [session.scalar(select(User.id).where(User.username == name)) for name in agents]
        # Every account into team A, dealt round the agents (id modulo n).
        for k, user_id in enumerate(ids):
            session.execute(update(Account).where(text(f"accounts.id % {n} = {k}"))
                            .values(team_id=team, agent_id=user_id), execution_options={"synchronize_session": False})
        session.commit()
    if engine.dialect.name == "postgresql":  # a million rows were rewritten: clear the dead ones out
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE accounts"))
    with engine.connect() as conn:
        accounts = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
    engine.dispose()
    print(f"{accounts:,} accounts dealt to {n} agents of team A, with {n} supervisors, in "
          f"{time.perf_counter() - started:.1f} s")


async def round_of(base: str, names: list[str], calls: int, pause: float) -> dict:
    limits = httpx.Limits(max_connections=len(names) + 5, max_keepalive_connections=len(names) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        tokens = {}
        for name in names:
            r = await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            r.raise_for_status()
            tokens[name] = r.json()["access_token"]
        # A few calls to warm up (the server's caches).
        for name in names[:5]:
            await http.post("/api/v1/worklist/next", headers={"Authorization": f"Bearer {tokens[name]}"})
        samples: list[float] = []
        statuses: dict[int | str, int] = {}
        held: dict[str, int] = {}
        failures: dict[int | str, str] = {}
        start = asyncio.Event()

        async def person(name: str) -> None:
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            await start.wait()
            rng = random.Random(name)
            if pause:  # people start at their own moment, not all in the same millisecond
                await asyncio.sleep(rng.uniform(0, pause))
            done = 0
            while done < calls:
                t0 = time.perf_counter()
                try:
                    r = await http.post("/api/v1/worklist/next", headers=headers)
                except httpx.TransportError as exc:  # the server dropped the connection
                    samples.append((time.perf_counter() - t0) * 1000)
                    statuses["dropped"] = statuses.get("dropped", 0) + 1
                    failures.setdefault("dropped", repr(exc))
                    held.pop(name, None)
                    done += 1
                    continue
                samples.append((time.perf_counter() - t0) * 1000)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code == 503:  # "Busy, retry": the client waits a little and asks again
                    await asyncio.sleep(0.05)
                    continue
                done += 1  # any other failure is counted, not retried
                if r.status_code == 200:
                    held[name] = r.json()["account"]["id"]
                else:
                    held.pop(name, None)
                    failures.setdefault(r.status_code, r.text[:200])
                if pause:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)

        tasks = [asyncio.create_task(person(n)) for n in names]
        load_before = load()
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    assert len(set(held.values())) == len(held), "two people ended up holding one account"
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    for status, body in failures.items():
        print(f"  first {status} answer: {body}")
    return {"n": len(samples), "p50": statistics.median(samples), "p95": cuts[94], "p99": cuts[98],
            "max": max(samples), "rate": len(samples) / elapsed, "elapsed": elapsed, "statuses": statuses,
            "load": f"{load_before} -> {load()}"}


@contextlib.contextmanager
def served(url: str, log_path: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``collectdesk serve`` on ``url``'s database, a free loopback port and ``workers`` workers,
    its log in ``log_path``: its base URL and process id once ``/healthz`` answers; stopped after. The server goes
    when this script does, however it ends (``--exit-with-parent``; a plain kill runs the stop)."""
    port = free_port()
    env = {**os.environ, "COLLECTDESK_DB": url, "PYTHONPATH": str(ROOT)}
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--port", str(port), "--workers",
                                   str(workers), "--log-level", "warning", "--exit-with-parent", str(os.getpid())],
                                  env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        base = f"http://127.0.0.1:{port}"
        try:
            worklist_bench.wait_healthy(base, server, 60)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'next.db'}")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--calls", type=int, default=40, help="next presses per person per round (default 40)")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="about how many seconds each person waits between presses (default 0: back to back, "
                             "all starting at once)")
    parser.add_argument("--reuse", action="store_true", help="measure the database an earlier run built")
    parser.add_argument("--deal", action="store_true",
                        help="do not build: deal the accounts of a database bench/worklist.py built (e.g. with "
                             "--accounts 1000000) to the bench's people; that database's agent1 then works none")
    args = parser.parse_args()
    url = normalize_url(args.db)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)  # the server's log
    if not args.reuse:
        prepare(url, args.accounts, args.people, build=not args.deal)
    engine = make_engine(url)
    with engine.connect() as conn:
        version = ".".join(map(str, engine.dialect.server_version_info or ()))
        total = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
    engine.dispose()

    with served(url, ROOT / "bench" / "out" / "next_account_server.log") as (base, _server):
        print(f"database: {engine.dialect.name} {version}, {total:,} accounts; one backend (collectdesk serve, "
              f"1 worker) on loopback; {args.people} people x {args.calls} calls a round; "
              f"{os.cpu_count()} CPUs; times in ms")
        agents, supervisors = people(args.people)
        print(f"\n{'round':<12} {'calls':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'per s':>7}  "
              f"answers            load (1/5/15 min) before -> after")
        for label, names in (("agents", agents), ("supervisors", supervisors)):
            r = asyncio.run(round_of(base, names, args.calls, args.pause))
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items(), key=str))
            print(f"{label:<12} {r['n']:>6} {r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {r['max']:7.1f} "
                  f"{r['rate']:7.1f}  {answers:<18} {r['load']}", flush=True)


if __name__ == "__main__":
    main()
