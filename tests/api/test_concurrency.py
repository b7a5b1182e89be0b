"""The backend under real concurrency: workers on their own database connections
(as several backend processes, or one process's thread pool, would be) at once.

- Leasing: none may ever hold an account another holds (PostgreSQL decides with
  ``SELECT … FOR UPDATE SKIP LOCKED``, SQLite by each transaction taking the one
  write lock when it begins).
- Writes: contacts, notes and edits from many workers at once all succeed or are
  refused for a reason (412), never fail (no "database is locked").
- A duplicate account_ref created twice at once is one 201 and 409s; a retry with
  the same Idempotency-Key sent twice at once is one row and the same answer.

These tests commit (a race needs separate connections), so they make their own
team and accounts, and delete what they made when they end.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from backend.api.errors import from_domain
from backend.app import create_app
from backend.db import Database
from backend.domain.errors import DomainError
from backend.models import (
    Account,
    Address,
    AuditEntry,
    Contact,
    Customer,
    FlagPeriod,
    IdempotencyKey,
    Note,
    Phone,
    User,
)
from backend.services.accounts import create_account, next_account
from backend.services.users import add_user
from backend_client.models import AccountCreate
from config.settings import BackendSettings

WORKERS = 6
ROUNDS = 12


def _row(n: int, ref: str | None = None) -> dict:
    return {"account_ref": ref or f"RACE{n:04d}", "customer_name": f"Racer {n}", "phones": ["+12125550100"],
            "currency": "USD", "credit_limit": "1000.00", "balance": "500.00", "overdue": "100.00",
            "minimum_due": "10.00", "dpd": n % 170, "card_number": "4111111111111111", "team": "RACE",
            "timezone": "America/New_York"}


@pytest.fixture
def race(engine: Engine) -> Iterator[dict]:
    """Workers race1… (supervisors of team RACE) and a few committed accounts; cleaned up after."""
    names = [f"race{i}" for i in range(WORKERS)]
    with Session(engine) as session:
        for name in names:
            add_user(session, name, name, "supervisor", "RACE")
        accounts = [create_account(session, AccountCreate.model_validate(_row(n)), None) for n in range(WORKERS * 3)]
        session.commit()
        ids = [a.id for a in accounts]
    made = {"names": names, "ids": ids, "refs": []}
    try:
        yield made
    finally:
        with Session(engine) as session:
            every = session.scalars(select(Account.id).where(
                Account.id.in_(ids) | Account.account_ref.in_(made["refs"]))).all()
            customers = session.scalars(select(Account.customer_id).where(Account.id.in_(every))).all()
            users = session.scalars(select(User.id).where(User.username.in_(names + ["admin"]))).all()
            session.execute(delete(Contact).where(Contact.account_id.in_(every)))
            session.execute(delete(Note).where(Note.account_id.in_(every)))
            session.execute(delete(FlagPeriod).where(FlagPeriod.account_id.in_(every)))
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(users)))
            session.execute(delete(Account).where(Account.id.in_(every)))
            for table in (Phone, Address):
                session.execute(delete(table).where(table.customer_id.in_(customers)))
            session.execute(delete(Customer).where(Customer.id.in_(customers)))
            session.commit()


def _run(workers: list[Callable[[], None]]) -> list[str]:
    """Start the workers together; answer what went wrong in any of them."""
    problems: list[str] = []
    start = threading.Barrier(len(workers))

    def wrap(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=wrap, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return problems


def _client_app(engine: Engine, db_url: str):  # noqa: ANN202
    """The real app, each request on its own session and connection (no test transaction)."""
    return create_app(BackendSettings(db=db_url), Database(db_url, engine=engine))


def _token(app, name: str) -> str:  # noqa: ANN001
    async def login() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
            response = await http.post("/api/v1/auth/login", json={"username": name, "password": name})
            assert response.status_code == 200, response.text
            return response.json()["access_token"]

    return asyncio.run(login())


def test_concurrent_workers_never_hold_the_same_account(engine: Engine, race: dict) -> None:
    holders: dict[str, int] = {}
    lock = threading.Lock()
    stolen: list[str] = []

    def worker(name: str) -> Callable[[], None]:
        def work() -> None:
            for _ in range(ROUNDS):
                with Session(engine, expire_on_commit=False) as session:
                    user = session.scalar(select(User).where(User.username == name))
                    try:
                        account, _expires = next_account(session, user, 15)
                        session.commit()  # as the request's unit of work does
                    except DomainError as exc:
                        raise AssertionError(f"{name}: {from_domain(exc).status} {exc}") from None
                    mine, user_id = account.id, user.id
                with lock:
                    holders[name] = mine
                time.sleep(random.uniform(0, 0.01))
                with Session(engine) as session:
                    holder = session.scalar(select(Account.lease_user_id).where(Account.id == mine))
                if holder != user_id:
                    stolen.append(f"{name} leased account {mine} but user {holder} holds it")

        return work

    assert _run([worker(n) for n in race["names"]]) == []
    assert stolen == []
    with Session(engine) as session:
        held = session.scalars(select(Account.lease_user_id).where(Account.id.in_(race["ids"]),
                                                                   Account.lease_user_id.is_not(None))).all()
    # Each worker ends holding exactly one account, and no two the same.
    assert len(held) == len(set(held)) == WORKERS


def test_concurrent_writes_all_succeed(engine: Engine, db_url: str, race: dict) -> None:
    app = _client_app(engine, db_url)
    tokens = {name: _token(app, name) for name in race["names"]}
    target = race["ids"][0]
    statuses: list[tuple[str, int]] = []

    def worker(name: str) -> Callable[[], None]:
        async def work() -> None:
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
                for i in range(ROUNDS):
                    r = await http.post(f"/api/v1/accounts/{target}/contacts", headers=headers,
                                        json={"channel": "letter", "outcome": "NA", "note": f"{name} {i}"})
                    statuses.append(("contact", r.status_code))
                    r = await http.post(f"/api/v1/accounts/{target}/notes", headers=headers, json={"text": f"{name} {i}"})
                    statuses.append(("note", r.status_code))
                    r = await http.get(f"/api/v1/accounts/{target}", headers=headers)
                    statuses.append(("get", r.status_code))
                    body = {"flags": {"hardship": i % 2 == 0}, "flags_note": "race"}  # a lift says why
                    r = await http.patch(f"/api/v1/accounts/{target}", json=body,
                                         headers={**headers, "If-Match": str(r.json()["version"])})
                    statuses.append(("patch", r.status_code))
                    await http.get("/api/v1/worklist", headers=headers)

        return lambda: asyncio.run(work())

    assert _run([worker(n) for n in race["names"]]) == []
    assert {s for s in statuses if s[0] != "patch"} <= {("contact", 201), ("note", 201), ("get", 200)}
    patches = [code for kind, code in statuses if kind == "patch"]
    assert set(patches) <= {200, 412} and 200 in patches
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == target)) == WORKERS * ROUNDS
        assert session.scalar(select(func.count()).select_from(Note).where(Note.account_id == target)) == WORKERS * ROUNDS
        version = session.scalar(select(Account.version).where(Account.id == target))
    assert version == 1 + patches.count(200)


def test_same_account_created_twice_at_once_is_one_201(engine: Engine, db_url: str, race: dict) -> None:
    app = _client_app(engine, db_url)
    token = _token(app, "admin")
    race["refs"].append("RACE-DUP")
    answers: list[int] = []

    def work() -> None:
        async def post() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
                r = await http.post("/api/v1/accounts", json=_row(999, "RACE-DUP"),
                                    headers={"Authorization": f"Bearer {token}"})
                answers.append(r.status_code)

        asyncio.run(post())

    assert _run([work] * WORKERS) == []
    assert sorted(answers) == [201] + [409] * (WORKERS - 1)


def test_same_idempotency_key_at_once_is_one_row(engine: Engine, db_url: str, race: dict) -> None:
    app = _client_app(engine, db_url)
    token = _token(app, race["names"][0])
    target = race["ids"][1]
    answers: list[tuple[int, str]] = []

    def work() -> None:
        async def post() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
                r = await http.post(f"/api/v1/accounts/{target}/contacts", json={"channel": "letter", "outcome": "NA"},
                                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same-retry"})
                answers.append((r.status_code, r.text))

        asyncio.run(post())

    assert _run([work] * WORKERS) == []
    assert {status for status, _ in answers} == {201}
    assert len({text for _, text in answers}) == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact).where(Contact.account_id == target)) == 1
        created = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "contact", AuditEntry.action == "create",
            AuditEntry.detail["account_id"].as_integer() == target))
    assert created == 1
