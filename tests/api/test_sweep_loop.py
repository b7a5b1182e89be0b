"""The backend's daily sweep (SPEC §2 ``sweep``; issue 4 item 6): run at start-up
and then every ``sweep_hours``, its failures logged without ending the loop, off
when ``sweep_hours`` is 0, and beside the contactability loop, not instead of it.

The loop's own database is a SQLite file of the test's (the sweep commits, so it
must not run on the shared test database); its sleep is a stand-in, so nothing
waits."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

import backend.app
import backend.models
import backend.services.plans as plans_svc
from backend.app import _sweep, create_app, sweep_loop
from backend.db import Database, upgrade
from backend.models import Account, Plan, PlanEvent
from backend_client.models import AccountCreate, PlanCreate
from config.settings import BackendSettings

TODAY = dt.date(2026, 3, 11)
NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
DAY = 24 * 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def to(self, when: dt.datetime) -> None:
        self.now = when


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    state = Clock()
    original = backend.models.utcnow
    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", lambda: state.now)
    return state


@pytest.fixture
def own_db(tmp_path: Path, clock: Clock) -> Iterator[Database]:
    """A migrated SQLite file with agent1 and one account on which an instalment
    plan is active: 3 × 100.00 from tomorrow (2026-03-12)."""
    from backend.services.accounts import create_account
    from backend.services.users import add_user

    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    upgrade(url)
    db = Database(url)
    with db.sessionmaker() as session:
        agent = add_user(session, "agent1", "agent1-password", "agent", "A")
        account = create_account(session, AccountCreate.model_validate({
            "account_ref": "S-1", "customer_name": "Ann Lee", "phones": ["+12125550101"], "country": "US",
            "currency": "USD", "credit_limit": "5000", "balance": "1200.00", "overdue": "300.00",
            "minimum_due": "50.00", "dpd": 35, "card_number": "4111111111111111", "team": "A", "agent": "agent1",
        }), None)
        plan = plans_svc.draft(session, agent, account.id, PlanCreate(kind="instalment", amount="300.00", count=3,
                                                                      first_due=TODAY + dt.timedelta(days=1)))
        assert plans_svc.act(session, agent, plan.id, "submit").status == "active"
        session.commit()
    yield db
    db.engine.dispose()


class Stop(Exception):
    pass


def stopping_after(rounds: int, slept: list[float]):  # noqa: ANN201
    """A stand-in for ``asyncio.sleep`` that ends the loop after ``rounds`` rounds."""

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) >= rounds:
            raise Stop

    return sleep


def plan_state(db: Database) -> tuple[str, list[str], list[str]]:
    with db.sessionmaker() as session:
        plan = session.scalar(select(Plan))
        events = [e.status for e in session.scalars(select(PlanEvent).order_by(PlanEvent.id))]
        return plan.status, [i.status for i in plan.items], events


async def test_the_sweep_runs_at_start_up_and_then_each_period(own_db: Database, clock: Clock,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    clock.to(NOW + dt.timedelta(days=9))  # the 20th: the item due the 12th is past its 3 grace days
    slept: list[float] = []
    with caplog.at_level(logging.INFO, logger="collectdesk.backend"), pytest.raises(Stop):
        await sweep_loop(own_db, DAY, sleep=stopping_after(2, slept))
    assert slept == [DAY, DAY]  # the first round ran before any sleep: at start-up
    assert plan_state(own_db) == ("broken", ["broken", "due", "due"], ["draft", "active", "broken"])
    with own_db.sessionmaker() as session:
        account = session.scalar(select(Account).where(Account.account_ref == "S-1"))
        assert "broken_promise" in [r["code"] for r in account.reasons]
    # The second round changed nothing, so it says nothing.
    messages = [r.getMessage() for r in caplog.records if r.name == "collectdesk.backend"]
    assert messages == ["sweep as of 2026-03-20: 0 plan items kept, 1 broken; 0 plans kept, 1 broken"]


async def test_nothing_late_nothing_changes(own_db: Database, clock: Clock) -> None:
    slept: list[float] = []
    with pytest.raises(Stop):
        await sweep_loop(own_db, 3600.0, sleep=stopping_after(3, slept))
    assert slept == [3600.0] * 3
    assert plan_state(own_db) == ("active", ["due", "due", "due"], ["draft", "active"])


async def test_a_failing_sweep_is_logged_and_the_loop_goes_on(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated: every round fails
    slept: list[float] = []
    try:
        with caplog.at_level(logging.INFO, logger="collectdesk.backend"), pytest.raises(Stop):
            await sweep_loop(broken, DAY, sleep=stopping_after(3, slept))
    finally:
        broken.engine.dispose()
    assert slept == [DAY] * 3
    failures = [r for r in caplog.records if r.getMessage() == "sweep failed"]
    assert len(failures) == 3 and all(r.exc_info for r in failures)


def test_the_sweep_function_commits(own_db: Database, clock: Clock) -> None:
    clock.to(NOW + dt.timedelta(days=30))
    first = _sweep(own_db)
    assert first is not None and (first.as_of, first.items_broken, first.plans_broken) == (dt.date(2026, 4, 10), 1, 1)
    second = _sweep(own_db)
    assert second is not None and (second.items_kept, second.items_broken, second.plans_kept,
                                   second.plans_broken) == (0, 0, 0, 0)
    assert plan_state(own_db)[0] == "broken"


@pytest.mark.parametrize(("hours", "recheck", "expected"), [
    (24.0, 30.0, {"sweep": [DAY], "recheck": [30.0]}),
    (0.5, 0.0, {"sweep": [1800.0], "recheck": []}),
    (0.0, 30.0, {"sweep": [], "recheck": [30.0]}),
])
async def test_the_lifespan_starts_the_sweep_beside_the_recheck_loop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                      hours: float, recheck: float,
                                                                      expected: dict) -> None:
    started: dict[str, list[float]] = {"sweep": [], "recheck": []}
    cancelled: list[str] = []
    made: list = []

    def app_holder() -> str:
        return made[0].state.job_holder

    def fake(kind: str):  # noqa: ANN202
        async def loop(db: Database, every: float, *, holder: str | None = None) -> None:
            assert holder == app_holder()  # the app names its process in the jobs' leases
            started[kind].append(every)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(kind)
                raise

        return loop

    monkeypatch.setattr(backend.app, "sweep_loop", fake("sweep"))
    monkeypatch.setattr(backend.app, "recheck_loop", fake("recheck"))
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    db = Database(url)
    app = create_app(BackendSettings(db=url, sweep_hours=hours, recheck_seconds=recheck), db)
    made.append(app)
    async with app.router.lifespan_context(app):
        for _ in range(3):
            await asyncio.sleep(0)  # let the tasks start
        assert started == expected
    assert sorted(cancelled) == sorted(k for k, v in expected.items() if v)
    db.engine.dispose()


def test_sweep_hours_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert BackendSettings().sweep_hours == 24.0
    monkeypatch.setenv("COLLECTDESK_SWEEP_HOURS", "0")
    assert BackendSettings().sweep_hours == 0.0


def test_another_worker_sweeping_on_postgresql_is_left_to_it(engine: Engine, db_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's (SQLite writers take turns on the file)")
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": backend.app.SWEEP_LOCK_KEY})
        try:
            assert _sweep(Database(db_url, engine=engine)) is None
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": backend.app.SWEEP_LOCK_KEY})
            other.commit()

