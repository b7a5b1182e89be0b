"""Safe hand-out at scale (issue 6, item 5): four backend processes on one
PostgreSQL database, twenty people pressing *next account* at once, 1,000 times
in all; never is one account held by two of them at the same time.

Who competes: an agent's worklist (and so their *next*) is only the accounts
assigned to them (``worklist_query``: ``Account.agent_id == user.id``), so two
agents never ask for the same account, by design. The people who do compete are
a team's supervisors, whose worklist is the whole team, and each agent with
those supervisors for the agent's own accounts. So the twenty are ten agents of
one team, each with 20 accounts, and ten supervisors of that team: every
supervisor goes for the team's top unheld account, which is also the top of
some agent's list.

How "held" is judged, from the answers alone: a worker surely holds the account
of its answer from the moment the answer arrived until it sent its next
request (that request lets go of it), or until the end. Two such intervals of
the same account for two workers must never overlap. At the end, the database
must agree: each worker holds exactly the account of its last answer.

Runs only when ``COLLECTDESK_TEST_DB`` is a PostgreSQL URL. It makes its own
database ``collectdesk_handout`` on that server (the shared test database is
wiped by other fixtures), migrates it with ``collectdesk db upgrade``, starts
four ``collectdesk serve`` children on free loopback ports, and stops them and
drops the database when it ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest

TEST_DB = os.environ.get("COLLECTDESK_TEST_DB", "")
pytestmark = pytest.mark.skipif(not TEST_DB.startswith(("postgresql", "postgres:")),
                                reason="needs COLLECTDESK_TEST_DB=postgresql://…")

DATABASE = "collectdesk_handout"
TEAM = "HANDOUT"
SERVERS = 4
AGENTS = 10
SUPERVISORS = 10
ACCOUNTS_PER_AGENT = 20
CALLS = 1000


def _row(n: int, agent: str) -> dict:
    zones = ("America/New_York", "Asia/Shanghai", "Asia/Taipei", "America/Los_Angeles")
    return {"account_ref": f"HAND{n:05d}", "customer_name": f"Handout Customer {n}", "phones": ["+12125550100"],
            "currency": "USD", "credit_limit": "5000.00", "balance": f"{1000 + n * 7}.00",
            "overdue": f"{100 + (n * 37) % 900}.00", "minimum_due": "25.00", "dpd": 5 + (n * 13) % 170,
            "card_number": "4111111111111111", "team": TEAM, "agent": agent, "timezone": zones[n % len(zones)]}


@pytest.fixture(scope="module")
def handout_db(scratch_postgres) -> Iterator[str]:  # noqa: ANN001
    with scratch_postgres(DATABASE) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTDESK_")}
        done = subprocess.run([sys.executable, "-m", "collectdesk", "db", "upgrade", "--db", url],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr

        from sqlalchemy.orm import Session

        from backend.db import make_engine, normalize_url
        from backend.services.accounts import create_account
        from backend.services.users import add_user
        from backend_client.models import AccountCreate

        engine = make_engine(normalize_url(url))
        try:
            with Session(engine) as session:
                for i in range(AGENTS):
                    add_user(session, f"hagent{i:02d}", f"hagent{i:02d}", "agent", TEAM)
                for i in range(SUPERVISORS):
                    add_user(session, f"hsuper{i:02d}", f"hsuper{i:02d}", "supervisor", TEAM)
                for n in range(AGENTS * ACCOUNTS_PER_AGENT):
                    create_account(session, AccountCreate.model_validate(_row(n, f"hagent{n % AGENTS:02d}")), None)
                session.commit()
        finally:
            engine.dispose()
        yield url


@pytest.fixture(scope="module")
def servers(handout_db: str) -> Iterator[list[str]]:
    """Four ``collectdesk serve`` processes (one uvicorn worker each) on the one database."""
    from collectdesk.embedded import EmbeddedBackend

    backends = [EmbeddedBackend(handout_db, migrate=False, timeout=90) for _ in range(SERVERS)]
    try:
        # Start them side by side: each takes a few seconds to import the backend.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(SERVERS) as pool:
            urls = list(pool.map(lambda b: b.start(), backends))
        yield urls
    finally:
        pids = [b.process.pid for b in backends if b.process is not None]
        for backend in backends:
            backend.stop()
        for pid in pids:  # none left behind (stop() waits, and kills after 10 s)
            assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), f"backend {pid} still running"


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


async def test_twenty_workers_on_four_backends_never_hold_the_same_account(servers: list[str],
                                                                           handout_db: str) -> None:
    workers = [f"hagent{i:02d}" for i in range(AGENTS)] + [f"hsuper{i:02d}" for i in range(SUPERVISORS)]
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=len(workers)))
               for url in servers]
    try:
        tokens: dict[str, str] = {}
        for n, name in enumerate(workers):
            r = await clients[n % SERVERS].post("/api/v1/auth/login", json={"username": name, "password": name})
            assert r.status_code == 200, r.text
            tokens[name] = r.json()["access_token"]

        calls = itertools.count()  # 1,000 calls in all, taken by whoever is free
        # per worker: (account id, answer received, next request sent) per lease
        leases: dict[str, list[list]] = defaultdict(list)
        busy: list[tuple[str, int]] = []  # 503 answers (allowed: the client retries)
        dropped: list[tuple[str, int]] = []  # connections closed under a request (retried)
        problems: list[str] = []
        per_server = [0] * SERVERS
        rng = random.Random(6)
        start = asyncio.Event()
        t0 = time.perf_counter()

        async def work(name: str, offset: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            await start.wait()
            k = offset
            while next(calls) < CALLS:
                while True:
                    server = k % SERVERS  # each call on the next server: a lease taken on one is let go on another
                    k += 1
                    sent = time.perf_counter()
                    if leases[name]:
                        leases[name][-1][2] = sent  # from now on the previous account may be let go
                    try:
                        r = await clients[server].post("/api/v1/worklist/next", headers=headers)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # A kept-alive connection the server closed as this request went out
                        # (uvicorn's keep-alive timeout, on a loaded machine): no answer, so nothing
                        # was seen held; this worker's next request lets go of what it took.
                        dropped.append((name, server))
                        continue
                    received = time.perf_counter()
                    per_server[server] += 1
                    if r.status_code == 503:
                        busy.append((name, server))
                        await asyncio.sleep(0.05)
                        continue
                    if r.status_code != 200:
                        problems.append(f"{name} on server {server}: {r.status_code} {r.text[:300]}")
                        return
                    break
                account = r.json()["account"]
                if name.startswith("hagent") and account["agent"] != name:
                    problems.append(f"{name} was given account {account['id']} of {account['agent']}")
                leases[name].append([account["id"], received, float("inf")])
                await asyncio.sleep(rng.uniform(0, 0.02))  # a glance at the account before the next

        tasks = [asyncio.create_task(work(name, i)) for i, name in enumerate(workers)]
        start.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=150)
        elapsed = time.perf_counter() - t0
    finally:
        for client in clients:
            await client.aclose()

    assert problems == []
    got = sum(len(v) for v in leases.values())
    assert got == CALLS
    assert all(per_server), per_server

    # Never two workers holding one account at once.
    by_account: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
    for name, held in leases.items():
        for account_id, since, until in held:
            by_account[account_id].append((since, until, name))
    clashes = []
    for account_id, spans in by_account.items():
        spans.sort()
        latest_end, latest_name = float("-inf"), None
        for since, until, name in spans:
            if since < latest_end and name != latest_name:
                clashes.append(f"account {account_id}: {name} got it at {since - t0:.3f} s while {latest_name} "
                               f"held it until at least {latest_end - t0:.3f} s")
            if until > latest_end:
                latest_end, latest_name = until, name
    assert clashes == []
    # The accounts really were fought over: the same account went to several workers.
    shared = [a for a, spans in by_account.items() if len({n for _s, _u, n in spans}) >= 3]
    assert len(shared) >= 10, f"only {len(shared)} accounts went to three workers or more: no contention"

    # The database agrees: each worker holds exactly the account of its last answer, and nothing else is held.
    from sqlalchemy import create_engine, text

    engine = create_engine(handout_db.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            held = dict(conn.execute(text(
                "SELECT u.username, a.id FROM accounts a JOIN users u ON u.id = a.lease_user_id "
                "WHERE a.lease_user_id IS NOT NULL")).all())
            counted = conn.execute(text("SELECT count(*) FROM accounts WHERE lease_user_id IS NOT NULL")).scalar()
    finally:
        engine.dispose()
    assert counted == len(held) == len(workers)
    assert held == {name: v[-1][0] for name, v in leases.items()}
    print(f"\n{CALLS} leases in {elapsed:.1f} s over {SERVERS} backends {per_server}; {len(by_account)} accounts "
          f"leased, {len(shared)} of them to three workers or more; {len(busy)} answers 503 (retried), {len(dropped)} "
          f"connections closed under a request (retried)")
