"""Shared fixtures: a real database (SQLite, or PostgreSQL when
``COLLECTDESK_TEST_DB`` names one), migrated once by Alembic, and every test
inside a transaction that is rolled back when it ends."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.api.deps import get_session
from backend.app import create_app
from backend.db import Database, make_engine, normalize_url, upgrade
from backend_client.client import BackendClient
from config.settings import BackendSettings

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# No desk host's /etc/collectdesk/desk.toml (nor a developer's COLLECTDESK_SYSTEM_CONFIG) in the
# tests' desks, their child processes included: the tests that want one name their own.
os.environ["COLLECTDESK_SYSTEM_CONFIG"] = os.devnull

DEMO_USERS = [
    ("agent1", "agent", "A"),
    ("agent2", "agent", "A"),
    ("agent3", "agent", "B"),
    ("super1", "supervisor", "A"),
    ("legal1", "legal", None),
    ("trainer1", "trainer", None),
    ("admin", "admin", None),
    ("service1", "service", "CS"),
]


@contextmanager
def _scratch_postgres(database: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server ``COLLECTDESK_TEST_DB`` names,
    made empty (dropping what a killed run may have left) and dropped after: its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["COLLECTDESK_TEST_DB"]).set(drivername="postgresql")

    def admin(sql: str) -> None:
        with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    admin(f"CREATE DATABASE {database}")
    try:
        yield base.set(database=database).render_as_string(hide_password=False)
    finally:
        admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture(scope="session")
def scratch_postgres() -> Callable[[str], AbstractContextManager[str]]:
    """``with scratch_postgres(name) as url:`` a scratch database on the test server
    (tests that need processes or a database of their own)."""
    return _scratch_postgres


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("COLLECTDESK_TEST_DB")
    if url:
        return normalize_url(url)
    return normalize_url(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(db_url)
    with Session(engine) as session:
        from backend.services.users import add_user

        for name, role, team in DEMO_USERS:
            add_user(session, name, name, role, team)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


def on_test_session(app, session: Session):  # noqa: ANN001, ANN201
    """``app`` serving every request on the test's ``session``, one at a time, each ending as
    in production: what it did not commit is rolled back. Returns ``app``."""
    lock = threading.Lock()

    def _session() -> Iterator[Session]:
        with lock:
            try:
                yield session
            finally:
                if session.in_transaction():
                    session.rollback()

    app.dependency_overrides[get_session] = _session
    return app


@pytest.fixture
def app(engine: Engine, db_url: str, session: Session):  # noqa: ANN201
    app = create_app(BackendSettings(db=db_url), Database(db_url, engine=engine))
    lock = threading.Lock()

    def _session() -> Iterator[Session]:
        # One connection serves the whole test, so requests take turns on it.
        with lock:
            yield session

    app.dependency_overrides[get_session] = _session
    return app


@pytest.fixture
def transport(app) -> httpx.ASGITransport:  # noqa: ANN001
    return httpx.ASGITransport(app=app)


@pytest.fixture
async def http(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
        yield client


@pytest.fixture
def login(transport: httpx.ASGITransport) -> Callable:
    """``api = await login("agent1")``: a BackendClient signed in (password = user name)."""
    clients: list[BackendClient] = []

    async def _login(username: str) -> BackendClient:
        client = BackendClient("http://backend", transport=transport)
        await client.login(username, username)
        clients.append(client)
        return client

    yield _login
    # httpx clients over ASGITransport hold no sockets; nothing to close.


@pytest.fixture
def make_account(session: Session) -> Callable:
    """Create an account through the service the API and imports use.

    A test that names a ``timezone`` means the customer is there: unless it says
    ``timezone_source`` (``record``: one place among the phones' and the address's),
    the zone is taken as confirmed by the customer, and overrides the default New
    York phone and address."""
    from backend.services.accounts import create_account
    from backend_client.models import AccountCreate

    counter = {"n": 0}

    def _make(**overrides: object):  # noqa: ANN202
        counter["n"] += 1
        n = counter["n"]
        row = {
            "account_ref": f"T{n:06d}", "customer_name": f"Customer {n}", "phones": ["+12125550100"],
            "email": f"c{n}@example.com", "address": "1 Main St, New York, NY", "country": "US", "region": "NY",
            "timezone": "America/New_York", "currency": "USD", "credit_limit": "5000.00", "balance": "1200.00",
            "overdue": "300.00", "minimum_due": "50.00", "dpd": 35, "card_number": "4111111111111111",
            "opened_on": "2020-01-15", "team": "A", "agent": "agent1",
        }
        if "timezone" in overrides and overrides["timezone"] and "timezone_source" not in overrides:
            row["timezone_source"] = "customer"
        row.update(overrides)
        account = create_account(session, AccountCreate.model_validate(row), None)
        session.commit()
        return account

    return _make


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
