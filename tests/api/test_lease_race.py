"""Leasing under real concurrency: several workers, each on its own database
connection (as several backend processes would be), ask for the next account at
once. None may ever hold an account another holds: PostgreSQL decides with
``SELECT … FOR UPDATE SKIP LOCKED``, SQLite by taking its one write lock first.

This test commits (the race needs separate connections), so it makes its own
team and accounts and deletes the accounts when it ends.
"""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.models import Account, Address, Customer, Phone, User
from backend.services.accounts import create_account, next_account
from backend.services.users import add_user
from backend_client.models import AccountCreate

WORKERS = 6
ROUNDS = 15


def test_concurrent_workers_never_hold_the_same_account(engine: Engine) -> None:
    names = [f"race{i}" for i in range(WORKERS)]
    with Session(engine) as session:
        for name in names:
            add_user(session, name, name, "supervisor", "RACE")
        accounts = [
            create_account(session, AccountCreate(
                account_ref=f"RACE{n:04d}", customer_name=f"Racer {n}", phones=["+12125550100"], currency="USD",
                credit_limit="1000.00", balance="500.00", overdue="100.00", minimum_due="10.00", dpd=n % 170,
                card_number="4111111111111111", team="RACE", timezone="America/New_York"), None)
            for n in range(WORKERS * 3)
        ]
        session.commit()
        ids = [a.id for a in accounts]
        customer_ids = [a.customer_id for a in accounts]

    problems: list[str] = []
    leased = [0]
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker(name: str) -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                with Session(engine, expire_on_commit=False) as session:
                    user = session.scalar(select(User).where(User.username == name))
                    account, _expires = next_account(session, user, 15)
                    mine, user_id = account.id, user.id
                with lock:
                    leased[0] += 1
                time.sleep(random.uniform(0, 0.01))
                with Session(engine) as session:
                    holder = session.scalar(select(Account.lease_user_id).where(Account.id == mine))
                if holder != user_id:
                    with lock:
                        problems.append(f"{name} leased account {mine} but user {holder} holds it")
        except ProblemError as exc:
            with lock:
                problems.append(f"{name}: {exc.status} {exc}")
        except Exception as exc:  # noqa: BLE001 - reported below with the worker's name
            with lock:
                problems.append(f"{name}: {type(exc).__name__}: {exc}")

    try:
        threads = [threading.Thread(target=worker, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a worker hung"
        assert problems == []
        assert leased[0] == WORKERS * ROUNDS
        with Session(engine) as session:
            holders = session.scalars(select(Account.lease_user_id).where(Account.id.in_(ids),
                                                                          Account.lease_user_id.is_not(None))).all()
        # Each worker ends holding exactly one account, and no two the same.
        assert len(holders) == len(set(holders)) == WORKERS
    finally:
        with Session(engine) as session:
            session.execute(delete(Account).where(Account.id.in_(ids)))
            session.execute(delete(Phone).where(Phone.customer_id.in_(customer_ids)))
            session.execute(delete(Address).where(Address.customer_id.in_(customer_ids)))
            session.execute(delete(Customer).where(Customer.id.in_(customer_ids)))
            session.commit()
