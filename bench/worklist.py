"""Worklist latency at scale: ``GET /api/v1/worklist`` and ``POST /api/v1/worklist/next``.

    python bench/worklist.py [--db URL] [--accounts 100000] [--requests 200] [--skip-http]

Builds a scratch database (the real schema, made by Alembic; the database is
wiped first) with ``--accounts`` accounts spread like the demo over agent1 and
agent2 (team A) and agent3 (team B), inserted in bulk. Then, for agent1, it
prints p50/p95 over ``--requests`` requests of:

- the first page and a deep page (a cursor 80 % of the way down agent1's list),
  each without and with a search ``q`` (a common surname); and a rare search
  (one account reference), the worst case for ``q``;
- ``POST /worklist/next`` (lease the next account, let go of the previous one);

both in-process (the service function, on a fresh session per request, as the
route runs it) and over real HTTP to a uvicorn server on loopback (one worker,
keep-alive client). It also prints the query plans (EXPLAIN) of the page query,
to show the composite index (agent_id, priority, id) at work. Target: p95 ≤ 50 ms
(issue 6; it was 25 ms for issue 2's worklist without contactability).

The default database is a SQLite file under bench/out/. For PostgreSQL, name a
scratch database that may be wiped, e.g. ``--db postgresql://postgres@127.0.0.1:55432/collectdesk_bench``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.compliance.engine import Subject, contact_state  # noqa: E402
from backend.compliance.policy import applicable, default_policies  # noqa: E402
from backend.db import Database, make_engine, normalize_url, upgrade  # noqa: E402
from backend.domain.accounts import bucket_for  # noqa: E402
from backend.domain.strategy import RankInputs, load_split, rank  # noqa: E402
from backend.domain.zones import phone_region, phone_zones  # noqa: E402
from backend.models import EPOCH, Account, Address, Customer, Phone, Team, User  # noqa: E402
from backend.scoring.bench import histories  # noqa: E402
from backend.services import accounts as accounts_svc  # noqa: E402
from backend.services import ranking as ranking_svc  # noqa: E402
from backend.services.compliance import block_dicts  # noqa: E402
from backend.services.contactability import zones_from  # noqa: E402
from backend.services.users import add_user  # noqa: E402
from backend_client.money import exponent  # noqa: E402

USERS = [("agent1", "agent", "A"), ("agent2", "agent", "A"), ("agent3", "agent", "B"), ("super1", "supervisor", "A"),
         ("admin", "admin", None)]
OWNERS = [("A", "agent1"), ("A", "agent2"), ("B", "agent3")]
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "María",
         "Élodie", "Nguyen", "Aisha", "Olga", "Hiroshi"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
        "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts"]
CHINESE = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵强", "吴芳", "周杰", "林志明", "陳怡君", "黃淑芬"]
PHONES = [("+1212555", "US"), ("+1312555", "US"), ("+1415555", "US"), ("+1303555", "US"), ("+1602555", "US"),
          ("+1808555", "US"), ("+86138", "CN"), ("+8869", "TW")]
ZONES = {"US": ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Denver", "America/Phoenix",
                "Pacific/Honolulu", None, None], "CN": ["Asia/Shanghai", None], "TW": ["Asia/Taipei", None]}
CURRENCY = {"US": "USD", "CN": "CNY", "TW": "TWD"}
COMMON_Q = "smith"
#: Answers that lapse before each "lapsed" page.
LAPSING = 50


# --------------------------------------------------------------------------
# Building the portfolio


def reset(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        engine.dispose()
        path = Path(engine.url.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
    upgrade(url, engine)
    return engine


def build(engine: Engine, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        for name, role, team in USERS:
            add_user(session, name, name, role, team)
        session.commit()
        teams = {t.name: t.id for t in session.scalars(select(Team))}
        users = {u.username: u.id for u in session.scalars(select(User))}
    zones_of_prefix = {prefix: phone_zones(prefix + "0100" if len(prefix) > 6 else prefix + "12345678")
                       for prefix, _ in PHONES}
    policies = default_policies()
    split = load_split()
    # Every account gets one of the real statement histories (cycled), scored as the
    # service scores it; the risk of each history is worked out once (not what is measured).
    real, _ = histories()
    risks = [ranking_svc.risk_of(h) for h in real]
    batch = 5000
    states: dict[tuple, Any] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        for first_id in range(1, n + 1, batch):
            customers, phones, addresses, accounts = [], [], [], []
            for i in range(first_id, min(first_id + batch, n + 1)):
                prefix, country = rng.choice(PHONES)
                if country == "US":
                    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    number = f"{prefix}{rng.randint(0, 9999):04d}"
                else:
                    name = rng.choice(CHINESE)
                    number = f"{prefix}{rng.randint(0, 10**8 - 1):08d}"
                customers.append({"id": i, "name": name, "email": f"c{i}@example.com",
                                  "timezone": rng.choice(ZONES[country]), "country": country, "region": None,
                                  "language": None, "created_at": now})
                phones.append({"customer_id": i, "number": number, "kind": "mobile", "position": 0,
                               "region": country, "timezones": zones_of_prefix[prefix], "do_not_call": False})
                addresses.append({"customer_id": i, "text": f"{rng.randint(1, 999)} Main St", "country": country,
                                  "region": None})
                currency = CURRENCY[country]
                dpd = rng.choice([0, rng.randint(1, 29), rng.randint(30, 120), rng.randint(30, 120), rng.randint(121, 250)])
                balance = rng.randint(10_000, 2_000_000)
                overdue = min(balance, rng.randint(1_000, 500_000)) if dpd else 0
                flags = {"dispute": True} if rng.random() < 0.03 else {}
                zones = tuple(zones_from(customers[-1]["timezone"], [zones_of_prefix[prefix]], [country], country))
                # With no contacts and no number on a do-not-call list, the engine's answer at
                # ``now`` depends only on the zones, the country and the flags: asked once per kind.
                key = (zones, country, bool(flags))
                state = states.get(key)
                if state is None:
                    state = states[key] = contact_state(applicable(policies, country, None), Subject(
                        zones=zones, country=country, flags=flags, phones=(number,)), [], "phone", now)
                ref = f"BNK{i:08d}"
                strategy = split.for_account(ref)
                history = real[i % len(real)]
                p_default, risk_reasons = risks[i % len(real)]
                priority = rank(strategy, RankInputs(dpd=dpd, bucket=bucket_for(dpd), overdue_minor=overdue,
                                                     currency=currency, exponent=exponent(currency),
                                                     p_default=p_default, risk_reasons=tuple(risk_reasons),
                                                     paused=bool(flags), contactable=state.allowed))
                team, agent = OWNERS[i % 3]
                accounts.append({
                    "id": i, "account_ref": ref, "customer_id": i, "currency": currency,
                    "card_bin": f"{rng.choice([4, 5])}{rng.randint(0, 99999):05d}", "card_last4": f"{rng.randint(0, 9999):04d}",
                    "credit_limit_minor": balance + rng.randint(0, 1_000_000), "balance_minor": balance,
                    "overdue_minor": overdue, "minimum_due_minor": overdue // 10, "dpd": dpd, "bucket": bucket_for(dpd),
                    "status": "charged_off" if dpd >= 180 else "open", "opened_on": dt.date(2015 + i % 9, 1 + i % 12, 1),
                    "flags": flags, "team_id": teams[team], "agent_id": users[agent], "priority": priority.value, "strategy": strategy.id,
                    "reasons": [r.as_dict() for r in priority.reasons], "contactable": state.allowed,
                    "next_contact_at": state.next_at if not state.allowed else None,
                    "contact_blocks": block_dicts(state.blocks), "recheck_at": state.recheck_at, "history": history, "risk": p_default, "lease_user_id": None,
                    "lease_expires_at": None, "version": 1, "created_at": now, "updated_at": now,
                })
            conn.execute(insert(Customer.__table__), customers)
            conn.execute(insert(Phone.__table__), phones)
            conn.execute(insert(Address.__table__), addresses)
            conn.execute(insert(Account.__table__), accounts)
        if engine.dialect.name == "postgresql":
            for table in ("customers", "accounts"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
    assert phone_region("+12125550100") == "US"
    print(f"built {n:,} accounts in {time.perf_counter() - started:.1f} s")


# --------------------------------------------------------------------------
# Measuring


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


def timed(fn: Callable[[], Any], runs: int, warmup: int = 5) -> tuple[float, float, float]:
    """p50 and p95 of the wall time, and the median CPU time of this thread (the
    client, and in-process the service and SQLite too; not PostgreSQL's server nor,
    over HTTP, uvicorn's): on a shared machine the wall time also counts the wait
    for a CPU, which the CPU time does not."""
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return *percentiles(samples), statistics.median(cpu)


def cursor_at(session: Session, user: User, fraction: float, q: str | None = None, index: str = "scan") -> str:
    """A cursor ``fraction`` of the way down the user's (searched) worklist."""
    stmt = accounts_svc.worklist_statement(user, limit=10**9, q=q, index=index)
    rows = session.execute(stmt.with_only_columns(Account.priority, Account.id)).all()
    priority, account_id = rows[int(len(rows) * fraction)]
    return accounts_svc._encode_cursor(priority, account_id)


def explain(engine: Engine, stmt: Any) -> str:
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + str(compiled), compiled.params).all()
        else:
            params = tuple(compiled.params[k] for k in compiled.positiontup or ())
            rows = [(f"{r[3]}",) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()]
    return "\n".join("    " + r[0] for r in rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen, seconds: float) -> None:  # type: ignore[type-arg]
    """Until the server at ``base`` answers ``/healthz``; ``SystemExit`` if it has not within
    ``seconds`` or its process ended."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'worklist.db'}")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is (built by an earlier run)")
    parser.add_argument("--build-only", action="store_true", help="build the database and stop (measure it later "
                        "with --reuse, e.g. when building two databases at once)")
    args = parser.parse_args()
    url = normalize_url(args.db)
    if url.startswith("sqlite"):
        (ROOT / "bench" / "out").mkdir(exist_ok=True)
    engine = make_engine(url) if args.reuse else reset(url)
    if not args.reuse:
        build(engine, args.accounts)
        if args.build_only:
            return
    db = Database(url, engine=engine)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"database: {engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info or ()))}, "
          f"{args.requests} requests per figure, times in ms; {os.cpu_count()} CPUs, load average {load}")

    with db.sessionmaker() as session:
        agent = session.scalar(select(User).where(User.username == "agent1"))
        assert agent is not None
        index = accounts_svc.search_index(session)
        own = len(session.execute(accounts_svc.worklist_statement(agent, limit=10**9).with_only_columns(Account.id)).all())
        matching = len(session.execute(accounts_svc.worklist_statement(agent, limit=10**9, q=COMMON_Q, index=index)
                                       .with_only_columns(Account.id)).all())
        deep = cursor_at(session, agent, 0.8)
        deep_q = cursor_at(session, agent, 0.8, COMMON_Q, index)
        rare = session.scalar(accounts_svc.worklist_statement(agent, limit=10**9).with_only_columns(Account.account_ref)
                              .order_by(None).order_by(Account.priority.asc()).limit(1))
    print(f"agent1 works {own:,} accounts; q={COMMON_Q!r} matches {matching:,}; rare q={rare!r} matches 1; "
          f"search index: {index}")
    cases = {
        "first page": {},
        "deep page (80%)": {"cursor": deep},
        f"first page, q={COMMON_Q}": {"q": COMMON_Q},
        f"deep page, q={COMMON_Q}": {"q": COMMON_Q, "cursor": deep_q},
        "rare q (one account_ref)": {"q": rare},
    }

    print("\nquery plans (agent1), as the service plans each search (accounts_svc.search_plan):")
    for label in cases:
        with db.sessionmaker() as session:
            plan, matches = accounts_svc.search_plan(session, cases[label].get("q"))
        print(f"  {label}: (search: {plan}{f', {len(matches)} matches known' if matches is not None else ''})")
        print(explain(engine, accounts_svc.worklist_statement(agent, limit=50, index=plan, matches=matches,
                                                              **cases[label])))

    results: list[tuple[str, str, float, float, float | None]] = []

    def service_page(params: dict) -> Callable[[], None]:
        def run() -> None:
            with db.sessionmaker() as session:
                user = session.get(User, agent.id)
                page = accounts_svc.worklist(session, user, limit=50, **params)
                assert page.items
        return run

    for label, params in cases.items():
        results.append(("in-process", f"GET worklist: {label}", *timed(service_page(params), args.requests)))

    def service_next() -> None:
        with db.sessionmaker() as session:
            user = session.get(User, agent.id)
            accounts_svc.next_account(session, user, 15)

    results.append(("in-process", "POST worklist/next", *timed(service_next, args.requests)))

    # Contactability: a call window opening or closing makes many answers lapse at
    # once. 50 more of agent1's answers lapse before each page; the page re-evaluates
    # up to REFRESH_ON_READ of the caller's own first (the loop does the rest).
    with db.sessionmaker() as session:
        own_ids = list(session.scalars(select(Account.id).where(Account.agent_id == agent.id)))
    rng = random.Random(11)
    lapsed_samples = []
    for i in range(min(args.requests, 100) + 3):
        with db.sessionmaker() as session:
            session.execute(update(Account).where(Account.id.in_(rng.sample(own_ids, LAPSING)))
                            .values(recheck_at=EPOCH))
            session.commit()
        t0 = time.perf_counter()
        service_page({})()
        if i >= 3:
            lapsed_samples.append((time.perf_counter() - t0) * 1000)
    results.append(("in-process", f"GET worklist: {LAPSING} lapsed, {accounts_svc.REFRESH_ON_READ} redone",
                    *percentiles(lapsed_samples), None))
    lapsed = min(20_000, len(own_ids))
    with db.sessionmaker() as session:
        session.execute(update(Account).where(Account.id.in_(own_ids[:lapsed])).values(recheck_at=EPOCH))
        session.commit()
        t0 = time.perf_counter()
        done = ranking_svc.refresh_all_due(session)
        took = time.perf_counter() - t0
    print(f"\nre-evaluating lapsed answers (the background loop): {done:,} accounts in {took:.1f} s, "
          f"{done / took:,.0f} per second")

    if not args.skip_http:
        port = free_port()
        env = {**os.environ, "COLLECTDESK_DB": url, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, server, 30)
            with httpx.Client(base_url=base, timeout=30) as http:
                token = http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"}).json()
                http.headers["Authorization"] = f"Bearer {token['access_token']}"

                def http_page(params: dict) -> Callable[[], None]:
                    def run() -> None:
                        response = http.get("/api/v1/worklist", params={"limit": 50, **params})
                        assert response.status_code == 200 and response.json()["items"], response.text
                    return run

                for label, params in cases.items():
                    results.append(("HTTP", f"GET worklist: {label}", *timed(http_page(params), args.requests)))

                def http_next() -> None:
                    response = http.post("/api/v1/worklist/next")
                    assert response.status_code == 200, response.text

                results.append(("HTTP", "POST worklist/next", *timed(http_next, args.requests)))
        finally:
            server.terminate()
            server.wait(timeout=10)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average now {load}; cpu: median CPU time of the measuring thread (in-process: client and "
          f"service; not PostgreSQL's server)")
    print(f"{'how':<11} {'what':<42} {'p50':>7} {'p95':>7} {'cpu':>7}")
    for how, what, p50, p95, cpu in results:
        flag = "" if p95 <= 50 else "  > 50 ms"
        shown = f"{cpu:7.2f}" if cpu is not None and how == "in-process" else f"{'':>7}"
        print(f"{how:<11} {what:<42} {p50:7.2f} {p95:7.2f} {shown}{flag}")


if __name__ == "__main__":
    main()
